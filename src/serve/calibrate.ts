/**
 * `stackwright calibrate`: a model's throughput and latency measured on this machine through the
 * serving core's own execution path (the session options, wire tensors and runSession every
 * executor uses), at a range of batch sizes. The plan sizes replicas from the result instead of
 * its FLOP estimate (src/plan/calibration.ts).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { availableParallelism, cpus, totalmem } from "node:os";
import { basename } from "node:path";
import {
  CALIBRATION_API_VERSION,
  CALIBRATION_KIND,
  type CalibratedBatch,
  type Calibration,
} from "../requirements/calibration.js";
import { timeRuns, zeroFeeds } from "./execution.js";
import { assertServable, metaOf, openSession, ortVersion, runSession, type Session } from "./ort-session.js";
import { onFirstProvider } from "./pool.js";

export const DEFAULT_BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const;

export interface CalibrateOptions {
  bytes: Uint8Array;
  /** the model's path as given (its base name is recorded) */
  file: string;
  /** cpu, cuda, webgpu, or auto (the first that loads) */
  device: string;
  /** ONNX Runtime intra-op threads; the figure per core divides by it */
  threads: number;
  batchSizes: readonly number[];
  /** timed runs per batch size go on until this long has passed (and at least minRuns ran) */
  millisecondsPerBatch: number;
  minRuns?: number;
  /** a batch size whose single run takes longer than this ends the sweep (larger ones would too) */
  maxRunMs?: number;
  now: Date;
  progress?: (line: string) => void;
}

export class CalibrationError extends Error {
  override readonly name = "CalibrationError";
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

async function measureBatch(
  session: Session,
  inputs: ReturnType<typeof metaOf>["inputs"],
  rows: number,
  options: CalibrateOptions,
): Promise<{ batch: CalibratedBatch; slowest: number }> {
  const samples = await timeRuns(
    () => zeroFeeds(inputs, rows),
    (input) => runSession(session, input, false),
    {
      minRuns: options.minRuns ?? 20,
      maxRuns: 20_000,
      budgetMs: options.millisecondsPerBatch,
      stopAboveMs: options.maxRunMs ?? 2000,
    },
  );
  const total = samples.reduce((a, b) => a + b, 0);
  const sorted = [...samples].sort((a, b) => a - b);
  const rowsPerSecond = (rows * samples.length * 1000) / total;
  const cpu = options.device === "cpu";
  return {
    batch: {
      rows,
      runs: samples.length,
      p50Ms: round3(percentile(sorted, 50)),
      p99Ms: round3(percentile(sorted, 99)),
      rowsPerSecond: round3(rowsPerSecond),
      ...(cpu ? { rowsPerSecondPerCore: round3(rowsPerSecond / options.threads) } : {}),
    },
    slowest: sorted[sorted.length - 1],
  };
}

/** The GPU's name from nvidia-smi, or null where there is none. */
function gpuName(): string | null {
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out.split("\n")[0].trim() || null;
  } catch {
    return null;
  }
}

/** Runs the sweep and returns the calibration (the caller writes it). */
export async function calibrateModel(options: CalibrateOptions): Promise<Calibration> {
  const progress = options.progress ?? (() => {});
  let opened: { session: Session; provider: string };
  try {
    opened = await onFirstProvider(
      options.device,
      async (provider) => ({ session: await openSession(options.bytes, [provider], options.threads) }),
      (provider, reason) => progress(`${provider} skipped: ${reason}`),
    );
  } catch (error) {
    throw new CalibrationError(`cannot load ${options.file}: ${(error as Error).message}`);
  }
  const { session, provider } = opened;
  const device = provider === "cuda" || provider === "webgpu" ? provider : "cpu";
  try {
    const meta = metaOf(session);
    try {
      assertServable(meta);
    } catch (error) {
      throw new CalibrationError(`${options.file}: ${(error as Error).message}`);
    }
    const { inputs } = meta;
    if (inputs.length === 0) throw new CalibrationError(`${options.file} has no inputs`);
    // a fixed first dimension is the only batch the model takes
    const fixed = inputs.map((i) => i.shape?.[0]).find((d): d is number => typeof d === "number" && d > 0);
    const sizes = fixed === undefined ? [...options.batchSizes] : [fixed];
    if (fixed !== undefined)
      progress(`the model's batch dimension is fixed at ${fixed}: measuring that batch only`);
    const batches: CalibratedBatch[] = [];
    for (const rows of [...new Set(sizes)].sort((a, b) => a - b)) {
      let measured: Awaited<ReturnType<typeof measureBatch>>;
      try {
        measured = await measureBatch(session, inputs, rows, { ...options, device });
      } catch (error) {
        throw new CalibrationError(
          `batch of ${rows}: ${(error as Error).message.split("\n")[0]} (the model's inputs: ${inputs.map((i) => `${i.name} ${i.type ?? "?"} [${(i.shape ?? []).join(", ")}]`).join("; ")})`,
        );
      }
      batches.push(measured.batch);
      const b = measured.batch;
      progress(
        `batch ${rows}: ${Math.round(b.rowsPerSecond).toLocaleString("en-US")} rows/s, p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms (${b.runs} runs)`,
      );
      if (measured.slowest > (options.maxRunMs ?? 2000)) {
        progress(`a run took ${Math.round(measured.slowest)} ms: larger batches are not measured`);
        break;
      }
    }
    const cpu = cpus()[0];
    return {
      apiVersion: CALIBRATION_API_VERSION,
      kind: CALIBRATION_KIND,
      measuredAt: options.now.toISOString(),
      model: {
        file: basename(options.file),
        sha256: createHash("sha256").update(options.bytes).digest("hex"),
        bytes: options.bytes.byteLength,
      },
      device,
      threads: options.threads,
      machine: {
        cpu: cpu?.model.trim() || "unknown CPU",
        cores: availableParallelism(),
        memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
        platform: `${process.platform}-${process.arch}`,
        node: process.version,
        onnxruntime: ortVersion(),
        gpu: device === "cpu" ? null : gpuName(),
      },
      batches,
    };
  } finally {
    await session.release();
  }
}
