import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";
import { ROOT } from "./helpers/cli.js";

describe("the public API (src/index.ts)", () => {
  it("carries a spec through every stage: parse, plan, explain, diff, generate, validate, write", async () => {
    const parsed = api.parseSpec(readFileSync(join(ROOT, "examples/fraud-detection.yaml"), "utf8"));
    if (!parsed.ok) throw new Error(parsed.problems.map(api.formatProblem).join("\n"));
    const plan = api.createPlan(parsed.spec);
    expect(api.planErrors(plan)).toEqual([]);
    expect(api.explainDecision(parsed.spec, "serving.mode").choice).toBe("realtime");
    const variant = api.parseSpecValue({
      ...parsed.spec,
      inference: { ...parsed.spec.inference, mode: "batch", latencyP99Ms: "4h" },
    });
    if (!variant.ok) throw new Error("variant");
    const diff = api.diffPlans(plan, api.createPlan(variant.spec));
    expect(diff.decisions.find((d) => d.capability === "serving.mode")?.to).toBe("batch");
    const files = api.generateAll(plan);
    expect(await api.validateFileSet(files)).toEqual([]);
    const out = mkdtempSync(join(tmpdir(), "sw-api-"));
    const written = api.writeFileSet(out, files, {
      specHash: plan.spec.hash,
      ruleSetHash: plan.ruleSet.hash,
    });
    expect(written.written.length).toBe(Object.keys(files).length);
    expect(readFileSync(join(out, api.LOCK_FILE), "utf8")).toContain(plan.spec.hash);
    expect(api.packageVersion()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  it('is what `import "stackwright"` resolves to once built (package.json main/types/exports)', () => {
    const script = `const m = await import("stackwright"); console.log(JSON.stringify(Object.keys(m).sort()));`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(result.status, result.stderr).toBe(0);
    const names = JSON.parse(result.stdout) as string[];
    expect(names).toEqual(Object.keys(api).sort());
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    for (const path of [
      manifest.main,
      manifest.types,
      manifest.exports["."].import,
      manifest.exports["."].types,
    ])
      expect(spawnSync("test", ["-f", join(ROOT, path)]).status, path).toBe(0);
  });
});
