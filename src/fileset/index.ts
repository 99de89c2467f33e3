/**
 * The FileSet: what generators return, validators check and the writer writes. It sits below all
 * three, so none of them imports another to name it.
 */
/**
 * Relative POSIX path -> file content: relative POSIX path -> file content. Paths never start
 * with "/" and never contain "..": the writer refuses them anyway.
 */
export type FileSet = Record<string, FileContent>;

/** What text-only generators return. */
export type TextFileSet = Record<string, string>;

/** Text, or bytes for binary files (the platform's sample ONNX model). */
export type FileContent = string | Uint8Array;

/** The text files of a set (validators and scanners skip binary content). */
export function textEntries(files: FileSet): Array<[string, string]> {
  return Object.entries(files).filter((entry): entry is [string, string] => typeof entry[1] === "string");
}

/** Merges file sets; two targets writing the same path is a bug, reported with the path. */
export function mergeFileSets(...sets: FileSet[]): FileSet {
  const out: FileSet = {};
  for (const set of sets) {
    for (const [path, content] of Object.entries(set)) {
      if (path in out) throw new Error(`two generators produced the same file: ${path}`);
      out[path] = content;
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** File counts per top directory (docs/adr, infra/terraform/aws, platform/models, ...), sorted. */
export function countByDirectory(paths: readonly string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const path of paths) {
    const dirs = path.split("/").slice(0, -1);
    const depth = dirs[0] === "docs" || dirs[0] === ".github" || dirs[0] === "platform" ? 2 : 3;
    const key = dirs.slice(0, depth).join("/") || ".";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The first line of every generated file whose format allows a comment. Built from two parts so that
 * this source file never carries the marker itself (a search for the marker finds generated files only).
 */
export const GENERATED_HEADER = ["generated", "by stackwright — do not edit; change stackwright.yaml"].join(
  " ",
);
