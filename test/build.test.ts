/**
 * The build as a running CLI sees it: `npx stackwright` in a clone installs the clone, which runs
 * `prepare` (the whole build) while other commands, or this suite, use dist/. A rebuild of unchanged
 * sources must write nothing, and no command running beside it may find a module missing (a CI run
 * once failed with ERR_MODULE_NOT_FOUND for a bundle chunk: the build deleted dist/bundle and wrote
 * it again while a test's CLI was starting).
 */
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { type CliResult, ROOT, runCliAsync } from "./helpers/cli.js";
import { describeWith } from "./helpers/tools.js";

/** Every file under dist/ with its inode and modification time: what a rewrite would change. */
function distFiles(): Record<string, string> {
  const dist = join(ROOT, "dist");
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      const stat = statSync(path);
      files[path.slice(dist.length + 1)] = `${stat.ino}@${stat.mtimeMs}`;
    }
  return files;
}

describeWith(["npm"], "npm run build beside a running CLI", () => {
  it("rewrites nothing when nothing changed, and every command started during it succeeds", async () => {
    const before = distFiles();
    const build = new Promise<number>((resolve, reject) => {
      const child = spawn("npm", ["run", "-s", "build"], {
        cwd: ROOT,
        stdio: ["ignore", "ignore", "inherit"],
      });
      child.on("error", reject);
      child.on("close", (code) => resolve(code ?? -1));
    });
    let done = false;
    void build.then(() => {
      done = true;
    });
    // plans load the bundle's entry and its lazily imported command chunks, the files a rebuild touches
    const runs: CliResult[] = [];
    while (!done)
      runs.push(await runCliAsync(["plan", "--spec", "examples/fraud-detection.yaml", "--format", "json"]));
    expect(await build).toBe(0);
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const after = distFiles();
    expect(Object.keys(after).sort(), "the build adds or removes no file").toEqual(
      Object.keys(before).sort(),
    );
    const rewritten = Object.keys(after).filter((f) => after[f] !== before[f]);
    expect(
      rewritten,
      "files rewritten with the same content (or dist/ was stale: run npm run build)",
    ).toEqual([]);
  }, 120_000);
});
