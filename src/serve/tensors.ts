/** Open Inference Protocol datatypes <-> ONNX Runtime tensor types, and request-tensor validation. */
export const OIP_TO_ORT: Record<string, string> = {
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  UINT8: "uint8",
  UINT16: "uint16",
  UINT32: "uint32",
  UINT64: "uint64",
  BOOL: "bool",
  BYTES: "string",
};
export const ORT_TO_OIP: Record<string, string> = Object.fromEntries(
  Object.entries(OIP_TO_ORT).map(([k, v]) => [v, k]),
);

type Ctor = {
  new (n: number): ArrayLike<number | bigint> & { buffer: ArrayBufferLike; [i: number]: number | bigint };
};
const CTORS: Record<string, Ctor> = {
  // half precision travels as its 16-bit patterns
  float16: Uint16Array as unknown as Ctor,
  float32: Float32Array as unknown as Ctor,
  float64: Float64Array as unknown as Ctor,
  int8: Int8Array as unknown as Ctor,
  int16: Int16Array as unknown as Ctor,
  int32: Int32Array as unknown as Ctor,
  int64: BigInt64Array as unknown as Ctor,
  uint8: Uint8Array as unknown as Ctor,
  uint16: Uint16Array as unknown as Ctor,
  uint32: Uint32Array as unknown as Ctor,
  uint64: BigUint64Array as unknown as Ctor,
  bool: Uint8Array as unknown as Ctor,
  // strings travel serialized as the protocol's BYTES: each a 4-byte little-endian length, then its bytes
  string: Uint8Array as unknown as Ctor,
};
const BYTES: Record<string, number> = {
  float16: 2,
  float32: 4,
  float64: 8,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
  // an empty string serialized: what a buffer of zeros of this size per element holds
  string: 4,
};
const RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE 754 half-precision bits nearest a number (round to nearest even; overflow to infinity). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** The number a half-precision bit pattern holds. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Strings serialized as the protocol's BYTES: per element a 4-byte little-endian length and its UTF-8. */
export function encodeStrings(values: ArrayLike<string>): Uint8Array {
  const encoded = Array.from(values, (v) => utf8.encode(v));
  const out = new Uint8Array(encoded.reduce((n, e) => n + 4 + e.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of encoded) {
    view.setUint32(at, e.length, true);
    out.set(e, at + 4);
    at += 4 + e.length;
  }
  return out;
}

/** The byte range of elements [start, start + count) of serialized BYTES, or null when they run past its end. */
export function stringByteRange(
  bytes: Uint8Array,
  start: number,
  count: number,
): { begin: number; end: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let begin = 0;
  for (let i = 0; i < start + count; i++) {
    if (i === start) begin = at;
    if (at + 4 > bytes.byteLength) return null;
    at += 4 + view.getUint32(at, true);
    if (at > bytes.byteLength) return null;
  }
  return { begin: start + count === 0 ? 0 : begin, end: at };
}

/** How many elements serialized BYTES hold, or null when they do not parse to the last byte. */
export function countStrings(bytes: Uint8Array): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let count = 0;
  while (at < bytes.byteLength) {
    if (at + 4 > bytes.byteLength) return null;
    at += 4 + view.getUint32(at, true);
    count++;
  }
  return at === bytes.byteLength ? count : null;
}

/** Elements [start, start + count) of serialized BYTES as strings. */
export function decodeStrings(bytes: Uint8Array, start: number, count: number): string[] {
  const range = stringByteRange(bytes, start, count);
  if (!range) throw new Error("serialized BYTES end before their last element");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let at = range.begin;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(at, true);
    out.push(fromUtf8.decode(bytes.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return out;
}

export class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Row-major values of nested JSON arrays; an array that is already flat is returned as it is. */
export function flatten(data: unknown): unknown[] {
  if (Array.isArray(data) && data.every((v) => typeof v !== "object" || v === null)) return data;
  return flattenInto(data, []);
}

function flattenInto(data: unknown, out: unknown[]): unknown[] {
  if (Array.isArray(data)) for (const item of data) flattenInto(item, out);
  else out.push(data);
  return out;
}

function typedArrayOfAny(
  type: string,
  values: unknown[],
  inputName: string,
): ArrayBufferView & ArrayLike<number | bigint> {
  const Ctor = CTORS[type];
  if (!Ctor) throw new BadRequest(`input ${inputName}: the model's type ${type} is not supported over JSON`);
  const out = new Ctor(values.length);
  const range = RANGES[type];
  const integer = type !== "float32" && type !== "float64" && type !== "float16";
  for (let i = 0; i < values.length; i++) {
    let v = values[i];
    if (type === "bool" && typeof v === "boolean") v = v ? 1 : 0;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new BadRequest(
        `input ${inputName}: data[${i}] is ${JSON.stringify(v) ?? String(v)}, expected a finite number`,
      );
    }
    if (integer && !Number.isInteger(v))
      throw new BadRequest(`input ${inputName}: data[${i}] = ${v} is not an integer (${type})`);
    if (range && (v < range[0] || v > range[1]))
      throw new BadRequest(`input ${inputName}: data[${i}] = ${v} overflows ${type}`);
    if (type === "float32" && Math.abs(v) > 3.4028234663852886e38)
      throw new BadRequest(`input ${inputName}: data[${i}] overflows float32`);
    if (type === "float16" && Math.abs(v) > 65504)
      throw new BadRequest(`input ${inputName}: data[${i}] = ${v} overflows float16 (largest 65504)`);
    out[i] = type === "int64" || type === "uint64" ? BigInt(v) : type === "float16" ? toHalfBits(v) : v;
  }
  return out as unknown as ArrayBufferView & ArrayLike<number | bigint>;
}

export function bytesPerElement(type: string): number {
  return BYTES[type] ?? 4;
}

/** A typed array of `type` over the whole buffer. */
export function viewOf(type: string, buffer: ArrayBuffer): ArrayLike<number | bigint> {
  const Ctor = CTORS[type] as unknown as new (b: ArrayBuffer) => ArrayLike<number | bigint>;
  if (!Ctor) throw new Error(`unsupported tensor type ${type}`);
  return new Ctor(buffer);
}

/**
 * Request values checked for the model's type: float32 values stay the plain numbers they are once
 * checked (the batch buffer converts them, so a request allocates no buffer of its own); other types
 * become their typed array.
 */
export function checkedValues(
  type: string,
  values: unknown[],
  inputName: string,
): ArrayLike<number | bigint> {
  if (type === "string") {
    for (let i = 0; i < values.length; i++)
      if (typeof values[i] !== "string")
        throw new BadRequest(
          `input ${inputName}: data[${i}] is ${JSON.stringify(values[i]) ?? String(values[i])}, expected a string (BYTES)`,
        );
    return encodeStrings(values as string[]);
  }
  if (type === "float32") {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number" || !(Math.abs(v) <= 3.4028234663852886e38))
        return typedArrayOfAny(type, values, inputName);
    }
    return values as number[];
  }
  return typedArrayOfAny(type, values, inputName);
}

/** JSON-friendly numbers from an output buffer. */
export function toJsonArray(
  type: string,
  buffer: ArrayBuffer,
  start: number,
  count: number,
): Array<number | boolean | string> {
  if (type === "string") return decodeStrings(new Uint8Array(buffer), start, count);
  const Ctor = CTORS[type] as unknown as new (
    b: ArrayBuffer,
    offset: number,
    length: number,
  ) => ArrayLike<number | bigint>;
  const view = new Ctor(buffer, start * bytesPerElement(type), count);
  const out: Array<number | boolean> = new Array(count);
  for (let i = 0; i < count; i++) {
    const v = view[i];
    out[i] =
      type === "bool"
        ? v !== 0
        : typeof v === "bigint"
          ? Number(v)
          : type === "float16"
            ? fromHalfBits(v)
            : v;
  }
  return out;
}

export function validateShape(shape: unknown, inputName: string): number[] {
  if (!Array.isArray(shape) || shape.length === 0)
    throw new BadRequest(`input ${inputName}: shape must be a non-empty array of integers`);
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0)
      throw new BadRequest(
        `input ${inputName}: shape ${JSON.stringify(shape)} has a negative or non-integer dimension`,
      );
    if (d > 2 ** 31 - 1) throw new BadRequest(`input ${inputName}: dimension ${d} overflows`);
  }
  const size = shape.reduce((a: number, b: number) => a * b, 1);
  if (!Number.isSafeInteger(size) || size > 2 ** 31)
    throw new BadRequest(`input ${inputName}: shape ${JSON.stringify(shape)} is too large`);
  return shape as number[];
}
