/** Golden files: compared byte for byte; `UPDATE_GOLDEN=1 npx vitest run` rewrites them. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import { ROOT } from "./cli.js";

export function expectGolden(relativePath: string, actual: string): void {
  const path = join(ROOT, "test", "golden", relativePath);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) {
    if (process.env.CI && !existsSync(path)) throw new Error(`missing golden file ${relativePath}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    if (process.env.UPDATE_GOLDEN === "1") return;
  }
  expect(actual, `differs from test/golden/${relativePath} (UPDATE_GOLDEN=1 to accept)`).toBe(
    readFileSync(path, "utf8"),
  );
}
