/**
 * Capacity model: what one replica can serve, whether the model wants a GPU (and which, at what
 * precision), and how many replicas across how many zones. Estimates are explicit formulas with
 * their assumptions spelled out in `estimatedFrom`, never guesses.
 */
import type { Architecture, GpuInstancePrice, ModelCatalog, PriceTable } from "../engine/index.js";
import type { ModeInputSpec, ResolvedSpec } from "../requirements/index.js";
import {
  type Calibration,
  measuredRequestLatencyMs,
  type OperatingPoint,
  operatingPoint,
  sameGpu,
} from "./calibration.js";
import { type DeviceFit, deviceFit } from "./devices.js";
import type { Capacity } from "./types.js";

// What each constant rests on is said once, in CAPACITY_CONSTANTS below (explain capacity shows it);
// test/plan/reference-points.test.ts holds the measured ones to bench/results/capacity-cpu.json.

/** Effective fp32 GFLOP/s of one vCPU running ONNX Runtime with every vCPU busy. */
export const CPU_GFLOPS_PER_VCPU = 96;
/** Fraction of a GPU's dense peak (at the serving precision) batched inference reaches. */
export const GPU_UTILIZATION = 0.4;
/**
 * Time the serving core's event loop spends per HTTP request (accept, JSON parse, route, batch,
 * serialize, metrics), ms. The loop is one thread, so it also caps a replica at 1000 / HTTP_OVERHEAD_MS
 * requests a second however many vCPUs it has.
 */
export const HTTP_OVERHEAD_MS = 0.0283;
/** Requests a second one replica's event loop can take (one thread). */
const EVENT_LOOP_QPS = 1000 / HTTP_OVERHEAD_MS;
/** Replicas run at this utilisation at peak, leaving headroom for spikes and a lost zone. */
export const TARGET_UTILIZATION = 0.65;

/**
 * The serving constants `explain capacity` shows, each with what it rests on (a model's own
 * measurement replaces the first three: stackwright calibrate; an LLM's constants are in
 * rules/models.yaml).
 */
export const CAPACITY_CONSTANTS: Record<string, { value: number; basis: string }> = {
  CPU_GFLOPS_PER_VCPU: {
    value: CPU_GFLOPS_PER_VCPU,
    basis:
      "measured (bench/capacity/cpu-bench.js, bench/results/capacity-cpu.json): ONNX Runtime fp32 with every vCPU of the build machine's AMD EPYC busy, over five runs 96-204 GFLOP/s per vCPU for dense layers at batch 64 and 148-241 for 3x3 convolutions at 640 x 640 (the VM's neighbours move it); the lowest is used, since real networks add memory-bound operators. Other CPUs differ: stackwright calibrate measures yours",
  },
  GPU_UTILIZATION: {
    value: GPU_UTILIZATION,
    basis:
      "derived from published figures: ResNet-50 v1.5 with TensorRT at batch 256 reaches 0.46 of an A100's 312 FP16 TFLOPS (17,364 img/s) and 0.35 of an A10's 125 (5,398 img/s), NVIDIA DeepLearningExamples PaddlePaddle/Classification/RN50v1.5/README.md",
  },
  HTTP_OVERHEAD_MS: {
    value: HTTP_OVERHEAD_MS,
    basis:
      "measured (bench/results/capacity-cpu.json, from bench/results/serve-cpu.json): one serving core saturated at 35,359 requests/s with the small model (the median of five rounds, Node 24; the same run measured 28 us of the process's CPU per request), the load generator on the same cores, so an upper bound; its event loop is one thread, so this also caps a replica's requests/s",
  },
  TARGET_UTILIZATION: {
    value: TARGET_UTILIZATION,
    basis: "a design choice: replicas run at 65% at peak, headroom for spikes and a lost zone",
  },
};

export type Precision = "fp32" | "fp16" | "fp8" | "int8" | "int4";
const BYTES_PER_PARAM: Record<Precision, number> = { fp32: 4, fp16: 2, fp8: 1, int8: 1, int4: 0.5 };

const CLASSICAL = new Set(["sklearn", "xgboost", "lightgbm"]);
/**
 * FLOPs of one row as a multiple of 2 x parameters when nothing names the architecture, each with
 * what it rests on: convolutions reuse their weights across the image (the median of the catalog's
 * vision architectures, each from its source), an encoder runs every token through its dense weights
 * (the default sequence), and any other network multiplies each weight once per row.
 */
export function flopsMultiplier(kind: string, models: ModelCatalog): { value: number; basis: string } {
  if (kind === "computer-vision") {
    const ratios = Object.entries(models.architectures)
      .filter(([, a]) => a.family === "vision" && a.gmacs !== undefined)
      .map(([name, a]) => ({ name, ratio: (a.gmacs! * 1e3) / a.parametersMillions }))
      .sort((a, b) => a.ratio - b.ratio);
    const median = ratios[Math.floor(ratios.length / 2)];
    return {
      value: round2(median.ratio),
      basis: `the median multiply-adds per parameter of the catalog's vision architectures (${ratios.map((r) => `${r.name} ${Math.round(r.ratio)}`).join(", ")}; rules/models.yaml)`,
    };
  }
  if (kind === "nlp-classification" || kind === "embedding-search")
    return {
      value: DEFAULT_SEQUENCE_TOKENS,
      basis: `every one of ${DEFAULT_SEQUENCE_TOKENS} tokens through the dense weights (attention left out: set model.architecture)`,
    };
  return { value: 1, basis: "each weight multiplied once per row (a dense network)" };
}

export interface Workload {
  classical: boolean;
  llm: boolean;
  /** the dense parameters (multiplied on every prediction) */
  parametersMillions: number;
  /** parameters in embedding tables (looked up): memory on every replica, no FLOPs */
  embeddingParametersMillions: number;
  /** floating-point operations for one prediction (one request row; for LLMs, one generated token) */
  flopsPerRow: number;
  /** how flopsPerRow was reached: the architecture's published figure, the spec's, or an estimate */
  flopsBasis: string;
  /** rows one request carries (inference.rowsPerRequest) */
  rowsPerRequest: number;
  /** one request's model latency on a 4-vCPU replica, ms */
  cpuRowLatencyMs: number;
  gpuRecommended: boolean;
  gpuRequired: boolean;
  /** cheapest GPU option that fits the model, per the cloud's price table */
  gpu: GpuOption | null;
  /** an LLM's sizing from first principles (sizeLlm); null when no instance meets its targets */
  llmSizing: LlmSizing | null;
  /** the model's measured throughput (stackwright calibrate), when the plan was given one */
  calibration: Calibration | null;
  /** the managed endpoint's instance type mirroring the GPU option's (the price table's), or null */
  managedEndpointInstance: string | null;
  /** how much more the managed endpoint's instance costs per hour than the instance it mirrors, percent */
  managedEndpointPremiumPercent: number | null;
  /** how cpuRowLatencyMs was reached */
  cpuLatencyBasis: string;
  /** one device of an edge or embedded plan, sized from its class's figures; null otherwise */
  device: DeviceFit | null;
  /** node-hours to serve the peak on the cheapest CPU instance and on the GPU option (realtime deep models) */
  peakCost: PeakCost | null;
}

export interface PeakCost {
  cpuUsdPerHour: number;
  cpuInstance: string;
  cpuReplicas: number;
  gpuUsdPerHour: number;
  gpuInstance: string;
  gpuReplicas: number;
}

export interface GpuOption {
  instance: GpuInstancePrice;
  precision: Precision;
  memoryNeededGb: number;
}

/** Tokens an encoder's input is padded to when the spec does not say (inference.sequenceTokens). */
export const DEFAULT_SEQUENCE_TOKENS = 128;

export function estimateWorkload(
  spec: ModeInputSpec,
  prices: PriceTable,
  models: ModelCatalog,
  calibration: Calibration | null = null,
): Workload {
  // while the serving mode is still open the latency may be unstated: it then drives no GPU choice
  const latencyMs = spec.inference.latencyP99Ms ?? Number.POSITIVE_INFINITY;
  // an unknown name is a contradiction (UNKNOWN_ARCHITECTURE): the plan sizes without it meanwhile
  const architecture = spec.model.architecture
    ? (models.architectures[spec.model.architecture] ?? null)
    : null;
  const classical =
    !architecture && CLASSICAL.has(spec.model.framework) && spec.useCase.kind !== "llm-generation";
  const embedded = architecture?.embeddingParametersMillions ?? 0;
  const parametersMillions =
    spec.model.parametersMillions ??
    (architecture
      ? architecture.parametersMillions - embedded
      : classical
        ? 0
        : spec.model.sizeMb / BYTES_PER_PARAM.fp32);
  const embeddingParametersMillions = spec.model.embeddingParametersMillions ?? embedded;
  const llm = architecture
    ? architecture.family === "llm"
    : spec.useCase.kind === "llm-generation" || parametersMillions >= 1000;
  const { flops: flopsPerRow, basis: flopsBasis } = rowFlops(
    spec,
    architecture,
    { classical, llm, parametersMillions },
    models,
  );
  const rowsPerRequest = spec.inference.rowsPerRequest;
  // an LLM is sized from its catalog entry: a calibration of one forward pass does not describe it
  const cpuMeasured = calibration?.device === "cpu" && !llm ? calibration : null;
  const cpuRowLatencyMs = cpuMeasured
    ? measuredRequestLatencyMs(cpuMeasured, rowsPerRequest)
    : ((flopsPerRow * rowsPerRequest) / (CPU_GFLOPS_PER_VCPU * 1e9 * 4)) *
      1000 *
      (llm ? spec.inference.llm.outputTokens : 1);
  const cpuLatencyBasis = cpuMeasured
    ? `measured: p99 of a ${rowsPerRequest}-row request on ${cpuMeasured.threads} thread(s) of ${cpuMeasured.machine.cpu} (stackwright calibrate)`
    : `estimated: ${rowsPerRequest} row(s) at ${CPU_GFLOPS_PER_VCPU} GFLOP/s per vCPU on 4 vCPU`;
  const llmSizing = llm && !classical ? sizeLlm(spec, { parametersMillions }, models, prices) : null;
  const gpuRequired = llm && parametersMillions >= 1000;
  const gpuRecommended =
    !classical && (llm || parametersMillions >= 100 || cpuRowLatencyMs > latencyMs * 0.5);
  const workload: Workload = {
    classical,
    llm,
    parametersMillions,
    embeddingParametersMillions,
    flopsPerRow,
    flopsBasis,
    rowsPerRequest,
    cpuRowLatencyMs,
    gpuRecommended,
    gpuRequired,
    gpu: classical
      ? null
      : llmSizing
        ? {
            instance: llmSizing.instance,
            precision: llmSizing.precision,
            memoryNeededGb: round2(
              llmSizing.weightsGb + llmSizing.sessionsPerReplica * llmSizing.kvCacheGbPerSession,
            ),
          }
        : cheapestGpu(parametersMillions + embeddingParametersMillions, llm, prices),
    llmSizing,
    calibration: llm ? null : calibration,
    managedEndpointInstance: null,
    managedEndpointPremiumPercent: null,
    device: deviceFit(
      spec,
      models,
      flopsPerRow * rowsPerRequest,
      parametersMillions + embeddingParametersMillions,
    ),
    cpuLatencyBasis,
    peakCost: null,
  };
  const managed = prices.managedEndpointInstances.find((m) => m.instance === workload.gpu?.instance.name);
  workload.managedEndpointInstance = managed?.name ?? null;
  workload.managedEndpointPremiumPercent =
    managed && workload.gpu
      ? Math.round((managed.hourlyUsd / workload.gpu.instance.hourlyUsd - 1) * 100)
      : null;
  if (!classical && !llm && workload.gpu && spec.inference.peakQps > 0)
    workload.peakCost = peakCost(spec, workload, prices, latencyMs * 0.5);
  return workload;
}

/**
 * The node-hours of serving the peak on CPU (the cheapest instance that holds the model) against the
 * GPU option, each at the target utilisation: what decides the hardware when both meet the latency.
 */
function peakCost(spec: ModeInputSpec, workload: Workload, prices: PriceTable, budgetMs: number): PeakCost {
  const modelGb = cpuModelMemoryGb(workload);
  const replicasFor = (qps: number) =>
    Math.max(1, Math.ceil(spec.inference.peakQps / (qps * TARGET_UTILIZATION)));
  const fitting = prices.cpuInstances.filter((c) => c.memoryGb >= modelGb);
  let cpu = { usd: Number.POSITIVE_INFINITY, name: "none", replicas: 0 };
  for (const instance of fitting) {
    const { qps } = replicaThroughput({ spec, workload, gpu: null, vcpu: instance.vcpu, budgetMs, modelGb });
    const replicas = replicasFor(qps);
    const usd = replicas * instance.hourlyUsd;
    if (usd < cpu.usd || (usd === cpu.usd && instance.name < cpu.name))
      cpu = { usd, name: instance.name, replicas };
  }
  const gpu = workload.gpu!;
  const { qps } = replicaThroughput({ spec, workload, gpu, vcpu: gpu.instance.vcpu, budgetMs, modelGb });
  const gpuReplicas = replicasFor(qps);
  return {
    cpuUsdPerHour: round2(cpu.usd),
    cpuInstance: cpu.name,
    cpuReplicas: cpu.replicas,
    gpuUsdPerHour: round2(gpuReplicas * gpu.instance.hourlyUsd),
    gpuInstance: gpu.instance.name,
    gpuReplicas,
  };
}

/**
 * FLOPs of one prediction: the spec's measured figure, else the architecture's published compute at
 * the request's input size, else an estimate from the parameter count (labelled so).
 */
function rowFlops(
  spec: ModeInputSpec,
  architecture: Architecture | null,
  w: { classical: boolean; llm: boolean; parametersMillions: number },
  models: ModelCatalog,
): { flops: number; basis: string } {
  if (spec.model.gflopsPerRow !== null)
    return {
      flops: spec.model.gflopsPerRow * 1e9,
      basis: `model.gflopsPerRow (${spec.model.gflopsPerRow} GFLOP)`,
    };
  const name = spec.model.architecture;
  if (architecture?.family === "vision") {
    const reference = architecture.imageSize!;
    const size = spec.inference.imageSize ?? reference;
    const flops = 2 * architecture.gmacs! * 1e9 * (size / reference) ** 2;
    return {
      flops,
      basis: `${name}: ${architecture.gmacs} GMACs at ${reference} x ${reference} (${architecture.source})${size === reference ? "" : `, scaled by the area to ${size} x ${size}`}, 2 FLOPs per multiply-add`,
    };
  }
  if (architecture?.family === "encoder") {
    const tokens = spec.inference.sequenceTokens ?? DEFAULT_SEQUENCE_TOKENS;
    const dense = (architecture.parametersMillions - (architecture.embeddingParametersMillions ?? 0)) * 1e6;
    // every token through the dense weights (2 FLOPs per weight), plus attention's scores and weighted
    // values: 2 x 2 x tokens^2 x hidden per layer (Kaplan et al. 2020, arXiv:2001.08361, Table 1)
    const flops = 2 * dense * tokens + 4 * architecture.layers! * tokens ** 2 * architecture.hiddenSize!;
    return {
      flops,
      basis: `${name}: 2 x ${round2(dense / 1e6)}M dense parameters x ${tokens} tokens + attention 4 x ${architecture.layers} layers x ${tokens}^2 x ${architecture.hiddenSize} (${architecture.source}; tokens ${spec.inference.sequenceTokens === null ? `assumed ${DEFAULT_SEQUENCE_TOKENS}: set inference.sequenceTokens` : "from inference.sequenceTokens"})`,
    };
  }
  if (w.classical)
    return {
      // trees and linear models: a few thousand comparisons or multiply-adds per MB of model
      flops: 2e5 + spec.model.sizeMb * 2e3,
      basis: "estimated: a tree or linear model's comparisons and multiply-adds from its size",
    };
  if (w.llm)
    return {
      flops: 2 * w.parametersMillions * 1e6,
      basis: `2 FLOPs per parameter per generated token${name ? ` (${name}, ${architecture!.source})` : ""}`,
    };
  const multiplier = flopsMultiplier(spec.useCase.kind, models);
  return {
    flops: 2 * w.parametersMillions * 1e6 * multiplier.value,
    basis: `estimated: 2 x parameters x ${multiplier.value} for ${spec.useCase.kind}, ${multiplier.basis} (set model.architecture or model.gflopsPerRow for a sourced figure)`,
  };
}

/**
 * GPU memory ~ parameters x bytes per parameter + 25% headroom (30% for an LLM's KV cache). The
 * cheapest instance that fits wins; at equal price the higher precision wins, so quantization is
 * chosen only when it lets a cheaper class fit.
 */
export function cheapestGpu(parametersMillions: number, llm: boolean, prices: PriceTable): GpuOption | null {
  const precisions: Precision[] = llm ? ["fp16", "int8", "int4"] : ["fp16"];
  const headroom = llm ? 1.3 : 1.25;
  // sorted by price, so the first instance with a precision that fits is the cheapest
  for (const instance of [...prices.gpuInstances].sort(
    (a, b) => a.hourlyUsd - b.hourlyUsd || (a.name < b.name ? -1 : 1),
  )) {
    const memory = instance.gpuMemoryGb * instance.gpuCount;
    for (const precision of precisions) {
      const memoryNeededGb = Math.max(
        1,
        (parametersMillions * 1e6 * BYTES_PER_PARAM[precision] * headroom) / 1e9,
      );
      if (memoryNeededGb <= memory) {
        return { instance, precision, memoryNeededGb: Math.round(memoryNeededGb * 10) / 10 };
      }
    }
  }
  return null;
}

export interface SizingInput {
  spec: ResolvedSpec;
  workload: Workload;
  prices: PriceTable;
  mode: string;
  hardware: string;
  runtime: string;
  /** averageQps resolved (given, or estimated from the peak and the traffic pattern) */
  averageQps: number;
}

/** Serverless container sizes (1 vCPU / 2 GiB per instance) used when the runtime is serverless. */
export const SERVERLESS_INSTANCE = { vcpu: 1, memoryGb: 2 } as const;

/** Average over peak QPS per traffic pattern, when only one of the two is given. */
export const AVERAGE_TO_PEAK_RATIO = { steady: 0.8, diurnal: 0.4, spiky: 0.2, scheduled: 0.1 } as const;

export function resolveAverageQps(spec: ModeInputSpec): number {
  if (spec.inference.averageQps !== null) return spec.inference.averageQps;
  const ratio = AVERAGE_TO_PEAK_RATIO[spec.inference.trafficPattern];
  return Math.round(spec.inference.peakQps * ratio * 100) / 100;
}

export function minimumReplicasForAvailability(targetPercent: number): { replicas: number; zones: number } {
  if (targetPercent >= 99.95) return { replicas: 3, zones: 3 };
  if (targetPercent >= 99.9) return { replicas: 2, zones: 2 };
  return { replicas: 1, zones: 1 };
}

/**
 * The latency one batch may take: half the p99 target (the rest is queueing and the network); a
 * batch run has only its deadline.
 */
export function batchBudgetMs(spec: ModeInputSpec, mode: string): number {
  return mode === "batch"
    ? Number.POSITIVE_INFINITY
    : (spec.inference.latencyP99Ms ?? Number.POSITIVE_INFINITY) * 0.5;
}

/** What one replica serves: on `gpu` when given, else on `vcpu` vCPUs; measured when calibrated. */
export function replicaThroughput(args: {
  spec: ModeInputSpec;
  workload: Workload;
  gpu: GpuOption | null;
  vcpu: number;
  budgetMs: number;
  modelGb: number;
}): { qps: number; rowsPerSecond: number; how: string; point?: OperatingPoint } {
  const { spec, workload, gpu, vcpu, budgetMs, modelGb } = args;
  const rows = workload.rowsPerRequest;
  const perRequest = rows > 1 ? `, ${rows} rows per request` : "";
  if (gpu) {
    const instance = gpu.instance;
    const gpus = instance.gpuCount;
    if (workload.llm && workload.llmSizing) {
      // a replica serves its sessions, each answer a first token and the rest at the decode rate
      const s = workload.llmSizing;
      const seconds = (s.ttftMs + (s.outputTokens - 1) * s.interTokenMs) / 1000;
      return {
        qps: s.sessionsPerReplica / seconds,
        rowsPerSecond: s.sessionsPerReplica / seconds,
        how: s.how,
      };
    }
    if (workload.llm) {
      // no instance meets the targets (LLM_TARGETS_UNMET): the cheapest that holds the weights
      const bytes = workload.parametersMillions * 1e6 * BYTES_PER_PARAM[gpu.precision];
      const stepSeconds = bytes / (instance.gpuBandwidthGbps * 1e9 * gpus);
      const tokens = spec.inference.llm.outputTokens;
      return {
        qps: 1 / stepSeconds / tokens,
        rowsPerSecond: 1 / stepSeconds / tokens,
        how: `no instance meets the LLM's targets: one session at a time, ${Math.round(bytes / 1e9)} GB of ${gpu.precision} weights read per token at ${instance.gpuBandwidthGbps} GB/s x ${gpus} GPU, ${tokens} tokens per answer`,
      };
    }
    const httpRequests = EVENT_LOOP_QPS;
    const c = workload.calibration;
    if (c && c.device !== "cpu" && sameGpu(c.machine.gpu, instance.gpuModel)) {
      const point = operatingPoint(c, rows, budgetMs);
      const gpuRows = point.rowsPerSecondPerUnit * gpus;
      return {
        qps: Math.min(gpuRows / rows, httpRequests),
        rowsPerSecond: gpuRows,
        how: `measured on ${point.on}: ${round2(point.rowsPerSecondPerUnit)} rows/s per GPU at batches of ${point.batch.rows} (${point.reason}) x ${gpus} GPU${perRequest}, capped by the event loop at ${HTTP_OVERHEAD_MS} ms a request`,
        point,
      };
    }
    const gpuRows = (instance.gpuTflops * 1e12 * GPU_UTILIZATION * gpus) / workload.flopsPerRow;
    return {
      qps: Math.min(gpuRows / rows, httpRequests),
      rowsPerSecond: gpuRows,
      how: `${formatFlops(workload.flopsPerRow)} per row (${workload.flopsBasis})${perRequest} on ${gpus}x ${instance.gpu} at ${instance.gpuTflops} TFLOPS x ${GPU_UTILIZATION} batched utilisation, capped by the event loop at ${HTTP_OVERHEAD_MS} ms a request`,
    };
  }
  const c = workload.calibration;
  if (c && c.device === "cpu") {
    // the measured cost of a row on one core, in the same arithmetic as the estimate's
    const point = operatingPoint(c, rows, budgetMs);
    const measuredRowMs = 1000 / point.rowsPerSecondPerUnit;
    return {
      qps: Math.min(EVENT_LOOP_QPS, (vcpu * 1000) / (HTTP_OVERHEAD_MS + measuredRowMs * rows)),
      rowsPerSecond: vcpu * point.rowsPerSecondPerUnit,
      how: `measured on ${point.on}: ${round2(point.rowsPerSecondPerUnit)} rows/s per vCPU at batches of ${point.batch.rows} (${point.reason})${perRequest}, plus ${HTTP_OVERHEAD_MS} ms on the event loop per request (at most ${Math.round(EVENT_LOOP_QPS)} requests/s a replica), ${vcpu} vCPU per replica${modelGb > 1 ? `; ${round2(modelGb)} GB of model in memory` : ""}`,
      point,
    };
  }
  const rowMs =
    (workload.flopsPerRow / (CPU_GFLOPS_PER_VCPU * 1e9)) *
    1000 *
    (workload.llm ? spec.inference.llm.outputTokens : 1);
  return {
    qps: Math.min(EVENT_LOOP_QPS, (vcpu * 1000) / (HTTP_OVERHEAD_MS + rowMs * rows)),
    rowsPerSecond: (vcpu * 1000) / rowMs,
    how: `${formatFlops(workload.flopsPerRow)} per row (${workload.flopsBasis})${perRequest} at ${CPU_GFLOPS_PER_VCPU} GFLOP/s per vCPU plus ${HTTP_OVERHEAD_MS} ms on the event loop per request (at most ${Math.round(EVENT_LOOP_QPS)} requests/s a replica), ${vcpu} vCPU per replica${modelGb > 1 ? `; ${round2(modelGb)} GB of model in memory` : ""}`,
  };
}

/** Sizes replicas; also returns rows per second per replica (what a batch run's duration follows). */
export function sizeCapacity(input: SizingInput): { capacity: Capacity; rowsPerSecond: number } {
  const { spec, workload, prices, mode, hardware, runtime, averageQps } = input;
  if (runtime === "on-device" && workload.device) return sizeOnDevice(input, workload.device);
  const availability = minimumReplicasForAvailability(spec.availability.targetPercent);
  const regions = spec.availability.regions.length;
  const useGpu = hardware === "gpu" && workload.gpu !== null;
  const gpu = useGpu ? workload.gpu : null;
  const serverless = runtime.startsWith("serverless");

  // Candidate instances: GPU fixed by the memory fit; CPU from smallest to largest until the replica
  // count is sane, among those whose memory holds the model (its embedding tables included) with room
  const modelGb = cpuModelMemoryGb(workload);
  const sorted = [...prices.cpuInstances].sort((a, b) => a.vcpu - b.vcpu || a.hourlyUsd - b.hourlyUsd);
  const fitting = sorted.filter((c) => c.memoryGb >= modelGb);
  const cpuCandidates = fitting.length > 0 ? fitting : sorted.slice(-1);
  const budgetMs = batchBudgetMs(spec, mode);
  const perReplica = (vcpu: number) => replicaThroughput({ spec, workload, gpu, vcpu, budgetMs, modelGb });

  let instanceType: string;
  let vcpu: number;
  if (gpu) {
    instanceType = gpu.instance.name;
    vcpu = gpu.instance.vcpu;
  } else if (serverless) {
    instanceType = `serverless-${SERVERLESS_INSTANCE.vcpu}vcpu-${SERVERLESS_INSTANCE.memoryGb}gb`;
    vcpu = SERVERLESS_INSTANCE.vcpu;
  } else {
    const load = mode === "batch" ? 0 : spec.inference.peakQps;
    const pick =
      cpuCandidates.find((c) => Math.ceil(load / (perReplica(c.vcpu).qps * TARGET_UTILIZATION)) <= 20) ??
      cpuCandidates[cpuCandidates.length - 1];
    // Small loads take the 4-vCPU class rather than the smallest, so one replica absorbs a spike.
    const chosen = load < 50 ? (cpuCandidates.find((c) => c.vcpu >= 4) ?? pick) : pick;
    instanceType = chosen.name;
    vcpu = chosen.vcpu;
  }
  const one = perReplica(vcpu);
  const perReplicaQps = Math.max(0.001, one.qps);

  let replicasMin: number;
  let replicasMax: number;
  let zones = availability.zones;
  let note: string;
  if (mode === "batch") {
    const rows = spec.inference.batch.rowsPerRun ?? 0;
    const deadlineSeconds = (spec.inference.batch.deadlineHours ?? 4) * 3600;
    replicasMin = 0;
    replicasMax = Math.max(1, Math.ceil(rows / (one.rowsPerSecond * deadlineSeconds * 0.7)));
    zones = 1;
    note = `${rows} rows per run within ${deadlineSeconds / 3600} h at 70% efficiency; nothing runs between runs`;
  } else {
    const rate =
      mode === "streaming" ? Math.max(averageQps, spec.inference.peakQps * 0.5) : spec.inference.peakQps;
    // an LLM's replicas hold its concurrent sessions (sizeLlm), which may outnumber what the rate needs
    const sessionsNeed = gpu && workload.llmSizing ? workload.llmSizing.replicas : 1;
    const forPeak = Math.max(sessionsNeed, Math.ceil(rate / (perReplicaQps * TARGET_UTILIZATION)));
    const forAverage = Math.max(1, Math.ceil(averageQps / (perReplicaQps * TARGET_UTILIZATION)));
    const variable = spec.inference.trafficPattern !== "steady" && mode === "realtime";
    replicasMin = Math.max(availability.replicas, variable ? forAverage : forPeak);
    const burst = spec.inference.trafficPattern === "spiky" ? 1.5 : 1;
    // losing one zone must not drop capacity below the peak: spread the peak over the survivors
    const zoneFactor = zones > 1 ? zones / (zones - 1) : 1;
    replicasMax = Math.max(replicasMin, Math.ceil(forPeak * burst * zoneFactor));
    note = `${rate} QPS at ${TARGET_UTILIZATION} target utilisation; minimum ${availability.replicas} for ${spec.availability.targetPercent}% availability`;
  }
  const capacity: Capacity = {
    replicasMin,
    replicasMax,
    hardware: gpu ? "gpu" : "cpu",
    instanceType,
    zones,
    regions,
    gpuType: gpu ? (gpu.instance.gpu ?? null) : null,
    gpuMemoryGb: gpu ? gpu.memoryNeededGb : null,
    perReplicaQps: round2(perReplicaQps),
    targetUtilization: TARGET_UTILIZATION,
    estimatedFrom: `${one.how}; ${note}`,
    precision: gpu ? gpu.precision : "fp32",
    ...(one.point
      ? {
          measured: {
            on: one.point.on,
            device: workload.calibration!.device,
            batchRows: one.point.batch.rows,
            p99Ms: one.point.batch.p99Ms,
            rowsPerSecondPerUnit: round2(one.point.rowsPerSecondPerUnit),
            unit: one.point.unit,
          },
        }
      : {}),
    ...(gpu && workload.llmSizing
      ? {
          llm: {
            tensorParallel: workload.llmSizing.tensorParallel,
            contextTokens: workload.llmSizing.contextTokens,
            outputTokens: workload.llmSizing.outputTokens,
            sessionsPerReplica: workload.llmSizing.sessionsPerReplica,
            ttftMs: workload.llmSizing.ttftMs,
            interTokenMs: workload.llmSizing.interTokenMs,
            weightsGb: workload.llmSizing.weightsGb,
            kvCacheGbPerSession: workload.llmSizing.kvCacheGbPerSession,
            gpuMemoryUtilization: workload.llmSizing.gpuMemoryUtilization,
            checkpointGb: workload.llmSizing.checkpointGb,
          },
        }
      : {}),
  };
  return { capacity, rowsPerSecond: one.rowsPerSecond };
}

/**
 * Memory a CPU replica needs for the model: its dense and embedding parameters at fp32 with 25%
 * headroom, plus 1 GB for the serving core and the runtime.
 */
export function cpuModelMemoryGb(workload: Workload): number {
  return ((workload.parametersMillions + workload.embeddingParametersMillions) * 1e6 * 4 * 1.25) / 1e9 + 1;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function formatFlops(flops: number): string {
  if (flops >= 1e9) return `${round2(flops / 1e9)} GFLOP`;
  if (flops >= 1e6) return `${round2(flops / 1e6)} MFLOP`;
  return `${round2(flops / 1e3)} kFLOP`;
}

/** Figures an LLM's serving is sized from (rules/models.yaml `serving`, each with its source). */
export interface LlmServingConstants {
  decodeBandwidthEfficiency: number;
  prefillUtilization: number;
  gpuMemoryUtilization: number;
  maxSequences: number;
  kvCacheBytes: number;
}

export function llmConstants(models: ModelCatalog): LlmServingConstants {
  const s = models.serving;
  return {
    decodeBandwidthEfficiency: s.decodeBandwidthEfficiency.value,
    prefillUtilization: s.prefillUtilization.value,
    gpuMemoryUtilization: s.gpuMemoryUtilization.value,
    maxSequences: s.maxSequences.value,
    kvCacheBytes: s.kvCacheBytes.value,
  };
}

/** An LLM's shape: what its weights and KV cache weigh. */
export interface LlmShape {
  parameters: number;
  layers: number;
  kvHeads: number;
  headDim: number;
}

/** Bytes of KV cache one token of context holds: keys and values, every layer, every KV head. */
export function kvBytesPerToken(shape: LlmShape, c: LlmServingConstants): number {
  return 2 * shape.layers * shape.kvHeads * shape.headDim * c.kvCacheBytes;
}

/**
 * One engine's latencies on `gpus` GPUs in one tensor-parallel group with `batch` sessions of
 * `contextTokens` each: decode reads every weight and every session's KV cache once per generated
 * token (memory-bound), prefill multiplies the prompt through the weights (compute-bound).
 */
export function llmLatency(
  shape: LlmShape,
  hardware: { gpus: number; bandwidthGbps: number; tflops: number },
  run: { precision: Precision; batch: number; contextTokens: number; promptTokens: number },
  c: LlmServingConstants,
): { interTokenMs: number; ttftMs: number } {
  const weights = shape.parameters * BYTES_PER_PARAM[run.precision];
  const kv = run.batch * run.contextTokens * kvBytesPerToken(shape, c);
  const bandwidth = hardware.bandwidthGbps * 1e9 * hardware.gpus * c.decodeBandwidthEfficiency;
  const flops = hardware.tflops * 1e12 * hardware.gpus * c.prefillUtilization;
  return {
    interTokenMs: ((weights + kv) / bandwidth) * 1000,
    ttftMs: ((2 * shape.parameters * run.promptTokens) / flops) * 1000,
  };
}

/**
 * The precisions the spec's priority allows, most faithful first. FP8 (weights and activations on
 * the FP8 tensor cores of Ada and Hopper GPUs) keeps quality close to fp16 and doubles the prefill
 * peak, so `performance` allows it; weight-only int8 and int4 trade quality for memory and need
 * another priority.
 */
export function allowedPrecisions(priority: string): Precision[] {
  return priority === "performance" ? ["fp16", "fp8"] : ["fp16", "fp8", "int8", "int4"];
}

/** The dense peak a precision computes at on `instance`: FP8 tensor cores where it has them, else fp16 (weight-only int8/int4 compute in fp16). */
export function peakTflops(instance: GpuInstancePrice, precision: Precision): number | null {
  if (precision === "fp8") return instance.gpuFp8Tflops ?? null;
  return instance.gpuTflops;
}

export interface LlmSizing {
  instance: GpuInstancePrice;
  precision: Precision;
  /** the GPUs of one replica, in one tensor-parallel group */
  tensorParallel: number;
  contextTokens: number;
  outputTokens: number;
  /** sessions at peak (inference.llm.concurrentSessions, or peak QPS x the p99 budget) */
  sessions: number;
  sessionsPerReplica: number;
  ttftMs: number;
  interTokenMs: number;
  weightsGb: number;
  kvCacheGbPerSession: number;
  /** the share of each GPU's memory the engine may take, which the sessions were fitted in */
  gpuMemoryUtilization: number;
  /** the checkpoint a replica copies and loads (checkpointPrecision), GB */
  checkpointGb: number;
  replicas: number;
  /** the shape's source: the architecture named, or the nearest catalogued one assumed */
  shapeFrom: string;
  how: string;
}

/**
 * The cheapest way to serve an LLM's sessions: for each GPU instance (one replica, all its GPUs in
 * one tensor-parallel group) and each precision the priority allows, the sessions a replica holds
 * (the KV cache of each at full context beside the weights, in the memory the engine may use) and
 * can decode within the inter-token target; the instance and precision whose replicas cost least
 * win (at equal cost the more faithful precision). Null when no instance meets the targets.
 */
export function sizeLlm(
  spec: ModeInputSpec,
  workload: Pick<Workload, "parametersMillions">,
  models: ModelCatalog,
  prices: PriceTable,
): LlmSizing | null {
  const c = llmConstants(models);
  const { shape, from } = llmShapeOf(spec, workload.parametersMillions, models);
  const llm = spec.inference.llm;
  const catalogContext = spec.model.architecture
    ? models.architectures[spec.model.architecture]?.contextTokens
    : undefined;
  const contextTokens =
    llm.contextTokens ?? Math.min(catalogContext ?? DEFAULT_LLM_CONTEXT, DEFAULT_LLM_CONTEXT);
  const outputTokens = Math.min(llm.outputTokens, contextTokens - 1);
  const promptTokens = contextTokens - outputTokens;
  const budgetMs = spec.inference.latencyP99Ms ?? Number.POSITIVE_INFINITY;
  const sessions =
    llm.concurrentSessions ??
    Math.max(1, Math.ceil(spec.inference.peakQps * (Number.isFinite(budgetMs) ? budgetMs / 1000 : 10)));
  const perSession = contextTokens * kvBytesPerToken(shape, c);
  let best: LlmSizing | null = null;
  for (const instance of prices.gpuInstances) {
    const gpus = instance.gpuCount;
    const memory = instance.gpuMemoryGb * 1e9 * gpus * c.gpuMemoryUtilization;
    for (const precision of allowedPrecisions(spec.budget.priority)) {
      const tflops = peakTflops(instance, precision);
      // FP8 needs FP8 tensor cores (the price table says which GPUs have them)
      if (tflops === null) continue;
      const hardware = { gpus, bandwidthGbps: instance.gpuBandwidthGbps, tflops };
      const weights = shape.parameters * BYTES_PER_PARAM[precision];
      const byMemory = Math.min(c.maxSequences, Math.floor((memory - weights) / perSession));
      if (byMemory < 1) continue;
      const at = (batch: number) =>
        llmLatency(shape, hardware, { precision, batch, contextTokens, promptTokens }, c);
      const { ttftMs } = at(1);
      if (llm.ttftMs !== null && ttftMs > llm.ttftMs) continue;
      // the whole answer within the p99 budget, each token within the inter-token target
      const itlTarget = Math.min(
        llm.interTokenMs ?? Number.POSITIVE_INFINITY,
        (budgetMs - ttftMs) / outputTokens,
      );
      // inter-token latency grows linearly with the sessions decoded together: the most that meet it
      const slope = at(2).interTokenMs - at(1).interTokenMs;
      const byLatency = Math.floor((itlTarget - at(1).interTokenMs) / slope) + 1;
      const batch = Math.min(byMemory, byLatency);
      if (batch < 1) continue;
      const replicas = Math.max(1, Math.ceil(sessions / (batch * TARGET_UTILIZATION)));
      const cost = replicas * instance.hourlyUsd;
      if (best && cost >= best.replicas * best.instance.hourlyUsd) continue;
      const interTokenMs = at(batch).interTokenMs;
      best = {
        instance,
        precision,
        tensorParallel: gpus,
        contextTokens,
        outputTokens,
        sessions,
        sessionsPerReplica: batch,
        ttftMs: round2(ttftMs),
        interTokenMs: round2(interTokenMs),
        weightsGb: round2(weights / 1e9),
        kvCacheGbPerSession: round2(perSession / 1e9),
        gpuMemoryUtilization: c.gpuMemoryUtilization,
        checkpointGb: round2((shape.parameters * BYTES_PER_PARAM[checkpointPrecision(precision)]) / 1e9),
        replicas,
        shapeFrom: from,
        how: `${round2(weights / 1e9)} GB of ${precision} weights and ${batch} sessions' KV cache (${round2(perSession / 1e9)} GB each at ${contextTokens} tokens: ${kvBytesPerToken(shape, c) / 1024} KiB per token, ${from}) in ${gpus} x ${instance.gpu} (tensor parallel ${gpus}, ${c.gpuMemoryUtilization} of ${instance.gpuMemoryGb} GB each); decode ${round2(interTokenMs)} ms per token (memory-bound at ${c.decodeBandwidthEfficiency} of ${hardware.bandwidthGbps} GB/s per GPU), first token ${round2(ttftMs)} ms (${promptTokens}-token prompt at ${c.prefillUtilization} of ${hardware.tflops} TFLOPS per GPU); ${sessions} concurrent sessions at ${TARGET_UTILIZATION} target utilisation`,
      };
    }
  }
  return best;
}

/**
 * The precision of the checkpoint an LLM engine loads to serve at `precision`: FP8 is quantized from
 * the 16-bit checkpoint as the engine loads it (vLLM's and TGI's --quantization fp8); int4 and int8
 * are checkpoints quantized beforehand (AWQ, GPTQ, compressed-tensors), as large as they serve.
 */
export function checkpointPrecision(precision: Precision): Precision {
  return precision === "fp8" ? "fp16" : precision;
}

/** Context a session holds when the spec does not say (inference.llm.contextTokens). */
export const DEFAULT_LLM_CONTEXT = 4096;

/** The named architecture's shape, or the catalogued LLM nearest in parameters (said to be assumed). */
function llmShapeOf(
  spec: ModeInputSpec,
  parametersMillions: number,
  models: ModelCatalog,
): { shape: LlmShape; from: string } {
  const entries = Object.entries(models.architectures).filter(([, a]) => a.family === "llm");
  const named = spec.model.architecture ? models.architectures[spec.model.architecture] : undefined;
  const [name, a] =
    named?.family === "llm"
      ? [spec.model.architecture!, named]
      : entries.sort(
          ([, x], [, y]) =>
            Math.abs(Math.log(x.parametersMillions / parametersMillions)) -
            Math.abs(Math.log(y.parametersMillions / parametersMillions)),
        )[0];
  return {
    shape: {
      parameters: parametersMillions * 1e6,
      layers: a.layers!,
      kvHeads: a.kvHeads!,
      headDim: a.hiddenSize! / a.heads!,
    },
    from:
      named?.family === "llm"
        ? `${name}'s shape (${a.source})`
        : `assumed shaped like ${name} (set model.architecture)`,
  };
}

/**
 * An edge or embedded plan's capacity is its devices: one replica each (the fleet is the capacity,
 * nothing scales), on the device class's figures; a device answers one request at a time at the
 * latency its class reaches.
 */
function sizeOnDevice(input: SizingInput, device: DeviceFit): { capacity: Capacity; rowsPerSecond: number } {
  const { spec } = input;
  const devices = spec.edge?.devices ?? 1;
  const int8 = !device.fitsFp32 && device.fitsInt8;
  const perReplicaQps = device.latencyMs > 0 ? 1000 / device.latencyMs : 1000;
  const capacity: Capacity = {
    replicasMin: devices,
    replicasMax: devices,
    hardware: device.accelerator === "cuda" ? "gpu" : "cpu",
    instanceType: `${device.hardware}: ${device.title}`,
    zones: 1,
    regions: 1,
    gpuType: null,
    gpuMemoryGb: null,
    perReplicaQps: round2(perReplicaQps),
    targetUtilization: TARGET_UTILIZATION,
    estimatedFrom: `${input.workload.flopsBasis}; ${device.latencyMs} ms a request at ${device.gflops} GFLOP/s (${device.basis}); ${int8 ? device.memoryMbInt8 : device.memoryMbFp32} MB of ${device.memoryMb} MB with the model at ${int8 ? "int8" : "FP32"} (the serving core's own memory measured in bench/edge/memory-bench.js); one replica on each of ${devices} devices`,
    precision: int8 ? "int8" : "fp32",
  };
  return { capacity, rowsPerSecond: 0 };
}
