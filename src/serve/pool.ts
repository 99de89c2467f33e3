/** A pool of inference worker threads; each holds a session per loaded model version. */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { TensorMeta, WireTensor } from "./ort-session.js";
import type { WorkerRequest } from "./worker.js";

export type { TensorMeta } from "./ort-session.js";

/** Execution providers tried for each --device, in order. */
export const PROVIDER_ORDER: Record<string, string[]> = {
  auto: ["cuda", "webgpu", "cpu"],
  cpu: ["cpu"],
  webgpu: ["webgpu"],
  cuda: ["cuda"],
};

/**
 * Providers whose runtime this process does not have (CUDA libraries not installed, no GPU, no
 * WebGPU adapter): `auto` does not try them again for every model version it loads.
 */
const unavailable = new Map<string, string>();
const ENVIRONMENT_FAILURE =
  /failed to load shared library|cannot open shared object|no cuda-capable device|no supported adapters|failed to get a webgpu adapter/i;

/**
 * Runs `attempt` with each provider of `device` in order (auto: cuda, webgpu, cpu) until one accepts,
 * telling `onSkip` why each one before it was passed over; throws with every reason when none does.
 * A provider whose runtime this process lacks is not tried again.
 */
export async function onFirstProvider<T>(
  device: string,
  attempt: (provider: string) => Promise<T>,
  onSkip: (provider: string, reason: string) => void = () => {},
): Promise<T & { provider: string }> {
  const order = PROVIDER_ORDER[device] ?? ["cpu"];
  const reasons: string[] = [];
  for (const provider of order) {
    const known = unavailable.get(provider);
    if (known && order.length > 1) {
      reasons.push(`${provider}: ${known}`);
      continue;
    }
    try {
      return { ...(await attempt(provider)), provider };
    } catch (error) {
      // ONNX Runtime prefixes a failed check with its source location and the check itself; the
      // sentence after "was false." is the part a person can act on
      const reason = (error as Error).message
        .split("\n")[0]
        .replace(/^\/onnxruntime_src\/\S+:\d+ .*? was false\.\s*/, "");
      if (ENVIRONMENT_FAILURE.test(reason)) unavailable.set(provider, reason);
      reasons.push(`${provider}: ${reason}`);
      if (order.length > 1) onSkip(provider, reason);
    }
  }
  throw new Error(reasons.join("; "));
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly inflight: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly size: number;
  readonly threadsPerSession: number;

  constructor(size?: number) {
    const cores = availableParallelism();
    // two intra-op threads per session by default: a batch of a heavy model runs twice as fast, and
    // fewer workers make larger batches (measured in bench/serve: 4.3x the naive server vs 3.0x with
    // one single-threaded worker per core on the 2-core build machine)
    this.size = Math.max(1, size ?? Math.floor(cores / 2));
    this.threadsPerSession = Math.max(1, Math.floor(cores / this.size));
    const script = new URL("./worker.js", import.meta.url);
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(script);
      worker.on("message", (message: { id: number; ok: boolean; error?: string }) => {
        const entry = this.pending.get(message.id);
        if (!entry) return;
        this.pending.delete(message.id);
        this.inflight[i]--;
        if (message.ok) entry.resolve(message as unknown as Record<string, unknown>);
        else entry.reject(new Error(message.error ?? "inference failed"));
      });
      worker.on("error", (error) => {
        for (const [id, entry] of this.pending) {
          this.pending.delete(id);
          entry.reject(error);
        }
      });
      this.workers.push(worker);
      this.inflight.push(0);
    }
  }

  private send(
    index: number,
    message: WorkerRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      this.inflight[index]++;
      this.workers[index].postMessage(message, transfer);
    });
  }

  /** Loads a model into every worker with the given providers; resolves with its metadata. */
  async load(
    key: string,
    bytes: Uint8Array,
    providers: string[],
  ): Promise<{ inputs: TensorMeta[]; outputs: TensorMeta[] }> {
    const results = await Promise.all(
      this.workers.map((_, i) => {
        const copy = Uint8Array.from(bytes).buffer as ArrayBuffer;
        return this.send(
          i,
          { op: "load", id: this.nextId++, key, bytes: copy, providers, threads: this.threadsPerSession },
          [copy],
        );
      }),
    );
    return results[0] as unknown as { inputs: TensorMeta[]; outputs: TensorMeta[] };
  }

  /**
   * Loads a model into every worker on the first provider of `device` that accepts it (see
   * onFirstProvider).
   */
  loadOnDevice(
    key: string,
    bytes: Uint8Array,
    device: string,
    onSkip: (provider: string, reason: string) => void = () => {},
  ): Promise<{ inputs: TensorMeta[]; outputs: TensorMeta[]; provider: string }> {
    return onFirstProvider(device, (provider) => this.load(key, bytes, [provider]), onSkip);
  }

  async unload(key: string): Promise<void> {
    await Promise.all(this.workers.map((_, i) => this.send(i, { op: "unload", id: this.nextId++, key })));
  }

  /** Runs on the least busy worker. */
  async run(key: string, feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    let best = 0;
    for (let i = 1; i < this.size; i++) if (this.inflight[i] < this.inflight[best]) best = i;
    const transfer = Object.values(feeds).map((t) => t.buffer);
    const result = await this.send(best, { op: "run", id: this.nextId++, key, feeds }, transfer);
    return result.outputs as Record<string, WireTensor>;
  }

  busy(): number {
    return this.inflight.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
