/**
 * Sizing from a calibration (src/requirements/calibration.ts): the batch a replica runs at and the
 * latency of a request, read off the measurements.
 */
import { type CalibratedBatch, type Calibration, calibrationMachine } from "../requirements/calibration.js";

export type { CalibratedBatch, Calibration } from "../requirements/calibration.js";

/** What a plan sizes from, read off a calibration (recorded in capacity.measured). */
export interface OperatingPoint {
  /** the measured batch used */
  batch: CalibratedBatch;
  /** rows / second per vCPU (CPU) or per GPU */
  rowsPerSecondPerUnit: number;
  unit: "vcpu" | "gpu";
  /** why this batch: the latency budget it meets, or that none meets it */
  reason: string;
  /** "<cpu or gpu>, <file> sha256 <12 hex>, <date>": the words after "measured on" */
  on: string;
}

/**
 * The batch a replica runs at: the highest throughput among the measured batches of at least
 * `rowsPerRequest` rows whose p99 fits `budgetMs` (dynamic batching gathers up to that many rows);
 * when none fits, the smallest batch that holds a request (said in `reason`, the latency check
 * then reports it).
 */
export function operatingPoint(c: Calibration, rowsPerRequest: number, budgetMs: number): OperatingPoint {
  const perUnit = (b: CalibratedBatch) =>
    c.device === "cpu" ? (b.rowsPerSecondPerCore ?? b.rowsPerSecond / c.threads) : b.rowsPerSecond;
  const sorted = [...c.batches].sort((a, b) => a.rows - b.rows);
  const holding = sorted.filter((b) => b.rows >= rowsPerRequest);
  const candidates = holding.length > 0 ? holding : sorted.slice(-1);
  const fitting = candidates.filter((b) => b.p99Ms <= budgetMs);
  const batch =
    fitting.length > 0 ? fitting.reduce((best, b) => (perUnit(b) > perUnit(best) ? b : best)) : candidates[0];
  const budget = Number.isFinite(budgetMs) ? `${round2(budgetMs)} ms` : "no latency bound";
  return {
    batch,
    rowsPerSecondPerUnit: perUnit(batch),
    unit: c.device === "cpu" ? "vcpu" : "gpu",
    reason:
      fitting.length > 0
        ? `the fastest measured batch within ${budget} (p99 ${batch.p99Ms} ms at ${batch.rows} rows)`
        : `no measured batch of ${rowsPerRequest}+ rows meets ${budget}: the smallest, ${batch.rows} rows at p99 ${batch.p99Ms} ms`,
    on: calibrationMachine(c),
  };
}

/**
 * One request's model latency from the measurements: the p99 of the smallest batch that holds
 * it, or the largest measured batch scaled by rows when the request is larger than any.
 */
export function measuredRequestLatencyMs(c: Calibration, rowsPerRequest: number): number {
  const sorted = [...c.batches].sort((a, b) => a.rows - b.rows);
  const holding = sorted.find((b) => b.rows >= rowsPerRequest);
  if (holding) return holding.p99Ms;
  const largest = sorted[sorted.length - 1];
  return (largest.p99Ms * rowsPerRequest) / largest.rows;
}

/**
 * Does a GPU calibration (the name nvidia-smi gave) describe a GPU model of rules/models.yaml? The
 * model's chip and memory must both be in the name; its form factor (sxm, pcie) is not always there
 * ("Tesla T4" is nvidia-t4, "NVIDIA A100-SXM4-40GB" nvidia-a100-40gb, not nvidia-a100-80gb-sxm).
 */
export function sameGpu(measured: string | null, gpuModel: string): boolean {
  if (!measured) return false;
  const have = measured.toLowerCase().split(/[\s_-]+/);
  return gpuModel
    .toLowerCase()
    .split("-")
    .filter((part) => !["nvidia", "sxm", "pcie"].includes(part))
    .every((part) => have.includes(part));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
