import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPlan, type Plan } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { runCli } from "../helpers/cli.js";

function planOf(value: Record<string, unknown>): Plan {
  const parsed = parseSpecValue({ metadata: { name: "defaults" }, ...value });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createPlan(parsed.spec);
}
const defaultOf = (plan: Plan, path: string) => plan.defaults.find((d) => d.path === path);
const codes = (plan: Plan) => plan.warnings.map((w) => w.code);

describe("defaults that follow the mode and the rest of the spec", () => {
  it("a batch spec that says nothing about latency plans and generates; its latency is the run deadline, marked default", () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-defaults-"));
    const spec = join(dir, "batch.yaml");
    writeFileSync(
      spec,
      "metadata: { name: nightly }\ninference: { mode: batch, batch: { schedule: '0 3 * * *' } }\n",
    );
    const plan = runCli(["plan", "--spec", spec, "--format", "json"]);
    expect(plan.code, plan.stderr).toBe(0);
    const json = JSON.parse(plan.stdout) as Plan;
    expect(json.warnings.filter((w) => w.severity === "error")).toEqual([]);
    expect(defaultOf(json, "inference.latencyP99Ms")).toMatchObject({
      value: 4 * 3_600_000,
      source: "default",
      because: expect.stringContaining("batch plan"),
    });
    const generate = runCli(["generate", "--spec", spec, "--out", join(dir, "out")]);
    expect(generate.code, generate.stderr).toBe(0);
    expect(readdirSync(join(dir, "out"))).toContain("infra");
  });

  it("a given deadline becomes the batch latency", () => {
    const plan = planOf({ inference: { mode: "batch", batch: { schedule: "@daily", deadlineHours: 2 } } });
    expect(plan.requirements.inference.latencyP99Ms).toBe(2 * 3_600_000);
  });

  it("an auto-mode spec with a schedule and no latency is planned as batch", () => {
    const plan = planOf({ inference: { batch: { schedule: "@daily" } } });
    expect(plan.decisions.find((d) => d.capability === "serving.mode")?.choice).toBe("batch");
    expect(codes(plan)).not.toContain("BATCH_WITH_TIGHT_LATENCY");
  });

  it("a realtime plan gets 200 ms, marked default; a streaming plan a few seconds", () => {
    const realtime = planOf({});
    expect(realtime.requirements.inference.latencyP99Ms).toBe(200);
    expect(defaultOf(realtime, "inference.latencyP99Ms")?.because).toContain("realtime plan");
    const streaming = planOf({ inference: { mode: "streaming" }, data: { sources: ["kafka"] } });
    expect(streaming.requirements.inference.latencyP99Ms).toBe(5000);
    expect(streaming.warnings.filter((w) => w.severity === "error")).toEqual([]);
  });

  it("a value the user gave is never marked default", () => {
    const plan = planOf({
      inference: { latencyP99Ms: 80, peakQps: 100 },
      cloud: { provider: "gcp", region: "us-east1" },
    });
    for (const path of [
      "inference.latencyP99Ms",
      "inference.peakQps",
      "cloud.region",
      "cloud.provider",
      "metadata.name",
    ])
      expect(defaultOf(plan, path), path).toBeUndefined();
    expect(defaultOf(plan, "model.framework")).toEqual({
      path: "model.framework",
      value: "sklearn",
      source: "default",
    });
  });

  it("the region follows data residency and HIPAA when none is given", () => {
    const eu = planOf({ dataResidency: "eu", compliance: ["hipaa", "gdpr"] });
    expect(eu.requirements.cloud.region).toBe("eu-west-1");
    expect(codes(eu)).not.toContain("RESIDENCY_REGION_MISMATCH");
    expect(codes(eu)).not.toContain("HIPAA_REGION_NOT_ELIGIBLE");
    const gcp = planOf({ cloud: { provider: "gcp" }, dataResidency: "eu" });
    expect(gcp.requirements.cloud.region).toMatch(/^europe-/);
    // a region the user gave is still checked
    const given = planOf({ dataResidency: "eu", cloud: { region: "us-east-1" } });
    expect(codes(given)).toContain("RESIDENCY_REGION_MISMATCH");
  });

  it("the peak follows a given average, so a default never sits below it", () => {
    const plan = planOf({ inference: { averageQps: 800, trafficPattern: "diurnal" } });
    expect(plan.requirements.inference.peakQps).toBe(2000);
    expect(codes(plan)).not.toContain("AVERAGE_ABOVE_PEAK");
    expect(codes(planOf({ inference: { averageQps: 800, peakQps: 100 } }))).toContain("AVERAGE_ABOVE_PEAK");
  });

  it("a spec of one field per mode raises no contradiction", () => {
    for (const inference of [{ mode: "realtime" }, { mode: "batch" }, { mode: "auto" }]) {
      const plan = planOf({ inference });
      expect(
        plan.warnings.filter((w) => !["BATCH_WITHOUT_SCHEDULE", "NO_CONTACTS"].includes(w.code)),
        JSON.stringify(inference),
      ).toEqual([]);
    }
  });

  it("a contradiction the user wrote is still an error", () => {
    const plan = planOf({ inference: { mode: "batch", latencyP99Ms: 50 } });
    expect(plan.warnings.find((w) => w.code === "BATCH_WITH_TIGHT_LATENCY")?.severity).toBe("error");
  });

  it("explain shows which inputs came from defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-explain-"));
    const spec = join(dir, "s.yaml");
    writeFileSync(spec, "metadata: { name: x }\n");
    const text = runCli(["explain", "serving.mode", "--spec", spec]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/inference\.latencyP99Ms = 200 {2}\(default: realtime plan/);
    const json = JSON.parse(runCli(["explain", "serving.mode", "--spec", spec, "--json"]).stdout);
    expect(json.defaults.map((d: { path: string }) => d.path)).toContain("inference.latencyP99Ms");
  });
});
