import { readFile } from "node:fs/promises";
import { type ParseResult, parseSpec } from "./parse.js";

/** Reads a spec file (YAML or JSON). An unreadable file is a problem like any other, not a crash. */
export async function loadSpecFile(path: string): Promise<ParseResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    return {
      ok: false,
      problems: [
        { code: "FILE_NOT_READABLE", severity: "error", path: "", message: `cannot read ${path}: ${reason}` },
      ],
    };
  }
  return parseSpec(text, path);
}
