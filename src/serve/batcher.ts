/**
 * Dynamic batching per model version: requests are concatenated along the batch dimension up to
 * maxBatchSize rows, waiting at most maxQueueDelayMs, and the outputs are split back exactly. The
 * queue is bounded (a full queue refuses at once); a failed batch fails only its own requests.
 */
import type { WorkerPool } from "./pool.js";
import { bytesPerElement } from "./tensors.js";
import type { WireTensor } from "./worker.js";

export interface BatchInput {
  type: string;
  /** dims after the batch dimension */
  rowDims: number[];
  data: ArrayBufferView;
}

export interface BatchOptions {
  enabled: boolean;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueue: number;
  /** batches handed to the pool at once (default: one per worker); more lets a worker start the next at once */
  maxInflight?: number;
}

export interface RowSlice {
  type: string;
  dims: number[];
  buffer: ArrayBuffer;
}

interface Item {
  rows: number;
  inputs: Record<string, BatchInput>;
  resolve: (outputs: Record<string, RowSlice>) => void;
  reject: (error: Error) => void;
  enqueued: number;
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
  private inflight = 0;
  private oldestInflight = 0;
  onBatch?: (rows: number) => void;

  constructor(
    readonly key: string,
    private readonly pool: WorkerPool,
    private readonly options: BatchOptions,
  ) {}

  get depth(): number {
    return this.queuedRows;
  }

  /** true when a batch has been running for more than `ms` (a stuck session) */
  stalled(ms = 30_000): boolean {
    return this.inflight > 0 && Date.now() - this.oldestInflight > ms;
  }

  submit(rows: number, inputs: Record<string, BatchInput>): Promise<Record<string, RowSlice>> {
    if (this.queuedRows + rows > this.options.maxQueue) return Promise.reject(new QueueFullError(1));
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, inputs, resolve, reject, enqueued: Date.now() });
      this.queuedRows += rows;
      this.schedule();
    });
  }

  private schedule(): void {
    const limit = Math.max(1, this.options.maxInflight ?? this.pool.size);
    while (this.queue.length > 0 && this.inflight < limit) {
      // idle pool: run now (lowest latency); busy pool: let the batch grow until it is full or the delay passes
      const full =
        !this.options.enabled ||
        this.inflight === 0 ||
        this.queuedRows >= this.options.maxBatchSize ||
        this.options.maxQueueDelayMs === 0;
      const waited = Date.now() - this.queue[0].enqueued >= this.options.maxQueueDelayMs;
      if (!full && !waited) {
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
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const max = this.options.enabled ? this.options.maxBatchSize : 1;
    const batch: Item[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0].rows <= max)) {
      const item = this.queue.shift()!;
      batch.push(item);
      rows += item.rows;
    }
    this.queuedRows -= rows;
    if (this.inflight === 0) this.oldestInflight = Date.now();
    this.inflight++;
    this.run(batch, rows)
      .catch((error: Error) => {
        for (const item of batch) item.reject(error);
      })
      .finally(() => {
        this.inflight--;
        this.oldestInflight = Date.now();
        this.schedule();
      });
  }

  private async run(batch: Item[], rows: number): Promise<void> {
    this.onBatch?.(rows);
    const feeds: Record<string, WireTensor> = {};
    for (const [name, first] of Object.entries(batch[0].inputs)) {
      const rowBytes = first.rowDims.reduce((a, b) => a * b, 1) * bytesPerElement(first.type);
      const buffer = new ArrayBuffer(rowBytes * rows);
      const target = new Uint8Array(buffer);
      let offset = 0;
      for (const item of batch) {
        const input = item.inputs[name];
        target.set(new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength), offset);
        offset += input.data.byteLength;
      }
      feeds[name] = { type: first.type, dims: [rows, ...first.rowDims], buffer };
    }
    const outputs = await this.pool.run(this.key, feeds);
    const split: Array<Record<string, RowSlice>> = batch.map(() => ({}));
    for (const [name, out] of Object.entries(outputs)) {
      if (out.dims[0] !== rows)
        throw new Error(`output ${name} has ${out.dims[0]} rows for a batch of ${rows}`);
      const rowDims = out.dims.slice(1);
      const rowBytes = rowDims.reduce((a, b) => a * b, 1) * bytesPerElement(out.type);
      let offset = 0;
      batch.forEach((item, i) => {
        const bytes = rowBytes * item.rows;
        split[i][name] = {
          type: out.type,
          dims: [item.rows, ...rowDims],
          buffer: out.buffer.slice(offset, offset + bytes),
        };
        offset += bytes;
      });
    }
    for (const [i, item] of batch.entries()) item.resolve(split[i]);
  }

  /** Refuses everything queued (shutdown or unload). */
  drain(error: Error): void {
    for (const item of this.queue) item.reject(error);
    this.queue = [];
    this.queuedRows = 0;
  }

  idle(): boolean {
    return this.inflight === 0 && this.queue.length === 0;
  }
}
