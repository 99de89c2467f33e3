/**
 * The LLM engines a plan may choose (serving.engine): what each one's container is, how it is told
 * the figures the capacity model sized (tensor parallelism, context, sequences, memory, quantization),
 * where it says it is ready, and the metrics it exports, declared as the serving core's are
 * (MetricSpec), so the chart's autoscaling triggers, canary gates, alert rules and dashboard are built
 * from one declaration per engine by promql.ts. Every image tag, flag and metric name is read off the
 * engine's own source at the release pinned here (the `source` beside each).
 *
 * One builder, engineCommand(), writes the engine's command line; the chart (values engine.args), the
 * platform README's `docker run` and the generated CI's GPU smoke job all take it from there.
 */
import { dns1123 } from "../infra/names.js";
import { LLM_ENGINES, type LlmEngineId } from "../infra/types.js";
import type { Plan } from "../plan/types.js";
import type { MetricSpec } from "../serve/metrics.js";
import type { Matcher } from "./platform/promql.js";

export { LLM_ENGINES, type LlmEngineId };

/** What the engine is told: the figures the plan sized, and where the weights are. */
export interface EngineRun {
  /** the checkpoint's directory in the container */
  modelDir: string;
  /** the name clients send as `model` (the OpenAI API) */
  servedName: string;
  port: number;
  tensorParallel: number;
  maxModelLen: number;
  maxSequences: number;
  gpuMemoryUtilization: number;
  /** the plan's precision (capacity.precision) and the optimisation's method */
  precision: string;
  method: string | null;
  prefixCache: boolean;
  /** tokens one answer may generate (the rest of the context is the prompt's) */
  outputTokens: number;
}

/** The metrics every LLM engine's gates and triggers read (the engine's own names and labels). */
export interface EngineMetrics {
  /** requests waiting for a slot in the running batch (a gauge) */
  waiting: MetricSpec;
  /** requests in the running batch (a gauge) */
  running: MetricSpec;
  /** the share of the KV cache in use, 0..1 (a gauge), where the engine exports one */
  kvCacheUsage: MetricSpec | null;
  /** seconds to the first token (a histogram), where the engine exports one */
  timeToFirstToken: MetricSpec | null;
  /** seconds between two tokens of an answer (a histogram) */
  interToken: MetricSpec;
  /** seconds from request to last token (a histogram) */
  requestLatency: MetricSpec;
  /** requests answered (a counter) and those the server failed (a counter, with its matchers) */
  requests: { metric: MetricSpec; match: Record<string, Matcher> };
  failures: { metric: MetricSpec; match: Record<string, Matcher> };
  /** the label that names the model on the engine's own series, or null */
  modelLabel: string | null;
}

export interface LlmEngine {
  id: LlmEngineId;
  title: string;
  image: { repository: string; tag: string; source: string };
  /** the port the engine is told to listen on */
  port: number;
  /** answers 200 only once the model is loaded and the engine can generate */
  healthPath: string;
  metricsPath: string;
  /** the environment variable the engine reads a bearer token from, or null when it has none */
  apiKeyEnv: string | null;
  /** the OpenAI-compatible path a client posts chat completions to */
  chatPath: string;
  /** the container's arguments (after its entrypoint) */
  args(run: EngineRun): string[];
  /** settings the engine reads from its environment only */
  env(run: EngineRun): Record<string, string>;
  metrics: EngineMetrics;
}

const histogram = (name: string, help: string, labels: readonly string[]): MetricSpec => ({
  name,
  help,
  type: "histogram",
  labels,
});
const gauge = (name: string, help: string, labels: readonly string[]): MetricSpec => ({
  name,
  help,
  type: "gauge",
  labels,
});
const counter = (name: string, help: string, labels: readonly string[]): MetricSpec => ({
  name,
  help,
  type: "counter",
  labels,
});

const VLLM_LABELS = ["model_name", "engine"] as const;
const VLLM_HTTP = counter("http_requests_total", "HTTP responses by handler, method and status", [
  "handler",
  "method",
  "status",
]);

/** vLLM's OpenAI server: `vllm serve <model>` is the image's entrypoint. */
const VLLM: LlmEngine = {
  id: "vllm",
  title: "vLLM",
  // the image's ENTRYPOINT is ["vllm", "serve"] (docker/Dockerfile): the arguments start with the model
  image: {
    repository: "vllm/vllm-openai",
    tag: "v0.31.0",
    source:
      "https://hub.docker.com/r/vllm/vllm-openai (v0.31.0, released 2026-10-05; recalled from pins of it, not read off the release page)",
  },
  port: 8000,
  healthPath: "/health",
  metricsPath: "/metrics",
  apiKeyEnv: "VLLM_API_KEY",
  chatPath: "/v1/chat/completions",
  args: (r) => [
    r.modelDir,
    "--served-model-name",
    r.servedName,
    "--host",
    "0.0.0.0",
    "--port",
    String(r.port),
    "--tensor-parallel-size",
    String(r.tensorParallel),
    "--max-model-len",
    String(r.maxModelLen),
    "--max-num-seqs",
    String(r.maxSequences),
    "--gpu-memory-utilization",
    String(r.gpuMemoryUtilization),
    ...vllmQuantization(r),
    r.prefixCache ? "--enable-prefix-caching" : "--no-enable-prefix-caching",
  ],
  env: () => ({}),
  // vllm/v1/metrics/loggers.py: every engine series carries model_name (the served name) and engine;
  // kv_cache_usage_perc and inter_token_latency_seconds replaced gpu_cache_usage_perc and
  // time_per_output_token_seconds (deprecated in 0.9.2 and 0.11, removed since). The API server's
  // HTTP counter (prometheus-fastapi-instrumentator) groups statuses: "2xx", "5xx".
  metrics: {
    waiting: gauge("vllm:num_requests_waiting", "Requests waiting to be processed", VLLM_LABELS),
    running: gauge("vllm:num_requests_running", "Requests in the running batch", VLLM_LABELS),
    kvCacheUsage: gauge("vllm:kv_cache_usage_perc", "KV-cache usage, 1 is 100%", VLLM_LABELS),
    timeToFirstToken: histogram("vllm:time_to_first_token_seconds", "Time to first token", VLLM_LABELS),
    interToken: histogram("vllm:inter_token_latency_seconds", "Time between two tokens", VLLM_LABELS),
    requestLatency: histogram("vllm:e2e_request_latency_seconds", "End-to-end request latency", VLLM_LABELS),
    requests: { metric: VLLM_HTTP, match: { handler: { re: "/v1/.*" } } },
    failures: { metric: VLLM_HTTP, match: { handler: { re: "/v1/.*" }, status: "5xx" } },
    modelLabel: "model_name",
  },
};

/**
 * vLLM's --quantization: fp8 quantizes an fp16 checkpoint's weights as it loads them; awq and gptq
 * name the format of a checkpoint quantized beforehand. Weight-only int8 has no flag of its own: the
 * checkpoint's config says it (compressed-tensors) and vLLM reads it from there.
 */
function vllmQuantization(r: EngineRun): string[] {
  if (r.precision === "fp8") return ["--quantization", "fp8"];
  if (r.precision === "int4") return ["--quantization", r.method === "gptq" ? "gptq" : "awq"];
  return [];
}

/**
 * Text Generation Inference: the image's entrypoint (tgi-entrypoint.sh) runs text-generation-launcher
 * with the arguments. Every flag also reads an environment variable of its name, HOSTNAME included,
 * which Kubernetes sets to the pod's name: --hostname is always given. It has no served-model name
 * and its metrics no model label; prefix caching is the PREFIX_CACHING variable (on by default).
 */
const TGI: LlmEngine = {
  id: "tgi",
  title: "Text Generation Inference",
  image: {
    repository: "ghcr.io/huggingface/text-generation-inference",
    tag: "3.3.7",
    source:
      "https://github.com/huggingface/text-generation-inference/releases/tag/v3.3.7 (2025-12-18; the project is in maintenance mode)",
  },
  port: 8000,
  healthPath: "/health",
  metricsPath: "/metrics",
  apiKeyEnv: "API_KEY",
  chatPath: "/v1/chat/completions",
  args: (r) => [
    "--model-id",
    r.modelDir,
    "--hostname",
    "0.0.0.0",
    "--port",
    String(r.port),
    "--num-shard",
    String(r.tensorParallel),
    "--max-total-tokens",
    String(r.maxModelLen),
    "--max-input-tokens",
    String(r.maxModelLen - r.outputTokens),
    "--max-concurrent-requests",
    String(r.maxSequences),
    "--cuda-memory-fraction",
    String(r.gpuMemoryUtilization),
    ...(r.precision === "fp8" ? ["--quantize", "fp8"] : []),
    ...(r.precision === "int4" ? ["--quantize", r.method === "gptq" ? "gptq" : "awq"] : []),
  ],
  env: (r) => ({ PREFIX_CACHING: r.prefixCache ? "true" : "0" }),
  // docs/source/reference/metrics.md and router/src/server.rs at v3.3.7: no time-to-first-token
  // histogram and no KV-cache gauge; a failure's err is overloaded or validation (the client's) or
  // template, incomplete, dropped or generation (the server's)
  metrics: {
    waiting: gauge("tgi_queue_size", "Requests waiting in the queue", []),
    running: gauge("tgi_batch_current_size", "Requests in the running batch", []),
    kvCacheUsage: null,
    timeToFirstToken: null,
    interToken: histogram("tgi_request_mean_time_per_token_duration", "Mean time per token of a request", []),
    requestLatency: histogram("tgi_request_duration", "End-to-end request latency", []),
    requests: { metric: counter("tgi_request_count", "Requests received", []), match: {} },
    failures: {
      metric: counter("tgi_request_failure", "Failed requests by error kind", ["err"]),
      match: { err: { re: "generation|incomplete|dropped" } },
    },
    modelLabel: null,
  },
};

export const ENGINES: Readonly<Record<LlmEngineId, LlmEngine>> = { vllm: VLLM, tgi: TGI };

/** The plan's LLM engine, or null when the serving core runs the model. */
export function llmEngineOf(plan: Plan): LlmEngine | null {
  const choice = plan.decisions.find((d) => d.capability === "serving.engine")?.choice;
  return choice && (LLM_ENGINES as readonly string[]).includes(choice)
    ? ENGINES[choice as LlmEngineId]
    : null;
}

/** Where the engine's container finds the checkpoint (the init container copies it there). */
export const WEIGHTS_MOUNT = "/weights";

/** What the engine is told for this plan: the capacity model's figures, through the engine's flags. */
export function engineRun(plan: Plan, engine: LlmEngine): EngineRun {
  const llm = plan.capacity.llm;
  const decision = (capability: string) => plan.decisions.find((d) => d.capability === capability)!;
  const params = decision("serving.engine").params;
  if (!llm) throw new Error(`${engine.id} is chosen but the plan sized no LLM (capacity.llm)`);
  const name = dns1123(plan.requirements.metadata.name);
  return {
    // the checkpoint's path in the data bucket (models/<name>/) under the weights volume
    modelDir: `${WEIGHTS_MOUNT}/models/${name}`,
    servedName: name,
    port: engine.port,
    tensorParallel: Number(params.tensorParallel ?? llm.tensorParallel),
    maxModelLen: Number(params.maxModelLen ?? llm.contextTokens),
    maxSequences: Number(params.maxSequences ?? llm.sessionsPerReplica),
    gpuMemoryUtilization: llm.gpuMemoryUtilization,
    precision: plan.capacity.precision ?? "fp16",
    method: (decision("serving.optimization").params.method as string | undefined) ?? null,
    prefixCache: decision("serving.caching").choice === "prefix-cache",
    outputTokens: llm.outputTokens,
  };
}
