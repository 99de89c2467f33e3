import { describe, expect, it } from "vitest";
import { createPlan, type PlanWarning } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";

function warnings(fragment: Record<string, unknown>): PlanWarning[] {
  const parsed = parseSpecValue({ metadata: { name: "case" }, ...fragment });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createPlan(parsed.spec).warnings;
}
const codes = (ws: PlanWarning[]) => ws.map((w) => `${w.severity} ${w.code}`);

describe("contradictions are surfaced, never silently fixed", () => {
  it("a tool no rule reuses is named, with the ones the rules can reuse", () => {
    const ws = warnings({ team: { size: 6, existingTools: ["Feast", "mlflow", "datadog"] } });
    const [tool] = ws.filter((w) => w.code === "UNKNOWN_TOOL");
    expect(tool).toMatchObject({ severity: "warning", path: "team.existingTools" });
    expect(tool.message).toContain("Feast, datadog");
    expect(tool.message).not.toContain("mlflow");
    expect(tool.suggestion).toContain("mlflow");
    expect(codes(warnings({ team: { size: 6, existingTools: ["MLflow", "vault"] } }))).not.toContain(
      "warning UNKNOWN_TOOL",
    );
  });

  it("batch mode with a 20 ms p99 is an error", () => {
    const ws = warnings({ inference: { mode: "batch", latencyP99Ms: 20, batch: { schedule: "@daily" } } });
    expect(codes(ws)).toContain("error BATCH_WITH_TIGHT_LATENCY");
    expect(ws.find((w) => w.code === "BATCH_WITH_TIGHT_LATENCY")?.path).toBe("inference.latencyP99Ms");
  });

  it("EU residency in a US region is an error that lists EU regions", () => {
    const ws = warnings({ dataResidency: "eu", cloud: { provider: "aws", region: "us-east-1" } });
    const w = ws.find((x) => x.code === "RESIDENCY_REGION_MISMATCH");
    expect(w?.severity).toBe("error");
    expect(w?.suggestion).toContain("eu-west-1");
    expect(
      codes(warnings({ dataResidency: "eu", cloud: { provider: "aws", region: "eu-west-1" } })),
    ).not.toContain("error RESIDENCY_REGION_MISMATCH");
  });

  it("HIPAA in a region without eligible services is an error", () => {
    const ws = warnings({ compliance: ["hipaa"], cloud: { provider: "aws", region: "cn-north-1" } });
    expect(codes(ws)).toContain("error HIPAA_REGION_NOT_ELIGIBLE");
    expect(
      codes(warnings({ compliance: ["hipaa"], cloud: { provider: "azure", region: "chinanorth2" } })),
    ).toContain("error HIPAA_REGION_NOT_ELIGIBLE");
  });

  it("a budget far below the cheapest viable design is an error; a bit over is a warning with the cheapest change", () => {
    const far = warnings({
      inference: { peakQps: 3000, latencyP99Ms: 50 },
      availability: { targetPercent: 99.95 },
      budget: { monthlyUsd: 50 },
    });
    expect(codes(far)).toContain("error BUDGET_INFEASIBLE");
    expect(far.find((w) => w.code === "BUDGET_INFEASIBLE")?.suggestion).toMatch(
      /raise budget.monthlyUsd to at least \$/,
    );
    const near = warnings({
      inference: { peakQps: 30 },
      team: { size: 5 },
      availability: { targetPercent: 99.95 },
      budget: { monthlyUsd: 700 },
    });
    const over = near.find((w) => w.code === "OVER_BUDGET");
    expect(over?.severity).toBe("warning");
    expect(over?.suggestion).toMatch(/within budget|together/);
  });

  it("streaming without an event-log source is an error", () => {
    expect(
      codes(warnings({ inference: { mode: "streaming", latencyP99Ms: 2000 }, data: { sources: ["s3"] } })),
    ).toContain("error STREAMING_WITHOUT_EVENT_SOURCE");
  });

  it("other contradictions: average above peak, GPU for trees, GPU-sized LLM on CPU, unknown region, PII without a framework", () => {
    expect(codes(warnings({ inference: { peakQps: 10, averageQps: 20 } }))).toContain(
      "error AVERAGE_ABOVE_PEAK",
    );
    expect(codes(warnings({ model: { framework: "xgboost", gpu: true } }))).toContain(
      "warning GPU_FOR_TREE_MODEL",
    );
    expect(
      codes(
        warnings({
          useCase: { kind: "llm-generation" },
          model: { framework: "huggingface", parametersMillions: 7000, gpu: false },
        }),
      ),
    ).toContain("error GPU_REQUIRED_BUT_DISABLED");
    expect(codes(warnings({ cloud: { provider: "gcp", region: "mars-north1" } }))).toContain(
      "warning UNKNOWN_REGION",
    );
    expect(codes(warnings({ data: { containsPii: true } }))).toContain("warning PII_WITHOUT_COMPLIANCE");
    expect(codes(warnings({ availability: { targetPercent: 99.99 } }))).toContain(
      "warning AVAILABILITY_NEEDS_MULTI_REGION",
    );
  });
});
