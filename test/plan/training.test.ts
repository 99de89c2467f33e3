import { describe, expect, it } from "vitest";
import { createPlan, type Plan } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";

function planOf(fragment: Record<string, unknown>): Plan {
  const parsed = parseSpecValue({ metadata: { name: "training" }, ...fragment });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createPlan(parsed.spec);
}

const training = (plan: Plan) => plan.cost.excluded.find((e) => e.name === "Training runs")!;

describe("training runs from the model's compute, the dataset and the accelerator", () => {
  const finetune = {
    useCase: { kind: "llm-generation" },
    model: { framework: "huggingface", format: "safetensors", sizeMb: "140GB", architecture: "llama-3-70b" },
    inference: { mode: "realtime", latencyP99Ms: "20s", peakQps: 2 },
    training: { cadence: "daily", gpu: true, datasetGb: 10 },
    team: { size: 8 },
  };

  it("a 70B fine-tune is 6 x parameters x tokens, its 16-bytes-a-parameter state sharded over several instances", () => {
    const plan = planOf({ ...finetune, training: { ...finetune.training, cadence: "monthly" } });
    const { reason } = training(plan);
    // 10 GB of text at 4 bytes a token: 2.5B tokens; 6 x 70.6B x 2.5B = 1,059 EFLOP
    expect(reason).toContain("6 x 70600M parameters x 2.50B tokens");
    expect(reason).toContain("1.06e+3 EFLOP");
    expect(reason).toMatch(/on \d+ x \S+ .*sharded/);
    expect(plan.warnings.map((w) => w.code)).not.toContain("TRAINING_EXCEEDS_CADENCE");
  });

  it("a run longer than its cadence is an error naming the cadence it fits", () => {
    const plan = planOf(finetune);
    const [problem] = plan.warnings.filter((w) => w.code === "TRAINING_EXCEEDS_CADENCE");
    expect(problem).toMatchObject({ severity: "error", path: "training.cadence" });
    expect(problem.message).toMatch(/longer than the 24 h between runs/);
    expect(problem.suggestion).toMatch(/^train weekly/);
  });

  it("a tree ensemble trains on CPU at an assumed 50 GB an hour, said so", () => {
    const plan = planOf({ model: { framework: "lightgbm" }, training: { cadence: "daily", datasetGb: 500 } });
    expect(training(plan).reason).toMatch(/30.4 runs\/month x 10 h on .*an assumed 50 GB\/h/);
  });
});
