/**
 * Where a model version runs, chosen per version by measurement when it loads. A batch that costs
 * no more than handing it to a worker thread (within HOP_MARGIN) runs on the event loop (the hop
 * would cost about as much as the work, and the loop is blocked hardly longer than a hop would
 * take); anything heavier runs in the worker pool, so the event loop keeps parsing requests and
 * answering probes.
 */
import { Worker } from "node:worker_threads";
import type { PLACEMENTS } from "./config.js";
import {
  assertServable,
  metaOf,
  openSession,
  runSession,
  type Session,
  type TensorMeta,
  type WireTensor,
} from "./ort-session.js";
import { onFirstProvider, type WorkerPool } from "./pool.js";
import { bytesPerElement } from "./tensors.js";

export type PlacementMode = (typeof PLACEMENTS)[number];
export type Placement = Exclude<PlacementMode, "auto">;

/** Runs batches of one model version. */
export interface Executor {
  readonly placement: Placement;
  /** batches it takes at once */
  readonly concurrency: number;
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>>;
  close(): Promise<void>;
}

export class WorkerExecutor implements Executor {
  readonly placement = "workers";
  constructor(
    private readonly pool: WorkerPool,
    private readonly key: string,
  ) {}
  get concurrency(): number {
    return this.pool.size;
  }
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    return this.pool.run(this.key, feeds);
  }
  close(): Promise<void> {
    return this.pool.unload(this.key);
  }
}

/** One session on the event loop: one batch at a time (the next gathers while this one runs). */
export class EventLoopExecutor implements Executor {
  readonly placement = "event-loop";
  readonly concurrency = 1;
  constructor(private readonly session: Session) {}
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    return runSession(this.session, feeds, false);
  }
  close(): Promise<void> {
    return this.session.release();
  }
}

export interface PlacementDecision {
  placement: Placement;
  /** a sentence with the figures it was decided on */
  reason: string;
  /** median time of one full batch on the event loop, in microseconds, when measured */
  eventLoopBatchUs?: number;
  /** median round trip to an idle worker thread, in microseconds, when measured */
  handoffUs?: number;
}

/** Input tensors of zeros, `rows` deep (symbolic dimensions after the first taken as 1). */
export function zeroFeeds(inputs: readonly TensorMeta[], rows: number): Record<string, WireTensor> {
  const feeds: Record<string, WireTensor> = {};
  for (const input of inputs) {
    const type = input.type ?? "float32";
    const rowDims = (input.shape ?? []).slice(1).map((d) => (typeof d === "number" ? d : 1));
    const size = rows * rowDims.reduce((a, b) => a * b, 1);
    feeds[input.name] = {
      type,
      dims: [rows, ...rowDims],
      buffer: new ArrayBuffer(size * bytesPerElement(type)),
    };
  }
  return feeds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

let handoff: Promise<number> | undefined;

/**
 * The median round trip of a message to an idle worker thread and back on this machine, measured
 * once per process with an echo worker: what a batch handed to the pool pays before it runs. Each
 * trip starts after a pause, so the worker has parked as it does between requests; back-to-back trips
 * keep it awake and measured a third of that here (19 us against 50-70 us), which is not what a
 * batch meets.
 */
export function measureHandoffUs(trips = 60): Promise<number> {
  handoff ??= (async () => {
    const echo = new Worker(
      'const { parentPort } = require("node:worker_threads"); parentPort.on("message", (m) => parentPort.postMessage(m));',
      { eval: true },
    );
    try {
      const trip = () =>
        new Promise<number>((resolve) => {
          const started = performance.now();
          echo.once("message", () => resolve((performance.now() - started) * 1000));
          echo.postMessage(0);
        });
      const pause = () => new Promise((r) => setTimeout(r, 2));
      await trip();
      const samples: number[] = [];
      for (let i = 0; i < trips; i++) {
        await pause();
        samples.push(await trip());
      }
      return median(samples);
    } finally {
      await echo.terminate();
    }
  })();
  return handoff;
}

/** Median time of a batch on the event loop, in microseconds, within about `budgetMs`. */
async function measureBatchUs(
  session: Session,
  feeds: () => Record<string, WireTensor>,
  budgetMs = 60,
): Promise<number> {
  const samples = await timeRuns(feeds, (input) => runSession(session, input, false), {
    minRuns: 5,
    maxRuns: 50,
    budgetMs,
  });
  return median(samples) * 1000;
}

/**
 * Times `run` on inputs from `make` (made outside the timing) after three untimed runs: at least
 * `minRuns` times, then on while `budgetMs` lasts, at most `maxRuns`; once three are in, a run slower
 * than `stopAboveMs` ends it. Each run's milliseconds. The placement measurement and `calibrate` share it.
 */
export async function timeRuns<T>(
  make: () => T,
  run: (input: T) => Promise<unknown>,
  o: { minRuns: number; maxRuns: number; budgetMs: number; stopAboveMs?: number },
): Promise<number[]> {
  // the first runs allocate and pick kernels
  for (let i = 0; i < 3; i++) await run(make());
  const samples: number[] = [];
  const deadline = performance.now() + o.budgetMs;
  while (samples.length < o.minRuns || (samples.length < o.maxRuns && performance.now() < deadline)) {
    const input = make();
    const started = performance.now();
    await run(input);
    samples.push(performance.now() - started);
    if (o.stopAboveMs !== undefined && samples.length >= 3 && samples[samples.length - 1] > o.stopAboveMs)
      break;
  }
  return samples;
}

export interface OpenedExecutor {
  executor: Executor;
  inputs: TensorMeta[];
  outputs: TensorMeta[];
  provider: string;
  decision: PlacementDecision;
}

const round = (us: number) => Math.round(us * 10) / 10;

/**
 * A full batch stays on the event loop while it costs at most this many worker round trips. Both
 * figures are medians of one process, and the hop's moves between processes on one machine: 57-109
 * us across the ten rounds of bench/results/serve-cpu.json against 36-40 us for the small model's
 * 64 rows, and one process in session 19 measured 36 us, which compared 1:1 sent the small model to
 * the workers, where it served 26k instead of 35k req/s (bench/README.md, serving). A full batch
 * is also the loop's worst case: at 32 connections its batches average 16-19 rows.
 */
export const HOP_MARGIN = 2;

/**
 * Opens a model version where it should run: `workers` and `event-loop` as asked; `auto` measures a
 * full batch (`batchRows`) on the event loop against a worker round trip and keeps the cheaper place.
 * `pool` is called only when the version goes to the workers, so a process whose models all run on
 * the event loop starts no worker threads.
 */
export async function openExecutor(options: {
  key: string;
  bytes: Uint8Array;
  device: string;
  mode: PlacementMode;
  batchRows: number;
  pool: () => WorkerPool;
  onSkip?: (provider: string, reason: string) => void;
}): Promise<OpenedExecutor> {
  const { key, bytes, device, mode, onSkip } = options;
  const toWorkers = async (decision: PlacementDecision, providers?: string[]): Promise<OpenedExecutor> => {
    const pool = options.pool();
    const meta = providers
      ? { ...(await pool.load(key, bytes, providers)), provider: providers[0] }
      : await pool.loadOnDevice(key, bytes, device, onSkip);
    try {
      assertServable(meta);
    } catch (error) {
      await pool.unload(key);
      throw error;
    }
    return { executor: new WorkerExecutor(pool, key), ...meta, decision };
  };
  if (mode === "workers")
    return toWorkers({ placement: "workers", reason: "execution.placement is workers" });
  // measured while the session opens (once per process)
  const hop = mode === "auto" ? measureHandoffUs() : undefined;
  // one intra-op thread: on the event loop the session runs on the loop's own thread
  const { session, provider } = await onFirstProvider(
    device,
    async (p) => ({ session: await openSession(bytes, [p], 1) }),
    onSkip,
  );
  const meta = metaOf(session);
  try {
    assertServable(meta);
  } catch (error) {
    await session.release();
    throw error;
  }
  const onLoop = (decision: PlacementDecision): OpenedExecutor => ({
    executor: new EventLoopExecutor(session),
    ...meta,
    provider,
    decision,
  });
  if (mode === "event-loop")
    return onLoop({ placement: "event-loop", reason: "execution.placement is event-loop" });
  let batchUs: number;
  try {
    batchUs = await measureBatchUs(session, () => zeroFeeds(meta.inputs, options.batchRows));
  } catch (error) {
    await session.release();
    return toWorkers(
      {
        placement: "workers",
        reason: `a batch of ${options.batchRows} rows could not be measured (${(error as Error).message})`,
      },
      [provider],
    );
  }
  const handoffUs = await (hop ?? measureHandoffUs());
  const figures = { eventLoopBatchUs: round(batchUs), handoffUs: round(handoffUs) };
  if (batchUs <= HOP_MARGIN * handoffUs)
    return onLoop({
      placement: "event-loop",
      reason: `a batch of ${options.batchRows} rows takes ${figures.eventLoopBatchUs} us on the event loop, within ${HOP_MARGIN}x the ${figures.handoffUs} us round trip to a worker`,
      ...figures,
    });
  await session.release();
  return toWorkers(
    {
      placement: "workers",
      reason: `a batch of ${options.batchRows} rows takes ${figures.eventLoopBatchUs} us, more than ${HOP_MARGIN}x the ${figures.handoffUs} us round trip to a worker: it runs off the event loop`,
      ...figures,
    },
    [provider],
  );
}
