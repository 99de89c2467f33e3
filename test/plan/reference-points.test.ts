/**
 * The capacity model's vision, encoder and CPU estimates against published measurements, each cited
 * with the commit or page it was read from: every estimate within 2x. GPU_UTILIZATION was read off
 * the two ResNet-50 figures (said below); BERT-base on two GPUs and YOLOv8s on two CPUs were not
 * fitted. (The 70B LLM reference points are in llm-capacity.test.ts.)
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CAPACITY_CONSTANTS,
  CPU_GFLOPS_PER_VCPU,
  cpuModelMemoryGb,
  estimateWorkload,
  HTTP_OVERHEAD_MS,
  replicaThroughput,
} from "../../src/plan/capacity.js";
import { loadDefaultRuleSet } from "../../src/plan/index.js";
import { type ModeInputSpec, parseSpecValue } from "../../src/requirements/index.js";
import { ROOT } from "../helpers/cli.js";

const rules = loadDefaultRuleSet();

const within2x = (estimate: number, published: number) => {
  expect(estimate / published, `${estimate} against ${published}`).toBeGreaterThan(0.5);
  expect(estimate / published, `${estimate} against ${published}`).toBeLessThan(2);
};

function specOf(cloud: string, region: string, fragment: Record<string, unknown>): ModeInputSpec {
  const parsed = parseSpecValue({
    metadata: { name: "reference" },
    cloud: { provider: cloud, region },
    ...fragment,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec as ModeInputSpec;
}

/** Rows a second one GPU of `instance` serves at fp16, from the capacity model's own arithmetic. */
function gpuRowsPerSecond(cloud: string, instanceName: string, fragment: Record<string, unknown>): number {
  const prices = rules.prices.get(cloud)!;
  const spec = specOf(cloud, prices.region, fragment);
  const workload = estimateWorkload(spec, prices, rules.models);
  const instance = prices.gpuInstances.find((i) => i.name === instanceName)!;
  const { rowsPerSecond } = replicaThroughput({
    spec,
    workload,
    gpu: { instance, precision: "fp16", memoryNeededGb: 1 },
    vcpu: instance.vcpu,
    budgetMs: Number.POSITIVE_INFINITY,
    modelGb: cpuModelMemoryGb(workload),
  });
  return rowsPerSecond / (instance.gpuCount ?? 1);
}

// NVIDIA DeepLearningExamples, PaddlePaddle/Classification/RN50v1.5/README.md at 729963dd47e7c8bd462ad10bfac7a7b0b604e6dd,
// "Paddle-TRT performance", FP16, batch 256: A100 80GB 17363.79 img/s (l.985), A10 5397.53 img/s (l.1079)
const RESNET50_FP16 = { a100: 17_363.79, a10: 5_397.53 };
// NVIDIA/TensorRT demo/BERT/README.md at 9973b2f4ab5c0d0055e9d36cd94a5692f8f8da1f, BERT-base FP16 average latency:
// A100 40GB, batch 128: 15.15 ms at 128 tokens, 48.64 ms at 384; L40S, batch 32: 3.93 ms at 128, 13.25 ms at 384
const BERT_BASE_FP16 = {
  a100: { batch: 128, ms128: 15.15, ms384: 48.64 },
  l40s: { batch: 32, ms128: 3.93, ms384: 13.25 },
};
// Ultralytics, YOLOv8s at 640 px, batch 1, ONNX Runtime FP32 on CPU: 128.4 ms on an Amazon EC2 P4d's
// CPU (https://docs.ultralytics.com/models/yolov8/, "Speed CPU ONNX"), 43.23 ms on a 4th Gen Intel Xeon
// Scalable (docs/integrations/openvino.md at e985fa2018725bd9170925f15fcd6fb39a217829). Neither says
// how many cores; the estimate is for a 4-vCPU replica.
const YOLOV8S_CPU_MS = { p4d: 128.4, xeon4: 43.23 };

describe("vision and encoder capacity against published measurements", () => {
  it("ResNet-50 on an A100 and an A10 at fp16 (the figures GPU_UTILIZATION was read off)", () => {
    const resnet = { useCase: { kind: "computer-vision" }, model: { architecture: "resnet50" } };
    within2x(gpuRowsPerSecond("azure", "Standard_NC24ads_A100_v4", resnet), RESNET50_FP16.a100);
    within2x(gpuRowsPerSecond("aws", "g5.xlarge", resnet), RESNET50_FP16.a10);
  });

  it("BERT-base at 128 and 384 tokens on an A100 and an L40S (not fitted), and how it scales with the sequence", () => {
    const bert = (tokens: number) => ({
      useCase: { kind: "nlp-classification" },
      model: { architecture: "bert-base" },
      inference: { sequenceTokens: tokens },
    });
    for (const [cloud, instance, published] of [
      ["azure", "Standard_NC24ads_A100_v4", BERT_BASE_FP16.a100],
      ["aws", "g6e.xlarge", BERT_BASE_FP16.l40s],
    ] as const) {
      const at128 = gpuRowsPerSecond(cloud, instance, bert(128));
      const at384 = gpuRowsPerSecond(cloud, instance, bert(384));
      within2x(at128, (published.batch * 1000) / published.ms128);
      within2x(at384, (published.batch * 1000) / published.ms384);
      // three times the tokens cost 3.2-3.4x the time (attention grows with their square)
      within2x(at128 / at384, published.ms384 / published.ms128);
      expect(at128 / at384).toBeGreaterThan(3);
    }
  });

  it("YOLOv8s on CPU with ONNX Runtime (not fitted): the estimate for a 4-vCPU replica", () => {
    const prices = rules.prices.get("aws")!;
    const yolo = estimateWorkload(
      specOf("aws", prices.region, {
        useCase: { kind: "computer-vision" },
        model: { architecture: "yolov8s" },
        inference: { latencyP99Ms: 1000 },
      }),
      prices,
      rules.models,
    );
    within2x(yolo.cpuRowLatencyMs, YOLOV8S_CPU_MS.p4d);
    within2x(yolo.cpuRowLatencyMs, YOLOV8S_CPU_MS.xeon4);
  });
});

describe("the measured capacity constants are the committed measurements", () => {
  const read = (file: string) => JSON.parse(readFileSync(join(ROOT, "bench", "results", file), "utf8"));
  it("HTTP_OVERHEAD_MS is the serving benchmark's median round; CPU_GFLOPS_PER_VCPU at most its busy figures", () => {
    const capacity = read("capacity-cpu.json");
    const serve = read("serve-cpu.json");
    const rounds = serve.models.small.rounds.map(
      (r: { stackwright: { reqPerSec: number } }) => r.stackwright.reqPerSec,
    );
    const median = [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)];
    // the capacity bench read the serving results that are committed, and the constant is its figure
    expect(capacity.serveRequest.reqPerSec).toBe(median);
    expect(HTTP_OVERHEAD_MS).toBe(Math.round((1000 / median) * 10_000) / 10_000);
    expect(capacity.constants).toEqual({ CPU_GFLOPS_PER_VCPU, HTTP_OVERHEAD_MS });
    // what `explain capacity` says the constant rests on names the same run's figures
    const { basis } = CAPACITY_CONSTANTS.HTTP_OVERHEAD_MS;
    expect(basis).toContain(`saturated at ${median.toLocaleString("en-US")} requests/s`);
    expect(basis).toContain(
      `${serve.models.small.serverCpuUsPerRequest.stackwright} us of the process's CPU`,
    );
    for (const model of Object.values(capacity.models) as Array<{ threads2: { gflopsPerVcpu: number } }>)
      expect(CPU_GFLOPS_PER_VCPU).toBeLessThanOrEqual(model.threads2.gflopsPerVcpu);
  });
});
