import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CAPABILITIES, choiceOf, type Plan, planSpecFile } from "../../src/plan/index.js";

const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;
const files = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const plans = new Map<string, Plan>();
for (const file of files)
  plans.set(file.replace(/\.yaml$/, ""), (await planSpecFile(`${EXAMPLES}${file}`)).plan);
const plan = (name: string) => {
  const found = plans.get(name);
  if (!found) throw new Error(`no example ${name}`);
  return found;
};

describe("example specs", () => {
  it("has at least the five canonical examples", () => {
    expect([...plans.keys()]).toEqual(
      expect.arrayContaining([
        "fraud-detection",
        "demand-forecasting",
        "vision-inspection",
        "llm-support-assistant",
        "streaming-anomaly-detector",
      ]),
    );
  });

  it.each(files)(
    "%s decides every capability with a rule, a reason and inputs, and has no errors",
    (file) => {
      const p = plan(file.replace(/\.yaml$/, ""));
      expect(p.decisions.map((d) => d.capability)).toEqual([...CAPABILITIES]);
      for (const d of p.decisions) {
        expect(d.rule, d.capability).toMatch(/^[a-z0-9-]+$/);
        expect(d.because.length, d.capability).toBeGreaterThan(20);
        expect(d.because, d.capability).not.toMatch(/\{|\}|undefined|NaN/);
        expect(d.inputs.length, d.capability).toBeGreaterThan(0);
      }
      expect(p.warnings.filter((w) => w.severity === "error")).toEqual([]);
      expect(p.cost.pricesAsOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.cost.items.every((i) => i.source.length > 0)).toBe(true);
    },
  );

  it("fraud detection: realtime, online features, canary, PCI controls met", () => {
    const p = plan("fraud-detection");
    expect(choiceOf(p, "serving.mode")).toBe("realtime");
    expect(choiceOf(p, "features.store")).toBe("online");
    expect(choiceOf(p, "deployment.strategy")).toBe("canary");
    expect(choiceOf(p, "reliability.fallback")).toBe("fallback-chain");
    expect(choiceOf(p, "security.encryption")).toBe("customer-managed-keys");
    expect(choiceOf(p, "security.network")).toBe("private-with-waf");
    expect(p.capacity.replicasMin).toBeGreaterThanOrEqual(3);
    expect(p.capacity.zones).toBe(3);
    expect(p.controls.filter((c) => c.framework === "pci-dss").length).toBeGreaterThan(5);
    expect(p.cost.monthlyUsd).toBeLessThan(p.cost.budgetUsd ?? 0);
  });

  it("demand forecasting: batch, nothing always on, within a small budget", () => {
    const p = plan("demand-forecasting");
    expect(choiceOf(p, "serving.mode")).toBe("batch");
    expect(choiceOf(p, "serving.runtime")).toBe("serverless-job");
    expect(choiceOf(p, "scaling.strategy")).toBe("scale-to-zero-jobs");
    expect(p.capacity.replicasMin).toBe(0);
    const names = p.cost.items.map((i) => i.name);
    expect(names).not.toContain("Managed Kubernetes control plane");
    expect(names).not.toContain("Load balancer");
    expect(p.cost.monthlyUsd).toBeLessThanOrEqual(p.cost.budgetUsd ?? 0);
  });

  it("vision inspection: GPU with dynamic batching, HIPAA controls met", () => {
    const p = plan("vision-inspection");
    expect(choiceOf(p, "serving.hardware")).toBe("gpu");
    expect(choiceOf(p, "serving.batching")).toBe("dynamic");
    expect(p.capacity.hardware).toBe("gpu");
    expect(p.capacity.gpuType).toBeTruthy();
    expect(p.controls.filter((c) => c.framework === "hipaa").length).toBeGreaterThan(3);
    expect(choiceOf(p, "security.audit")).toBe("immutable-audit-trail");
  });

  it("LLM support assistant: quantized GPU serving", () => {
    const p = plan("llm-support-assistant");
    expect(choiceOf(p, "serving.hardware")).toBe("gpu");
    expect(["int8-quantization", "int4-quantization"]).toContain(choiceOf(p, "serving.optimization"));
    expect(["int8", "int4"]).toContain(p.capacity.precision);
    expect(p.capacity.gpuMemoryGb).toBeGreaterThan(4);
  });

  it("streaming anomaly detector: streaming mode and ingestion on the existing cluster", () => {
    const p = plan("streaming-anomaly-detector");
    expect(choiceOf(p, "serving.mode")).toBe("streaming");
    expect(choiceOf(p, "data.ingestion")).toBe("streaming");
    expect(choiceOf(p, "serving.runtime")).toBe("kubernetes");
    expect(choiceOf(p, "scaling.strategy")).toBe("keda-consumer-lag");
    expect(p.cost.items.map((i) => i.name)).not.toContain("Managed Kubernetes control plane");
  });
});
