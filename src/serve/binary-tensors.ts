/**
 * Triton's binary tensor extension over HTTP: a request body is a JSON header of
 * `Inference-Header-Content-Length` bytes followed by the raw bytes of each input whose parameters
 * give `binary_data_size`, in order; a response carries the outputs asked for as binary the same way.
 */
import type { RowSlice } from "./batcher.js";
import { parseJsonObject } from "./http-body.js";
import {
  BadRequest,
  bytesPerElement,
  OIP_TO_ORT,
  ORT_TO_OIP,
  stringByteRange,
  toJsonArray,
  viewOf,
} from "./tensors.js";

export const HEADER_LENGTH = "inference-header-content-length";

/**
 * An input's raw bytes (the binary extension's, or gRPC's raw_input_contents) as the values the
 * pipeline takes: a typed array of its type over a copy, since the bytes may not be aligned for it.
 * Fixed-size values must fill the shape exactly; BYTES elements say their own lengths (the pipeline
 * counts them). `label` names the bytes in the error ("binary_data_size is").
 */
export function rawInputData(
  name: string,
  datatype: string,
  shape: number[],
  bytes: Uint8Array,
  label: string,
): ArrayLike<number | bigint> {
  const type = OIP_TO_ORT[datatype];
  if (!type)
    throw new BadRequest(
      `input ${name}: unknown datatype ${JSON.stringify(datatype)}; allowed: ${Object.keys(OIP_TO_ORT).join(", ")}`,
    );
  const expected = shape.reduce((a, b) => a * b, 1) * bytesPerElement(type);
  if (type !== "string" && bytes.byteLength !== expected)
    throw new BadRequest(
      `input ${name}: ${label} ${bytes.byteLength} bytes; shape ${JSON.stringify(shape)} of ${datatype} needs ${expected}`,
    );
  return viewOf(type, new Uint8Array(bytes).buffer as ArrayBuffer);
}

/** The JSON header of a binary request, each binary input's `data` its values as a typed array. */
export function decodeBinaryRequest(body: Buffer, headerLength: string): Record<string, unknown> {
  const length = Number(headerLength);
  if (!Number.isInteger(length) || length <= 0 || length > body.length)
    throw new BadRequest(
      `Inference-Header-Content-Length is ${JSON.stringify(headerLength)}; it must be a whole number of bytes from 1 to the body's ${body.length}`,
    );
  const header = parseJsonObject(body.subarray(0, length).toString("utf8"));
  let offset = length;
  const inputs = Array.isArray(header.inputs) ? (header.inputs as Array<Record<string, unknown>>) : [];
  for (const input of inputs) {
    const parameters = (input?.parameters ?? {}) as Record<string, unknown>;
    const size = parameters.binary_data_size;
    if (size === undefined) continue;
    const name = String(input.name ?? "");
    if (typeof size !== "number" || !Number.isInteger(size) || size < 0)
      throw new BadRequest(`input ${name}: binary_data_size must be a whole number of bytes`);
    if (input.data !== undefined)
      throw new BadRequest(`input ${name}: has both data and binary_data_size; give one`);
    if (offset + size > body.length)
      throw new BadRequest(
        `input ${name}: binary_data_size ${size} runs past the body's end (${body.length - offset} bytes left)`,
      );
    const shape = Array.isArray(input.shape) ? (input.shape as unknown[]).map(Number) : [];
    input.data = rawInputData(
      name,
      String(input.datatype),
      shape,
      body.subarray(offset, offset + size),
      "binary_data_size is",
    );
    offset += size;
  }
  if (offset !== body.length)
    throw new BadRequest(
      `${body.length - offset} bytes after the header belong to no input's binary_data_size`,
    );
  return header;
}

/** Which outputs answer as binary: the request's binary_data_output, overridden per output by binary_data. */
export function binaryOutputs(body: Record<string, unknown>, names: string[]): ReadonlySet<string> {
  const all = ((body.parameters ?? {}) as Record<string, unknown>).binary_data_output === true;
  const requested = Array.isArray(body.outputs) ? (body.outputs as Array<Record<string, unknown>>) : [];
  // nothing asks for binary (a plain JSON request): no map and set per request
  if (!all && requested.length === 0) return NONE;
  const asked = new Map(
    requested.map((o) => [
      String(o?.name ?? ""),
      ((o?.parameters ?? {}) as Record<string, unknown>).binary_data,
    ]),
  );
  return new Set(names.filter((n) => (typeof asked.get(n) === "boolean" ? asked.get(n) === true : all)));
}

const NONE: ReadonlySet<string> = new Set();

/** A response with binary outputs: the JSON header, then each binary output's bytes in order. */
export function encodeBinaryResponse(
  head: Record<string, unknown>,
  outputs: Record<string, RowSlice>,
  names: string[],
  binary: ReadonlySet<string>,
): { body: Buffer; headerLength: number } {
  const blobs: Buffer[] = [];
  const tensors = names.map((name) => {
    const o = outputs[name];
    const count = o.dims.reduce((a, b) => a * b, 1);
    const tensor = { name, datatype: ORT_TO_OIP[o.type] ?? o.type, shape: o.dims };
    if (!binary.has(name)) return { ...tensor, data: toJsonArray(o.type, o.buffer, o.offset, count) };
    const blob = rawBytes(o, count);
    blobs.push(blob);
    return { ...tensor, parameters: { binary_data_size: blob.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...head, outputs: tensors }));
  return { body: Buffer.concat([header, ...blobs]), headerLength: header.length };
}

/** An output's elements as raw bytes: fixed-size values, or serialized BYTES for strings. */
export function rawBytes(o: RowSlice, count: number): Buffer {
  if (o.type === "string") {
    const range = stringByteRange(new Uint8Array(o.buffer), o.offset, count);
    if (!range) throw new Error("a string output's bytes end before its last element");
    return Buffer.from(o.buffer, range.begin, range.end - range.begin);
  }
  const bytes = bytesPerElement(o.type);
  return Buffer.from(o.buffer, o.offset * bytes, count * bytes);
}
