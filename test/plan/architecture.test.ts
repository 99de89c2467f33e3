import { describe, expect, it } from "vitest";
import { sameGpu } from "../../src/plan/calibration.js";
import { cpuModelMemoryGb, estimateWorkload } from "../../src/plan/capacity.js";
import { createPlan, loadDefaultRuleSet, type Plan } from "../../src/plan/index.js";
import { type ModeInputSpec, parseSpecValue } from "../../src/requirements/index.js";

const rules = loadDefaultRuleSet();

function specOf(fragment: Record<string, unknown>) {
  const parsed = parseSpecValue({ metadata: { name: "capacity" }, ...fragment });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

/** The capacity model's view of a spec on AWS (us-east-1's price table). */
function workloadOf(fragment: Record<string, unknown>) {
  const spec = specOf(fragment);
  return estimateWorkload(
    { ...spec, cloud: { ...spec.cloud, region: "us-east-1" } } as ModeInputSpec,
    rules.prices.get("aws")!,
    rules.models,
  );
}

function planOf(fragment: Record<string, unknown>): Plan {
  return createPlan(specOf(fragment));
}

describe("capacity from a named architecture (rules/models.yaml)", () => {
  it("takes a vision model's published compute, scaled by the image's area, with its source", () => {
    const yolo = workloadOf({ useCase: { kind: "computer-vision" }, model: { architecture: "yolov8s" } });
    // Ultralytics: 28.6 billion FLOPs at 640 x 640
    expect(yolo.flopsPerRow).toBeCloseTo(28.6e9, -8);
    expect(yolo.parametersMillions).toBe(11.2);
    expect(yolo.flopsBasis).toContain("https://docs.ultralytics.com/models/yolov8/");
    const small = workloadOf({
      useCase: { kind: "computer-vision" },
      model: { architecture: "yolov8s" },
      inference: { imageSize: 320 },
    });
    expect(small.flopsPerRow).toBeCloseTo(yolo.flopsPerRow / 4, -6);
    const resnet = workloadOf({ model: { architecture: "resnet50" }, inference: { imageSize: 448 } });
    expect(resnet.flopsPerRow).toBeCloseTo(2 * 4.09e9 * 4, -6);
  });

  it("a YOLOv8s detector under a 30 ms p99 gets a GPU (its 28.6 GFLOP cannot meet it on CPU)", () => {
    const plan = planOf({
      useCase: { kind: "computer-vision" },
      model: { framework: "pytorch", architecture: "yolov8s", sizeMb: 45 },
      inference: { mode: "realtime", latencyP99Ms: 30, peakQps: 50 },
    });
    expect(plan.capacity.hardware).toBe("gpu");
    expect(plan.capacity.estimatedFrom).toContain("28.6 GFLOP per row (yolov8s");
  });

  it("an encoder's compute grows with the sequence: dense weights per token, attention per token pair", () => {
    const at = (tokens: number | null) =>
      workloadOf({
        useCase: { kind: "nlp-classification" },
        model: { architecture: "bert-base" },
        ...(tokens === null ? {} : { inference: { sequenceTokens: tokens } }),
      });
    const dense = (110 - 23.8) * 1e6;
    expect(at(512).flopsPerRow).toBeCloseTo(2 * dense * 512 + 4 * 12 * 512 ** 2 * 768, -6);
    // more than 4x the 128-token cost: the attention term is quadratic
    expect(at(512).flopsPerRow / at(128).flopsPerRow).toBeGreaterThan(4);
    expect(at(null).flopsBasis).toMatch(/assumed 128: set inference.sequenceTokens/);
    expect(at(512).flopsBasis).toMatch(/from inference.sequenceTokens/);
  });

  it("a ranker scoring 300 candidates per request is sized for 300 rows a request", () => {
    const base = {
      useCase: { kind: "recommendation" },
      model: { framework: "pytorch", gflopsPerRow: 0.05, gpu: false },
      inference: { mode: "realtime", latencyP99Ms: 100, peakQps: 200 },
    };
    const one = planOf(base);
    const fanOut = planOf({ ...base, inference: { ...base.inference, rowsPerRequest: 300 } });
    // per vCPU (the fan-out may take a larger instance): 300 rows of model time a request, one HTTP overhead
    const perVcpu = (p: Plan) =>
      p.capacity.perReplicaQps /
      rules.prices.get("aws")!.cpuInstances.find((i) => i.name === p.capacity.instanceType)!.vcpu;
    expect(perVcpu(fanOut)).toBeLessThan(perVcpu(one) / 100);
    expect(fanOut.capacity.estimatedFrom).toContain("300 rows per request");
    expect(fanOut.capacity.replicasMax).toBeGreaterThan(one.capacity.replicasMax);
    // left to decide, 300 rows a request (an estimated 150 ms on 4 vCPU) go to a GPU
    const auto = planOf({
      ...base,
      model: { framework: "pytorch", gflopsPerRow: 0.05 },
      inference: { ...base.inference, rowsPerRequest: 300 },
    });
    expect(auto.capacity.hardware).toBe("gpu");
  });

  it("embedding tables need memory on every replica, not FLOPs", () => {
    const plain = workloadOf({ useCase: { kind: "recommendation" }, model: { parametersMillions: 20 } });
    const tables = workloadOf({
      useCase: { kind: "recommendation" },
      model: { parametersMillions: 20, embeddingParametersMillions: 2000 },
    });
    expect(tables.flopsPerRow).toBe(plain.flopsPerRow);
    // 2,020M fp32 parameters with 25% headroom and 1 GB for the runtime
    expect(cpuModelMemoryGb(tables)).toBeCloseTo(11.1, 1);
    const plan = planOf({
      useCase: { kind: "recommendation" },
      model: { framework: "pytorch", parametersMillions: 20, embeddingParametersMillions: 2000, gpu: false },
      inference: { mode: "realtime", latencyP99Ms: 100, peakQps: 20 },
      team: { size: 6 },
    });
    const instance = rules.prices.get("aws")!.cpuInstances.find((i) => i.name === plan.capacity.instanceType);
    if (plan.capacity.instanceType.startsWith("serverless")) throw new Error("expected a cluster");
    expect(instance!.memoryGb).toBeGreaterThanOrEqual(11.1);
  });

  it("a model that meets its latency on CPU and on a GPU serves on the one cheaper at its peak, both prices said", () => {
    const at = (peakQps: number) =>
      planOf({
        useCase: { kind: "computer-vision" },
        model: { framework: "pytorch", architecture: "resnet50", sizeMb: 100 },
        inference: { mode: "realtime", latencyP99Ms: 2000, peakQps },
      }).decisions.find((d) => d.capability === "serving.hardware")!;
    const busy = at(2000);
    expect(busy.choice).toBe("gpu");
    expect(busy.rule).toBe("hardware-gpu-cheaper-at-peak");
    expect(busy.because).toMatch(
      /costs \$[\d.]+ an hour on GPUs against \$[\d.]+ on the cheapest CPU instances/,
    );
    const quiet = at(1);
    expect(quiet.choice).toBe("cpu");
    expect(quiet.alternatives[0].rejectedBecause).toMatch(
      /the peak costs \$[\d.]+ an hour on GPUs against \$[\d.]+ on CPU/,
    );
  });

  it("a measured figure overrides the estimate and says so", () => {
    const w = workloadOf({ model: { framework: "pytorch", gflopsPerRow: 3.5 } });
    expect(w.flopsPerRow).toBe(3.5e9);
    expect(w.flopsBasis).toBe("model.gflopsPerRow (3.5 GFLOP)");
    const guessed = workloadOf({ useCase: { kind: "computer-vision" }, model: { framework: "pytorch" } });
    expect(guessed.flopsBasis).toMatch(/^estimated: /);
  });

  it("an architecture the catalog does not know is an error naming the ones it does", () => {
    const plan = planOf({ model: { architecture: "resnet-9000" } });
    const [problem] = plan.warnings.filter((w) => w.code === "UNKNOWN_ARCHITECTURE");
    expect(problem).toMatchObject({ severity: "error", path: "model.architecture" });
    expect(problem.suggestion).toMatch(/resnet50, vit-b16, mobilenet-v2, yolov8s, bert-base, llama-3-8b/);
  });
});

describe("the team's existing tools", () => {
  it("Kubeflow or Argo on the team's cluster: pipelines run on its Argo Workflows, whatever the team's size", () => {
    const base = { cloud: { provider: "kubernetes" }, team: { size: 2 } };
    const choice = (tools: string[]) =>
      planOf({ ...base, team: { ...base.team, existingTools: tools } }).decisions.find(
        (d) => d.capability === "orchestration",
      )!;
    const kubeflow = choice(["Kubeflow"]);
    expect(kubeflow.choice).toBe("argo-workflows");
    expect(kubeflow.because).toContain("Kubeflow Pipelines, whose pipelines run on Argo Workflows");
    expect(choice(["argo"]).because).toContain("the team already runs Argo Workflows");
    // a small team without it gets the scheduler, not a controller to run
    expect(choice([]).choice).toBe("managed-scheduler");
  });

  it("a managed ML platform the team uses on its cloud is said in the registry's decision", () => {
    const plan = planOf({ cloud: { provider: "aws" }, team: { existingTools: ["SageMaker"] } });
    const registry = plan.decisions.find((d) => d.capability === "registry")!;
    expect(registry.choice).toBe("sagemaker-model-registry");
    expect(registry.because).toMatch(/^the team already uses SageMaker; on AWS/);
    expect(plan.warnings.map((w) => w.code)).not.toContain("UNKNOWN_TOOL");
  });

  it("tools a rule reuses raise no warning; others are named with the known ones", () => {
    const plan = planOf({ team: { existingTools: ["prometheus", "grafana", "kubeflow", "datadog"] } });
    const unknown = plan.warnings.filter((w) => w.code === "UNKNOWN_TOOL");
    expect(unknown).toHaveLength(1);
    expect(unknown[0].message).toMatch(/^no rule reuses datadog:/);
    expect(unknown[0].suggestion).toMatch(/grafana.*kubeflow.*prometheus/);
  });
});

describe("gRPC as well as REST", () => {
  it("served on a realtime endpoint on Kubernetes; asked for elsewhere, said, and only REST is served", () => {
    const realtime = planOf({
      cloud: { provider: "kubernetes" },
      inference: { mode: "realtime", grpc: true, latencyP99Ms: 50, peakQps: 100 },
    });
    expect(realtime.warnings.map((w) => w.code)).not.toContain("GRPC_NOT_SERVED");
    const batch = planOf({
      inference: { mode: "batch", grpc: true, batch: { schedule: "0 2 * * *", rowsPerRun: 1000000 } },
    });
    const warning = batch.warnings.find((w) => w.code === "GRPC_NOT_SERVED")!;
    expect(warning.path).toBe("inference.grpc");
    expect(warning.message).toMatch(/this plan's is batch on /);
  });
});

describe("a GPU calibration's GPU", () => {
  it("matches the catalog's GPU model by chip and memory, whatever the cloud calls the accelerator", () => {
    expect(sameGpu("Tesla T4", "nvidia-t4")).toBe(true);
    expect(sameGpu("NVIDIA A100-SXM4-40GB", "nvidia-a100-40gb")).toBe(true);
    expect(sameGpu("NVIDIA A100-SXM4-40GB", "nvidia-a100-80gb-sxm")).toBe(false);
    expect(sameGpu("NVIDIA A100 80GB PCIe", "nvidia-a100-80gb-pcie")).toBe(true);
    expect(sameGpu("NVIDIA H100 80GB HBM3", "nvidia-h100-sxm")).toBe(true);
    expect(sameGpu("NVIDIA L4", "nvidia-l40s")).toBe(false);
    expect(sameGpu(null, "nvidia-t4")).toBe(false);
    // every GPU model in the catalog is one a calibration can name
    for (const model of Object.keys(rules.models.gpus))
      expect(model).toMatch(/^nvidia-[a-z0-9]+(-\d+gb)?(-(sxm|pcie))?$/);
  });
});
