/**
 * The LLM capacity model against published measurements (each cited): its estimate within 2x of
 * each. The two efficiencies in rules/models.yaml are read off one of them (NIM, one session); the
 * others hold the model where it was not fitted: many sessions, another GPU, another model.
 */
import { describe, expect, it } from "vitest";
import { kvBytesPerToken, type LlmShape, llmConstants, llmLatency } from "../../src/plan/capacity.js";
import { createPlan, loadDefaultRuleSet, type Plan } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";

const rules = loadDefaultRuleSet();
const c = llmConstants(rules.models);

const llama3_70b: LlmShape = (() => {
  const a = rules.models.architectures["llama-3-70b"];
  return { parameters: 70.6e9, layers: a.layers!, kvHeads: a.kvHeads!, headDim: a.hiddenSize! / a.heads! };
})();
/** Llama 2 7B (arXiv:2307.09288, its config.json): 6.74B parameters, 32 layers, 32 heads, no grouped KV */
const llama2_7b: LlmShape = { parameters: 6.74e9, layers: 32, kvHeads: 32, headDim: 128 };

const H100 = { bandwidthGbps: 3350, fp16: 989, fp8: 1979 };
const A100 = { bandwidthGbps: 2039, fp16: 312 };

const within2x = (estimate: number, published: number) => {
  expect(estimate / published, `${estimate} against ${published}`).toBeGreaterThan(0.5);
  expect(estimate / published, `${estimate} against ${published}`).toBeLessThan(2);
};

function planOf(fragment: Record<string, unknown>): Plan {
  const parsed = parseSpecValue({ metadata: { name: "chat" }, ...fragment });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createPlan(parsed.spec);
}

describe("LLM capacity from first principles, against published measurements", () => {
  it("a 70B model's KV cache: 2 x 80 layers x 8 KV heads x 128 x 2 bytes = 0.31 MiB per token", () => {
    expect(kvBytesPerToken(llama3_70b, c)).toBe(327_680);
  });

  // https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance: Llama-3.3-70B-Instruct, NIM 1.8.0,
  // 2 x H100 80GB, FP8 (1-byte weights: int8's size), TP2, 5,000 tokens in and 500 out
  const nim70b = (batch: number) =>
    llmLatency(
      llama3_70b,
      { gpus: 2, bandwidthGbps: H100.bandwidthGbps, tflops: H100.fp8 },
      { precision: "int8", batch, contextTokens: 5500, promptTokens: 5000 },
      c,
    );
  it("NIM, 70B in FP8 on 2 x H100 (TP2): one session 406.77 ms to the first token, 18.58 ms a token", () => {
    const one = nim70b(1);
    within2x(one.ttftMs, 406.77);
    within2x(one.interTokenMs, 18.58);
  });

  it("NIM, the same at 25 sessions (not fitted): 38.75 ms a token, 688.69 ms to the first", () => {
    const many = nim70b(25);
    within2x(many.interTokenMs, 38.75);
    within2x(many.ttftMs, 688.69);
  });

  // https://docs.nvidia.com/nemo-framework/user-guide/latest/performance/llama.html: Llama-2-7B,
  // 128 tokens in and 20 out, batch 1, average latency of the whole answer
  it("NeMo, Llama 2 7B in FP16 (not fitted): 234.0 ms on 1 x A100 80GB, 153.8 ms on 1 x H100, 171.7 ms on 2 x A100", () => {
    const answer = (gpus: number, bandwidthGbps: number, tflops: number) => {
      const l = llmLatency(
        llama2_7b,
        { gpus, bandwidthGbps, tflops },
        { precision: "fp16", batch: 1, contextTokens: 148, promptTokens: 128 },
        c,
      );
      return l.ttftMs + 19 * l.interTokenMs;
    };
    within2x(answer(1, A100.bandwidthGbps, A100.fp16), 234.0);
    within2x(answer(1, H100.bandwidthGbps, H100.fp16), 153.8);
    within2x(answer(2, A100.bandwidthGbps, A100.fp16), 171.7);
  });
});

describe("LLM capacity in the plan", () => {
  const chat = {
    useCase: { kind: "llm-generation" },
    model: { framework: "huggingface", format: "safetensors", sizeMb: "140GB", architecture: "llama-3-70b" },
    inference: {
      mode: "realtime",
      latencyP99Ms: "20s",
      peakQps: 10,
      llm: {
        contextTokens: 8192,
        outputTokens: 400,
        concurrentSessions: 200,
        ttftMs: "3s",
        interTokenMs: "45ms",
      },
    },
    budget: { monthlyUsd: 80000, priority: "performance" },
    team: { size: 8 },
  };

  it("a 70B chat at 8k context and 200 sessions: tensor parallel, fp16 under priority performance, every session's KV cache in memory", () => {
    const plan = planOf(chat);
    const llm = plan.capacity.llm!;
    expect(plan.capacity.hardware).toBe("gpu");
    expect(plan.capacity.precision).toBe("fp16");
    expect(llm.tensorParallel).toBeGreaterThanOrEqual(4);
    // 327,680 bytes a token x 8,192 tokens
    expect(llm.kvCacheGbPerSession).toBeCloseTo(2.68, 2);
    expect(llm.weightsGb).toBeCloseTo(141.2, 1);
    expect(llm.ttftMs).toBeLessThanOrEqual(3000);
    expect(llm.interTokenMs).toBeLessThanOrEqual(45);
    // the replicas hold the 200 sessions
    expect(plan.capacity.replicasMax * llm.sessionsPerReplica).toBeGreaterThanOrEqual(200);
    expect(plan.capacity.estimatedFrom).toMatch(/tensor parallel \d/);
    expect(plan.capacity.estimatedFrom).toContain("llama-3-70b's shape");
  });

  it("FP8 where the GPU has FP8 tensor cores, when it makes the design cheaper: priority performance allows it, not int4", () => {
    const plan = planOf({
      ...chat,
      cloud: { provider: "aws", region: "us-east-1" },
      inference: { ...chat.inference, peakQps: 5, llm: { ...chat.inference.llm, concurrentSessions: 120 } },
    });
    expect(plan.capacity.precision).toBe("fp8");
    expect(plan.capacity.gpuType).toBe("nvidia-h100");
    // one byte a parameter; the prefill at the H100's FP8 peak (1,979 dense TFLOPS)
    expect(plan.capacity.llm!.weightsGb).toBeCloseTo(70.6, 1);
    expect(plan.capacity.estimatedFrom).toContain("of 1979 TFLOPS per GPU");
    const decision = plan.decisions.find((d) => d.capability === "serving.optimization")!;
    expect(decision.choice).toBe("fp8-quantization");
    expect(decision.because).toContain("budget.priority performance allows it");
    // at 200 sessions both need two instances: the more faithful fp16 wins the tie
    expect(planOf({ ...chat, cloud: { provider: "aws", region: "us-east-1" } }).capacity.precision).toBe(
      "fp16",
    );
  });

  it("targets no instance can meet are said, not hidden", () => {
    const plan = planOf({
      ...chat,
      inference: { ...chat.inference, llm: { ...chat.inference.llm, interTokenMs: "1ms" } },
    });
    expect(plan.capacity.llm).toBeUndefined();
    expect(plan.warnings.map((w) => w.code)).toContain("LLM_TARGETS_UNMET");
  });
});
