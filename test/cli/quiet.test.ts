import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

/** The environment of a user's shell: none of the npm_* variables `npm test` passes to its children. */
function userShell(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_")),
  );
}

const run = (command: string, args: string[]) =>
  spawnSync(command, args, { cwd: ROOT, encoding: "utf8", env: userShell(), timeout: 60_000 });

describe("the CLI through npm is quiet", () => {
  it("npx stackwright prints the command's output and nothing from npm", () => {
    const result = run("npx", ["stackwright", "--version"]);
    expect(result.status, result.stderr).toBe(0);
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(result.stdout).toBe(`${version}\n`);
    expect(result.stderr).toBe("");
  });

  it("npm run -s stackwright runs it on the pinned Node, also quiet", () => {
    const result = run("npm", [
      "run",
      "-s",
      "stackwright",
      "--",
      "plan",
      "--spec",
      "examples/fraud-detection.yaml",
      "--format",
      "json",
    ]);
    expect(result.status, result.stderr).toBe(0);
    // nothing from npm or node: only the plan's own dated warning (its prices' age, judged by today)
    const foreign = result.stderr.split("\n").filter((l) => l && !/^(warning PRICES_STALE: | {2}→ )/.test(l));
    expect(foreign).toEqual([]);
    expect(JSON.parse(result.stdout).spec.name).toBe("fraud-detection");
  });
});
