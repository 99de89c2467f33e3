/**
 * Dynamic batching per model version: requests are concatenated along the batch dimension up to
 * maxBatchSize rows, waiting at most maxQueueDelayMs, and the outputs are split back exactly. The
 * queue is bounded (a full queue refuses at once); a failed batch fails only its own requests.
 */
import type { Executor } from "./execution.js";
import type { WireTensor } from "./ort-session.js";
import { bytesPerElement, viewOf } from "./tensors.js";

export interface BatchInput {
  type: string;
  /** dims after the batch dimension */
  rowDims: number[];
  /** the rows' values in the model's type: a typed array, or checked plain numbers (float32) */
  data: ArrayLike<number | bigint>;
}

export interface BatchOptions {
  enabled: boolean;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueue: number;
  /**
   * How a batch fills while the executor is busy: `delay` waits up to maxQueueDelayMs for rows (worker
   * threads run meanwhile); `turn` takes what one event-loop turn delivered, since on the event loop
   * the thread that would wait is the one that reads the requests (bench/serve, small model on the
   * event loop: 1 ms of waiting left the loop idle and cost a third of the throughput)
   */
  gather?: "delay" | "turn";
  /** batches handed to the executor at once (default: its concurrency, one per worker); more lets a worker start the next at once */
  maxInflight?: number;
}

/** One request's rows of an output: `dims` values of `type` from element `offset` of a batch's buffer. */
export interface RowSlice {
  type: string;
  dims: number[];
  buffer: ArrayBuffer;
  offset: number;
}

interface Item {
  rows: number;
  inputs: Record<string, BatchInput>;
  resolve: (outputs: Record<string, RowSlice>) => void;
  reject: (error: Error) => void;
  enqueued: number;
  /** when the caller stops waiting (Infinity: never), and the timeout it came from */
  deadline: number;
  timeoutMs?: number;
  settled: boolean;
}

export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("the model's queue is full; retry shortly");
  }
}

export class Batcher {
  private queue: Item[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private turn: NodeJS.Immediate | undefined;
  private inflight = 0;
  private oldestInflight = 0;
  /**
   * Items with a deadline in arrival order, from `watchHead` on: one sweep timer for the oldest
   * instead of a timer per request (a setTimeout + clearTimeout pair cost 0.5 us a request, a tenth
   * of what the serving core adds to the HTTP floor for a small model; bench/serve/pipeline-micro.js)
   */
  private readonly watched: Item[] = [];
  private watchHead = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  onBatch?: (rows: number) => void;

  constructor(
    private readonly executor: Executor,
    private readonly options: BatchOptions,
  ) {}

  get depth(): number {
    return this.queuedRows;
  }

  /** true when a batch has been running for more than `ms` (a stuck session) */
  stalled(ms = 30_000): boolean {
    return this.inflight > 0 && Date.now() - this.oldestInflight > ms;
  }

  /**
   * Queues rows for the next batch; with `timeoutMs`, an answer not there by then is an error (a
   * batch already running still runs: a session cannot be interrupted; one not started yet skips the
   * requests nobody waits for any more). Deadlines are checked in arrival order.
   */
  submit(
    rows: number,
    inputs: Record<string, BatchInput>,
    timeoutMs?: number,
  ): Promise<Record<string, RowSlice>> {
    if (this.queuedRows + rows > this.options.maxQueue) return Promise.reject(new QueueFullError(1));
    return new Promise((resolve, reject) => {
      const enqueued = Date.now();
      const item: Item = {
        rows,
        inputs,
        resolve,
        reject,
        enqueued,
        deadline: timeoutMs === undefined ? Number.POSITIVE_INFINITY : enqueued + timeoutMs,
        timeoutMs,
        settled: false,
      };
      this.queue.push(item);
      this.queuedRows += rows;
      if (timeoutMs !== undefined) {
        this.watched.push(item);
        // unref: a deadline alone never keeps the process alive
        this.sweepTimer ??= setTimeout(this.sweep, timeoutMs).unref();
      }
      this.schedule();
    });
  }

  /** `now`: when the batch returned, read once for all of its items. */
  private answer(item: Item, outputs: Record<string, RowSlice>, now: number): void {
    if (item.settled) return;
    // an answer after its deadline is a failure even when the sweep could not fire first (a version
    // run on the event loop holds it until the batch returns)
    if (now > item.deadline) {
      this.fail(item, new Error(`no answer within ${item.timeoutMs} ms`));
      return;
    }
    item.settled = true;
    item.resolve(outputs);
  }

  private fail(item: Item, error: Error): void {
    if (item.settled) return;
    item.settled = true;
    item.reject(error);
  }

  /** Drops settled items from the head of the watch list; answers come back roughly in order. */
  private advanceWatch(): void {
    while (this.watchHead < this.watched.length && this.watched[this.watchHead].settled) this.watchHead++;
    if (this.watchHead === this.watched.length) {
      this.watched.length = 0;
      this.watchHead = 0;
    } else if (this.watchHead > 1024) {
      this.watched.splice(0, this.watchHead);
      this.watchHead = 0;
    }
  }

  private readonly sweep = (): void => {
    this.sweepTimer = undefined;
    const now = Date.now();
    for (; this.watchHead < this.watched.length; this.watchHead++) {
      const item = this.watched[this.watchHead];
      if (!item.settled && item.deadline > now) break;
      this.fail(item, new Error(`no answer within ${item.timeoutMs} ms`));
    }
    this.advanceWatch();
    if (this.watched.length > 0)
      this.sweepTimer = setTimeout(
        this.sweep,
        Math.max(1, this.watched[this.watchHead].deadline - now),
      ).unref();
  };

  private schedule(): void {
    const limit = Math.max(1, this.options.maxInflight ?? this.executor.concurrency);
    while (this.queue.length > 0 && this.inflight < limit) {
      // idle pool: run now (lowest latency); busy pool: let the batch grow until it is full or the delay passes
      const full =
        !this.options.enabled ||
        (this.inflight === 0 && this.options.gather !== "turn") ||
        this.queuedRows >= this.options.maxBatchSize ||
        this.options.maxQueueDelayMs === 0;
      if (!full && Date.now() - this.queue[0].enqueued < this.options.maxQueueDelayMs) {
        if (this.options.gather === "turn")
          this.turn ??= setImmediate(() => {
            this.turn = undefined;
            if (this.queue.length > 0) this.flush();
          });
        else
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            this.schedule();
          }, this.options.maxQueueDelayMs);
        return;
      }
      this.flush();
    }
  }

  private flush(): void {
    if (this.turn) {
      clearImmediate(this.turn);
      this.turn = undefined;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const max = this.options.enabled ? this.options.maxBatchSize : 1;
    const batch: Item[] = [];
    let rows = 0;
    let skipped = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0].rows <= max)) {
      const item = this.queue.shift()!;
      // past its deadline: the caller has its error already, the rows need not run
      if (item.settled) {
        skipped += item.rows;
        continue;
      }
      batch.push(item);
      rows += item.rows;
    }
    this.queuedRows -= rows + skipped;
    if (batch.length === 0) return;
    if (this.inflight === 0) this.oldestInflight = Date.now();
    this.inflight++;
    this.run(batch, rows)
      .catch((error: Error) => {
        for (const item of batch) this.fail(item, error);
      })
      .finally(() => {
        this.advanceWatch();
        this.inflight--;
        this.oldestInflight = Date.now();
        this.schedule();
      });
  }

  private async run(batch: Item[], rows: number): Promise<void> {
    this.onBatch?.(rows);
    const feeds: Record<string, WireTensor> = {};
    for (const name in batch[0].inputs) {
      const first = batch[0].inputs[name];
      let rowSize = 1;
      for (const d of first.rowDims) rowSize *= d;
      // serialized strings (BYTES) vary in length: the batch is its requests' bytes end to end
      let size = rowSize * rows * bytesPerElement(first.type);
      if (first.type === "string") {
        size = 0;
        for (const item of batch) size += item.inputs[name].data.length;
      }
      const buffer = new ArrayBuffer(size);
      const target = viewOf(first.type, buffer) as unknown as {
        set(values: ArrayLike<number | bigint>, at: number): void;
      };
      let offset = 0;
      for (const item of batch) {
        const data = item.inputs[name].data;
        target.set(data, offset);
        offset += data.length;
      }
      feeds[name] = { type: first.type, dims: [rows, ...first.rowDims], buffer };
    }
    const outputs = await this.executor.run(feeds);
    // each request's rows are a window on the batch's output buffer (no copy per request)
    const split: Array<Record<string, RowSlice>> = batch.map(() => ({}));
    for (const name in outputs) {
      const out = outputs[name];
      if (out.dims[0] !== rows)
        throw new Error(`output ${name} has ${out.dims[0]} rows for a batch of ${rows}`);
      const rowDims = out.dims.slice(1);
      let rowSize = 1;
      for (const d of rowDims) rowSize *= d;
      let offset = 0;
      for (let i = 0; i < batch.length; i++) {
        const itemRows = batch[i].rows;
        split[i][name] = { type: out.type, dims: [itemRows, ...rowDims], buffer: out.buffer, offset };
        offset += rowSize * itemRows;
      }
    }
    const now = Date.now();
    for (let i = 0; i < batch.length; i++) this.answer(batch[i], split[i], now);
  }

  /** Refuses everything queued (shutdown or unload). */
  drain(error: Error): void {
    for (const item of this.queue) this.fail(item, error);
    this.queue = [];
    this.queuedRows = 0;
    this.advanceWatch();
    if (this.watched.length === 0 && this.sweepTimer) {
      clearTimeout(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  idle(): boolean {
    return this.inflight === 0 && this.queue.length === 0;
  }
}
