/**
 * Golden files: compared byte for byte. `UPDATE_GOLDEN=1 npx vitest run` writes them (new or
 * changed) after a reviewed change; without it a missing golden file fails, so a test can never pass
 * by comparing its output with itself.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import { ROOT } from "./cli.js";

export function goldenPath(relativePath: string): string {
  return join(ROOT, "test", "golden", relativePath);
}

export function expectGolden(relativePath: string, actual: string): void {
  const path = goldenPath(relativePath);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(
      `missing golden file test/golden/${relativePath}: review the output, then UPDATE_GOLDEN=1 to write it`,
    );
  }
  expect(actual, `differs from test/golden/${relativePath} (UPDATE_GOLDEN=1 to accept)`).toBe(
    readFileSync(path, "utf8"),
  );
}
