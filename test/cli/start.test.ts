import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("stackwright start without a terminal", () => {
  it("plans the fraud example, generates its files and prints a short summary", () => {
    const out = join(mkdtempSync(join(tmpdir(), "sw-start-")), "out");
    const result = runCli(["start", "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      "planning examples/fraud-detection.yaml (not a terminal, so no interview)",
    );
    expect(result.stdout).toMatch(/serving\.mode\s+realtime/);
    expect(result.stdout).toMatch(/93 written/);
    expect(result.stdout).toMatch(/-> 200 \{"prediction":[01],"probability":0\.\d+,"model_version":"1"/);
    expect(result.stdout).toContain("platform stopped");
    expect(result.stdout).toContain("docs/adr/ (28 files)");
    expect(existsSync(join(out, "stackwright.lock.json"))).toBe(true);
  });
});
