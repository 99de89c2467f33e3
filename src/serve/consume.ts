/** The consume loop: fetch a micro-batch, score it, write results and dead letters, then acknowledge. */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { Batcher } from "./batcher.js";
import { DriftMonitor } from "./drift.js";
import { WorkerExecutor } from "./execution.js";
import { createConsumeMetrics } from "./metrics.js";
import { WorkerPool } from "./pool.js";
import { predictionsOf } from "./predictions.js";
import type { VersionSource } from "./registry.js";
import { decodeEvent, openSink, openSource, type StreamSink, type StreamSource } from "./stream.js";

export interface ConsumeOptions {
  source: string;
  sink: string;
  deadLetter?: string;
  group: string;
  model: VersionSource;
  features?: string[];
  maxBatch: number;
  maxWaitMs: number;
  device: string;
  workers?: number;
  /** the sliding window of PSI drift per feature (the model's reference histograms); undefined: off */
  driftWindow?: number;
  metricsPort?: number;
  /** 0.0.0.0 in a pod, so the kubelet's probes reach /healthz */
  metricsHost?: string;
  signal: AbortSignal;
  log?: (line: string) => void;
}

export interface ConsumeSummary {
  consumed: number;
  produced: number;
  deadLettered: number;
  batches: number;
}

export async function consume(options: ConsumeOptions): Promise<ConsumeSummary> {
  const m = createConsumeMetrics();
  const registry = m.registry;
  // every series from the start (at zero), so rate() and the alerts see the first events
  const labels = { model: options.model.name, group: options.group };
  for (const counter of [m.consumed, m.produced, m.dead]) counter.inc(labels, 0);
  const reference = options.model.meta.reference;
  const drift =
    reference && options.driftWindow !== undefined
      ? new DriftMonitor(reference, options.driftWindow)
      : undefined;
  let metricsServer: Server | undefined;
  if (options.metricsPort !== undefined) {
    metricsServer = createServer(async (req, res) => {
      if (req.url === "/metrics") {
        // PSI per feature over the window, brought up to date per scrape (as serve does), not per batch
        for (const [feature, score] of Object.entries(drift?.scores() ?? {}))
          if (score.samples > 0) m.psi.set({ model: options.model.name, feature }, score.psi);
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(await registry.metrics());
      } else {
        res.writeHead(req.url === "/healthz" ? 200 : 404, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: req.url === "/healthz" }));
      }
    });
    await new Promise<void>((resolve) =>
      metricsServer!.listen(options.metricsPort, options.metricsHost ?? "127.0.0.1", () => resolve()),
    );
  }
  const pool = new WorkerPool(options.workers);
  const summary: ConsumeSummary = { consumed: 0, produced: 0, deadLettered: 0, batches: 0 };
  let source: StreamSource | undefined;
  let sink: StreamSink | undefined;
  let dlq: StreamSink | undefined;
  try {
    let meta: Awaited<ReturnType<WorkerPool["loadOnDevice"]>>;
    try {
      meta = await pool.loadOnDevice("consume", readFileSync(options.model.modelPath), options.device);
    } catch (error) {
      throw new Error(`cannot load ${options.model.modelPath}: ${(error as Error).message}`);
    }
    const input = meta.inputs[0];
    const width = Number(input.shape?.[1] ?? 0);
    const features =
      options.features ?? options.model.meta.features ?? Array.from({ length: width }, (_, i) => `f${i}`);
    const batcher = new Batcher(new WorkerExecutor(pool, "consume"), {
      enabled: true,
      maxBatchSize: options.maxBatch,
      maxQueueDelayMs: 0,
      maxQueue: Number.MAX_SAFE_INTEGER,
    });
    source = await openSource(options.source, options.group);
    sink = await openSink(options.sink);
    dlq = options.deadLetter ? await openSink(options.deadLetter) : undefined;
    let lastLag = 0;
    options.log?.(
      `consuming ${options.source} as group ${options.group}; results to ${options.sink}${options.deadLetter ? `, dead letters to ${options.deadLetter}` : ""}`,
    );
    // every wait on the broker ends when the signal does: a broker that is down must not hold a shutdown
    const live = <T>(work: Promise<T>) => untilAborted(work, options.signal);
    // a failed broker call is retried after a backoff (the clients reconnect meanwhile; what was
    // fetched and not acknowledged is delivered again); BROKER_RETRIES failures in a row end the
    // consumer, so a broker that stays down restarts the pod rather than idling it
    // a call that does not answer within its wait plus BROKER_CALL_TIMEOUT_MS counts as failed: a
    // client queueing commands for a broker that is gone would otherwise wait forever
    const broker = <T>(work: Promise<T>) =>
      live(withinMs(work, options.maxWaitMs + BROKER_CALL_TIMEOUT_MS)).catch((error) => {
        throw error instanceof StoppedError ? error : new BrokerError(error);
      });
    const from = source;
    const to = sink;
    const batch = async (): Promise<void> => {
      const messages = await broker(from.fetch(options.maxBatch, options.maxWaitMs));
      if (Date.now() - lastLag > 2000) {
        lastLag = Date.now();
        // a broker that cannot answer keeps the last lag: a zero would hide the backlog
        const lag = await live(from.lag()).catch((error) => {
          if (error instanceof StoppedError) throw error;
          return undefined;
        });
        if (lag !== undefined) m.lag.set(labels, lag);
      }
      if (messages.length === 0) return;
      m.consumed.inc(labels, messages.length);
      m.batch.observe(labels, messages.length);
      const good: Array<{ id: string; values: number[] }> = [];
      const bad: string[] = [];
      for (const message of messages) {
        const decoded = decodeEvent(message.data, features);
        if (decoded.ok) good.push(decoded.event);
        else bad.push(JSON.stringify({ reason: decoded.reason, event: message.data }));
      }
      const results: string[] = [];
      if (good.length) {
        const data = new Float32Array(good.length * features.length);
        for (const [i, e] of good.entries()) data.set(e.values, i * features.length);
        const outputs = await batcher.submit(good.length, {
          [input.name]: { type: "float32", rowDims: [features.length], data },
        });
        predictionsOf(outputs).forEach((p, i) => {
          results.push(JSON.stringify({ id: good[i].id, ...p, model_version: options.model.version }));
        });
      }
      // at-least-once: the sink and the dead-letter destination have everything before the source is acknowledged
      await broker(to.send(results));
      if (bad.length) {
        if (dlq) await broker(dlq.send(bad));
        else for (const b of bad) options.log?.(`dropped (no --dead-letter): ${b}`);
      }
      await broker(from.ack());
      m.produced.inc(labels, results.length);
      m.dead.inc(labels, bad.length);
      if (drift)
        for (const e of good) for (const [f, name] of features.entries()) drift.observe(name, e.values[f]);
      summary.consumed += messages.length;
      summary.produced += results.length;
      summary.deadLettered += bad.length;
      summary.batches++;
    };
    let failures = 0;
    while (!options.signal.aborted) {
      try {
        await batch();
        failures = 0;
      } catch (error) {
        if (!(error instanceof BrokerError)) throw error;
        failures++;
        if (failures > BROKER_RETRIES) throw error.cause;
        const wait = Math.min(BROKER_BACKOFF_MAX_MS, BROKER_BACKOFF_MS * 2 ** (failures - 1));
        options.log?.(
          `broker call failed (${(error.cause as Error).message}); retrying in ${wait} ms (${failures}/${BROKER_RETRIES})`,
        );
        await live(new Promise((resolve) => setTimeout(resolve, wait)));
      }
    }
  } catch (error) {
    // stopped while waiting on the broker: what was fetched and not acknowledged is redelivered
    if (!(error instanceof StoppedError)) throw error;
  } finally {
    await Promise.all(
      [source, sink, dlq].map((end) => (end ? closeWithin(end, DRAIN_TIMEOUT_MS) : undefined)),
    );
    await pool.close();
    await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
  }
  return summary;
}

/** How long a shutdown waits for each broker connection to close cleanly before dropping it. */
export const DRAIN_TIMEOUT_MS = 5000;

/**
 * Failed broker calls in a row before the consumer gives up (about 40 s of backoff, doubling from
 * BROKER_BACKOFF_MS to BROKER_BACKOFF_MAX_MS), and how long past its own wait a call may take.
 */
export const BROKER_RETRIES = 8;
const BROKER_CALL_TIMEOUT_MS = 10_000;
const BROKER_BACKOFF_MS = 500;
const BROKER_BACKOFF_MAX_MS = 8000;

class StoppedError extends Error {
  override readonly name = "StoppedError";
}

/** A broker call that failed (the broker's own error is the cause). */
class BrokerError extends Error {
  override readonly name = "BrokerError";
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new StoppedError("stopped"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StoppedError("stopped"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** `work`, or a rejection once `ms` pass without its answer. */
function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A clean close within the drain timeout, else a forced one (the broker is gone). */
async function closeWithin(end: { close(force?: boolean): Promise<void> }, ms: number): Promise<void> {
  await withinMs(end.close(), ms).catch(() => end.close(true).catch(() => {}));
}
