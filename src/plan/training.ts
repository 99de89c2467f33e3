/**
 * How long a training run takes and on what, from the model's compute and the dataset, and whether
 * it fits its cadence. Neural networks: 3 x the forward FLOPs per sample (forward and backward, the
 * 6N-per-token of Kaplan et al. for an LLM), over the dataset's samples and passes, at a sourced
 * fraction of the accelerator's peak (rules/models.yaml `training`); the accelerator must hold the
 * training state (16 bytes a parameter with mixed-precision Adam), sharded over several instances
 * when one cannot. Trees and linear models train on CPU at an assumed 50 GB an hour.
 */
import type { ModelCatalog, PriceTable } from "../engine/index.js";
import type { InventoryTraining } from "../infra/index.js";
import type { ModeInputSpec } from "../requirements/index.js";
import { CPU_GFLOPS_PER_VCPU, DEFAULT_SEQUENCE_TOKENS, type Workload } from "./capacity.js";

/** Runs a month per cadence (on-drift: an assumed two). */
export const RUNS_PER_MONTH = { daily: 30.4, weekly: 4.35, monthly: 1, "on-drift": 2 } as const;
/** Hours between runs: a run longer than this overlaps the next. */
export const CADENCE_HOURS = { daily: 24, weekly: 168, monthly: 730, "on-drift": null } as const;
/** Passes over the dataset a non-LLM network trains for (assumed; an LLM fine-tune makes one). */
export const EPOCHS = 3;
/** Trees and linear models: GB of training data an hour on the instance (assumed). */
const CLASSICAL_GB_PER_HOUR = 50;

export interface TrainingPlan extends InventoryTraining {
  /** the cadence's hours between runs (null: on drift, no bound) */
  cadenceHours: number | null;
  /** the option the run needs to fit its cadence, cheapest per run; null when none does */
  cheapestFitting: InventoryTraining | null;
}

export function estimateTraining(
  spec: ModeInputSpec,
  workload: Workload,
  models: ModelCatalog,
  prices: PriceTable,
): TrainingPlan {
  const { cadence, datasetGb } = spec.training;
  const runsPerMonth = RUNS_PER_MONTH[cadence];
  const cadenceHours = CADENCE_HOURS[cadence];
  const options = workload.classical
    ? classicalOptions(spec, prices)
    : neuralOptions(spec, workload, models, prices);
  const perRun = (o: InventoryTraining) => o.hoursPerRun * o.instances * o.hourlyUsd;
  const byCost = [...options].sort((a, b) => perRun(a) - perRun(b) || a.hoursPerRun - b.hoursPerRun);
  const fitting = byCost.filter((o) => cadenceHours === null || o.hoursPerRun <= cadenceHours);
  const fastest = [...options].sort((a, b) => a.hoursPerRun - b.hoursPerRun)[0];
  const chosen = fitting[0] ?? fastest;
  return {
    ...chosen,
    runsPerMonth,
    cadenceHours,
    cheapestFitting: fitting[0] ? { ...fitting[0], runsPerMonth } : null,
    basis: `${chosen.basis}; ${datasetGb} GB of data, ${runsPerMonth} runs a month (${cadence})`,
  };
}

function classicalOptions(spec: ModeInputSpec, prices: PriceTable): InventoryTraining[] {
  const hoursPerRun = round2(Math.max(0.5, spec.training.datasetGb / CLASSICAL_GB_PER_HOUR));
  // the second-largest CPU instance (the largest is rarely worth it for a tree ensemble)
  const instance = [...prices.cpuInstances].sort((a, b) => b.vcpu - a.vcpu)[1] ?? prices.cpuInstances[0];
  return [
    {
      instance: instance.name,
      hourlyUsd: instance.hourlyUsd,
      instances: 1,
      hoursPerRun,
      runsPerMonth: 0,
      basis: `a tree or linear model at an assumed ${CLASSICAL_GB_PER_HOUR} GB/h on ${instance.name}`,
    },
  ];
}

function neuralOptions(
  spec: ModeInputSpec,
  workload: Workload,
  models: ModelCatalog,
  prices: PriceTable,
): InventoryTraining[] {
  const t = models.training;
  const { flops, what } = trainingFlops(spec, workload, t.bytesPerToken.value);
  const parameters = (workload.parametersMillions + workload.embeddingParametersMillions) * 1e6;
  const state = parameters * t.bytesPerTrainedParameter.value;
  const gpu = spec.training.gpu || workload.gpuRequired || workload.parametersMillions >= 100;
  // each candidate's memory for the training state and its compute rate, on its GPUs or its vCPUs
  const candidates = gpu
    ? prices.gpuInstances.map((instance) => ({
        instance,
        memory: instance.gpuMemoryGb * 1e9 * instance.gpuCount,
        rate: instance.gpuTflops * 1e12 * instance.gpuCount * t.utilization.value,
        at: `${t.utilization.value} of ${instance.gpuTflops} TFLOPS x ${instance.gpuCount} GPU (${t.utilization.source})`,
      }))
    : prices.cpuInstances.map((instance) => ({
        instance,
        memory: instance.memoryGb * 1e9,
        rate: CPU_GFLOPS_PER_VCPU * 1e9 * instance.vcpu,
        at: `${CPU_GFLOPS_PER_VCPU} GFLOP/s per vCPU`,
      }));
  return candidates.map(({ instance, memory, rate, at }) => {
    // the training state sharded over as many instances as it needs (FSDP / ZeRO-3)
    const count = Math.max(1, Math.ceil((state * 1.2) / memory));
    const hoursPerRun = round2(Math.max(0.1, flops / (rate * count) / 3600));
    return {
      instance: instance.name,
      hourlyUsd: instance.hourlyUsd,
      instances: count,
      hoursPerRun,
      runsPerMonth: 0,
      basis: `${what}: ${(flops / 1e18).toPrecision(3)} EFLOP on ${count > 1 ? `${count} x ` : ""}${instance.name} at ${at}${count > 1 ? `, its ${round2(state / 1e9)} GB of training state (${t.bytesPerTrainedParameter.value} bytes a parameter) sharded` : ""}`,
    };
  });
}

/** A run's FLOPs: 3 x forward per sample x samples x passes (an LLM: 6 x parameters x tokens, one pass). */
function trainingFlops(
  spec: ModeInputSpec,
  workload: Workload,
  bytesPerToken: number,
): { flops: number; what: string } {
  const bytes = spec.training.datasetGb * 1e9;
  if (workload.llm) {
    const tokens = bytes / bytesPerToken;
    return {
      flops: 6 * workload.parametersMillions * 1e6 * tokens,
      what: `6 x ${workload.parametersMillions}M parameters x ${(tokens / 1e9).toPrecision(3)}B tokens (${bytesPerToken} bytes a token), one pass`,
    };
  }
  // bytes a stored sample takes: a JPEG-compressed image (about 10:1), a sequence's text, or a row
  const image = spec.inference.imageSize ?? 224;
  const sampleBytes =
    spec.useCase.kind === "computer-vision"
      ? (image * image * 3) / 10
      : spec.inference.sequenceTokens !== null ||
          ["nlp-classification", "embedding-search"].includes(spec.useCase.kind)
        ? (spec.inference.sequenceTokens ?? DEFAULT_SEQUENCE_TOKENS) * bytesPerToken
        : 1000;
  const samples = bytes / sampleBytes;
  return {
    flops: 3 * workload.flopsPerRow * samples * EPOCHS,
    what: `3 x ${(workload.flopsPerRow / 1e9).toPrecision(3)} GFLOP a sample x ${(samples / 1e6).toPrecision(3)}M samples (an assumed ${Math.round(sampleBytes)} bytes each) x ${EPOCHS} passes (assumed)`,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
