/**
 * ONNX Runtime sessions as the serving core opens them, wherever they run (a worker thread or the
 * event loop): one set of session options, tensors to and from the wire form that crosses threads.
 */
import ort from "onnxruntime-node";
import { decodeStrings, encodeStrings } from "./tensors.js";

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

/** A tensor as it crosses a thread boundary: its buffer is transferable. */
export interface WireTensor {
  type: string;
  dims: number[];
  buffer: ArrayBuffer;
}

export interface TensorMeta {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: Array<number | string>;
}

// ONNX Runtime's own log goes straight to stderr; a provider that is missing (the usual case for cuda
// and webgpu under --device auto) would print a raw native error before stackwright's one-line reason.
// Every failure reaches the caller as an exception, so only fatal lines are let through unless
// STACKWRIGHT_ORT_LOG_LEVEL (verbose|info|warning|error|fatal) asks for more.
const ORT_LOG_LEVELS = ["verbose", "info", "warning", "error", "fatal"] as const;
const requested = process.env.STACKWRIGHT_ORT_LOG_LEVEL;
ort.env.logLevel = ORT_LOG_LEVELS.find((l) => l === requested) ?? "fatal";

// onnxruntime-node's native binding reads a Float16Array as 0 bytes ("not enough space: expected 8,
// got 0"), and onnxruntime-common hands it one for every float16 tensor wherever the runtime has
// Float16Array (Node 24). The common library fixes its type map at the first Tensor it builds: that
// one is built here with Float16Array hidden, so float16 data stays the Uint16Array of its bit
// patterns, which the binding reads. test/serve/datatypes.test.ts runs a float16 model on Node 24.
{
  const float16 = Object.getOwnPropertyDescriptor(globalThis, "Float16Array");
  if (float16?.configurable) {
    delete (globalThis as Record<string, unknown>).Float16Array;
    try {
      new ort.Tensor("float32", new Float32Array(1), [1]);
    } finally {
      Object.defineProperty(globalThis, "Float16Array", float16);
    }
  }
}

const CTORS: Record<string, new (buffer: ArrayBuffer) => TypedArray> = {
  float16: Uint16Array,
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

export type Session = ort.InferenceSession;

/** The tensor types the serving core carries (over JSON, binary and gRPC). */
export const SERVABLE_TYPES: readonly string[] = [...Object.keys(CTORS), "string"];

/**
 * Refuses a model with a tensor the serving core cannot carry, naming each one and the types it
 * can: at load, with the reason, never a server that starts and cannot answer.
 */
export function assertServable(meta: { inputs: TensorMeta[]; outputs: TensorMeta[] }): void {
  const bad = [
    ...meta.inputs.map((t) => ({ ...t, kind: "input" })),
    ...meta.outputs.map((t) => ({ ...t, kind: "output" })),
  ].filter((t) => !t.isTensor || !SERVABLE_TYPES.includes(t.type ?? ""));
  if (bad.length)
    throw new Error(
      `cannot serve ${bad.map((t) => `${t.kind} ${t.name} (${t.isTensor ? (t.type ?? "unknown type") : "not a tensor"})`).join(", ")}: the serving core carries ${SERVABLE_TYPES.join(", ")}`,
    );
}

/** The ONNX Runtime version this process runs (recorded with a calibration). */
export function ortVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

export function openSession(bytes: Uint8Array, providers: string[], threads: number): Promise<Session> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: providers as ort.InferenceSession.ExecutionProviderConfig[],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
    // no spin-waiting between runs: on a machine whose cores also serve HTTP (and here run the load
    // generator) a spinning intra-op thread steals the CPU the event loop needs. bench/serve:
    // small model 17.2k -> 26.0k req/s, large 5.4k -> 5.8k req/s with p99 15 -> 10 ms on 2 cores
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
}

export function metaOf(session: Session): { inputs: TensorMeta[]; outputs: TensorMeta[] } {
  return {
    inputs: session.inputMetadata as unknown as TensorMeta[],
    outputs: session.outputMetadata as unknown as TensorMeta[],
  };
}

function toTensor(t: WireTensor): ort.Tensor {
  if (t.type === "string") {
    const count = t.dims.reduce((a, b) => a * b, 1);
    return new ort.Tensor("string", decodeStrings(new Uint8Array(t.buffer), 0, count), t.dims);
  }
  const Ctor = CTORS[t.type];
  if (!Ctor) throw new Error(`unsupported tensor type ${t.type}`);
  return new ort.Tensor(t.type as "float32", new Ctor(t.buffer) as Float32Array, t.dims);
}

/**
 * Runs a session on wire tensors. `copy` detaches each output into a buffer of its own (needed
 * before a transfer to another thread; on the event loop the output's own buffer is used as it is
 * when it is not a view into a larger one).
 */
export async function runSession(
  session: Session,
  feeds: Record<string, WireTensor>,
  copy: boolean,
): Promise<Record<string, WireTensor>> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const name in feeds) tensors[name] = toTensor(feeds[name]);
  const results = await session.run(tensors);
  const outputs: Record<string, WireTensor> = {};
  for (const name in results) {
    const tensor = results[name];
    if (tensor.type === "string") {
      // serialized as the protocol's BYTES, so it crosses threads and batches like any buffer
      const bytes = encodeStrings(tensor.data as string[]);
      outputs[name] = { type: "string", dims: [...tensor.dims], buffer: bytes.buffer as ArrayBuffer };
      continue;
    }
    const data = tensor.data as TypedArray;
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    const buffer = (copy || !whole ? data.slice().buffer : data.buffer) as ArrayBuffer;
    outputs[name] = { type: tensor.type, dims: [...tensor.dims], buffer };
  }
  return outputs;
}
