#!/usr/bin/env node
// Build step: `tsc -p tsconfig.build.json` into a staging folder, then each emitted file copied into
// dist/ through writeIfChanged: a rebuild of unchanged sources writes nothing, and a changed file is
// replaced whole, so a CLI running beside the build never reads a truncated module. Type errors
// fail the build with tsc's own report and leave dist/ as it was.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { writeIfChanged } from "./write-if-changed.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const stage = mkdtempSync(join(root, ".build-"));
try {
  const tsc = spawnSync(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json", "--outDir", stage], {
    cwd: root,
    stdio: "inherit",
  });
  if (tsc.error) throw tsc.error;
  if (tsc.status !== 0) process.exitCode = tsc.status ?? 1;
  else
    for (const entry of readdirSync(stage, { recursive: true, withFileTypes: true }))
      if (entry.isFile()) {
        const file = join(entry.parentPath, entry.name);
        writeIfChanged(join(dist, relative(stage, file)), readFileSync(file));
      }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
