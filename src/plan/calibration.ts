/**
 * A model's measured throughput (`stackwright calibrate`, written to stackwright.calibration.json):
 * what the capacity model uses instead of its FLOP estimate when a plan is given one. Pure: the
 * plan reads the parsed file; the measurement itself lives in src/serve/calibrate.ts.
 */
import { z } from "zod";

export const CALIBRATION_API_VERSION = "stackwright.dev/v1";
export const CALIBRATION_KIND = "Calibration";
/** The file `calibrate` writes and `plan` picks up beside the spec. */
export const CALIBRATION_FILE = "stackwright.calibration.json";

const batchSchema = z
  .object({
    /** rows in one session.run */
    rows: z.number().int().positive(),
    /** timed runs */
    runs: z.number().int().positive(),
    p50Ms: z.number().nonnegative(),
    p99Ms: z.number().nonnegative(),
    /** rows / second over the timed runs, on `threads` intra-op threads (CPU) or one GPU */
    rowsPerSecond: z.number().positive(),
    /** CPU: rowsPerSecond / threads, the figure a replica's vCPUs multiply */
    rowsPerSecondPerCore: z.number().positive().optional(),
  })
  .strict();

export const calibrationSchema = z
  .object({
    apiVersion: z.literal(CALIBRATION_API_VERSION),
    kind: z.literal(CALIBRATION_KIND),
    /** when it was measured (ISO 8601) */
    measuredAt: z.string(),
    model: z
      .object({
        /** the file's name as given to calibrate */
        file: z.string(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        bytes: z.number().int().nonnegative(),
      })
      .strict(),
    /** the execution provider the runs used */
    device: z.enum(["cpu", "cuda", "webgpu"]),
    /** ONNX Runtime intra-op threads of the measured session (CPU) */
    threads: z.number().int().positive(),
    machine: z
      .object({
        cpu: z.string(),
        cores: z.number().int().positive(),
        memoryGb: z.number().positive(),
        platform: z.string(),
        node: z.string(),
        onnxruntime: z.string(),
        /** the GPU's name (nvidia-smi) when the device is one */
        gpu: z.string().nullable(),
      })
      .strict(),
    batches: z.array(batchSchema).min(1),
  })
  .strict();

export type Calibration = z.infer<typeof calibrationSchema>;
export type CalibratedBatch = z.infer<typeof batchSchema>;

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

/** The machine a calibration ran on, in words. */
export function calibrationMachine(c: Calibration): string {
  const hardware =
    c.device === "cpu" ? `${c.threads} thread(s) of ${c.machine.cpu}` : (c.machine.gpu ?? c.device);
  return `${hardware}, ${c.model.file} sha256 ${c.model.sha256.slice(0, 12)}, ${c.measuredAt.slice(0, 10)}`;
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

/** Does a GPU calibration describe this instance's GPU? ("Tesla T4" measures an nvidia-t4) */
export function sameGpu(measured: string | null, instanceGpu: string | undefined): boolean {
  if (!measured || !instanceGpu) return false;
  const want = instanceGpu
    .toLowerCase()
    .replace(/^nvidia-/, "")
    .split("-");
  const have = measured.toLowerCase().split(/[\s_-]+/);
  return want.every((part) => have.includes(part));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
