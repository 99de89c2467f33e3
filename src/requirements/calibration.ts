/**
 * stackwright.calibration.json: a model's measured throughput, written by `stackwright calibrate`
 * (src/serve/calibrate.ts) and read, like the spec, as an input to the plan (src/plan/calibration.ts
 * sizes from it). Its shape lives here, below both.
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

/** The machine a calibration ran on, in words. */
export function calibrationMachine(c: Calibration): string {
  const hardware =
    c.device === "cpu" ? `${c.threads} thread(s) of ${c.machine.cpu}` : (c.machine.gpu ?? c.device);
  return `${hardware}, ${c.model.file} sha256 ${c.model.sha256.slice(0, 12)}, ${c.measuredAt.slice(0, 10)}`;
}
