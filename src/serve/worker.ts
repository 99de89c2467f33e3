/**
 * Inference off the event loop: each worker thread owns ONNX Runtime sessions (one per loaded model
 * version) and runs them; tensors travel as transferable ArrayBuffers.
 */
import { parentPort, workerData } from "node:worker_threads";
import ort from "onnxruntime-node";

type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export interface WireTensor {
  type: string;
  dims: number[];
  buffer: ArrayBuffer;
}

export type WorkerRequest =
  | { op: "load"; id: number; key: string; bytes: ArrayBuffer; providers: string[]; threads: number }
  | { op: "run"; id: number; key: string; feeds: Record<string, WireTensor> }
  | { op: "unload"; id: number; key: string };

// ONNX Runtime's own log goes straight to stderr; a provider that is missing (the usual case for cuda
// and webgpu under --device auto) would print a raw native error before stackwright's one-line reason.
// Every failure reaches the caller as an exception, so only fatal lines are let through unless
// STACKWRIGHT_ORT_LOG_LEVEL (verbose|info|warning|error|fatal) asks for more.
const ORT_LOG_LEVELS = ["verbose", "info", "warning", "error", "fatal"] as const;
const requested = process.env.STACKWRIGHT_ORT_LOG_LEVEL;
ort.env.logLevel = ORT_LOG_LEVELS.find((l) => l === requested) ?? "fatal";

const sessions = new Map<string, ort.InferenceSession>();
const CTORS: Record<string, new (buffer: ArrayBuffer) => TypedArray> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

function toTensor(t: WireTensor): ort.Tensor {
  const Ctor = CTORS[t.type];
  if (!Ctor) throw new Error(`unsupported tensor type ${t.type}`);
  return new ort.Tensor(t.type as "float32", new Ctor(t.buffer) as Float32Array, t.dims);
}

parentPort?.on("message", async (message: WorkerRequest) => {
  try {
    if (message.op === "load") {
      const session = await ort.InferenceSession.create(new Uint8Array(message.bytes), {
        executionProviders: message.providers as ort.InferenceSession.ExecutionProviderConfig[],
        intraOpNumThreads: message.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
        // no spin-waiting between runs: on a machine whose cores also serve HTTP (and here run the load
        // generator) a spinning intra-op thread steals the CPU the event loop needs. bench/serve:
        // small model 17.2k -> 26.0k req/s, large 5.4k -> 5.8k req/s with p99 15 -> 10 ms on 2 cores
        extra: { session: { intra_op: { allow_spinning: "0" } } },
      });
      sessions.get(message.key)?.release();
      sessions.set(message.key, session);
      parentPort?.postMessage({
        id: message.id,
        ok: true,
        inputs: session.inputMetadata,
        outputs: session.outputMetadata,
      });
    } else if (message.op === "unload") {
      await sessions.get(message.key)?.release();
      sessions.delete(message.key);
      parentPort?.postMessage({ id: message.id, ok: true });
    } else {
      const session = sessions.get(message.key);
      if (!session) throw new Error(`model version ${message.key} is not loaded in this worker`);
      const feeds = Object.fromEntries(Object.entries(message.feeds).map(([name, t]) => [name, toTensor(t)]));
      const results = await session.run(feeds);
      const outputs: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, tensor] of Object.entries(results)) {
        const data = tensor.data as TypedArray;
        const copy = data.slice().buffer as ArrayBuffer;
        outputs[name] = { type: tensor.type, dims: [...tensor.dims], buffer: copy };
        transfer.push(copy);
      }
      parentPort?.postMessage({ id: message.id, ok: true, outputs }, transfer);
    }
  } catch (error) {
    parentPort?.postMessage({ id: message.id, ok: false, error: (error as Error).message });
  }
});

void workerData;
