/**
 * The request pipeline, independent of any front end: decode (OIP input tensors checked against the
 * model), features (a /v1/predictions row from the request and the feature store), execute (the
 * version's batcher under a deadline) and encode (output tensors as OIP JSON).
 */
import type { BatchInput, RowSlice } from "./batcher.js";
import type { ServeConfig } from "./config.js";
import { encodeFeature, FeatureError, type FeatureKind } from "./feature-codec.js";
import type { FeatureStore } from "./features.js";
import type { LoadedVersion } from "./repository.js";
import {
  BadRequest,
  checkedValues,
  countStrings,
  flatten,
  OIP_TO_ORT,
  ORT_TO_OIP,
  toJsonArray,
  validateShape,
} from "./tensors.js";

export interface Decoded {
  rows: number;
  feeds: Record<string, BatchInput>;
}

/** Validates OIP inputs against the model and turns them into batch rows. */
export function decodeInputs(loaded: Pick<LoadedVersion, "inputsByName">, inputs: unknown): Decoded {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new BadRequest("inputs must be a non-empty array");
  const expected = loaded.inputsByName;
  const feeds: Record<string, BatchInput> = {};
  let rows = -1;
  for (const raw of inputs as Array<Record<string, unknown>>) {
    if (!raw || typeof raw !== "object")
      throw new BadRequest("each input is an object with name, shape, datatype and data");
    const name = String(raw.name ?? "");
    const meta = expected.get(name);
    if (!meta)
      throw new BadRequest(
        `unknown input ${JSON.stringify(name)}; the model takes ${[...expected.keys()].join(", ")}`,
      );
    if (name in feeds) throw new BadRequest(`input ${name} is given twice`);
    const modelType = meta.type ?? "float32";
    const datatype = String(raw.datatype ?? "");
    if (!(datatype in OIP_TO_ORT))
      throw new BadRequest(
        `input ${name}: unknown datatype ${JSON.stringify(datatype)}; allowed: ${Object.keys(OIP_TO_ORT).join(", ")}`,
      );
    if (OIP_TO_ORT[datatype] !== modelType)
      throw new BadRequest(
        `input ${name}: datatype ${datatype} does not match the model's ${ORT_TO_OIP[modelType] ?? modelType}`,
      );
    const shape = validateShape(raw.shape, name);
    const modelShape = meta.shape ?? [];
    if (modelShape.length && shape.length !== modelShape.length)
      throw new BadRequest(
        `input ${name}: shape ${JSON.stringify(shape)} has ${shape.length} dimensions; the model expects ${modelShape.length} (${JSON.stringify(modelShape)})`,
      );
    for (let i = 1; i < modelShape.length; i++) {
      const d = modelShape[i];
      if (typeof d === "number" && d !== shape[i])
        throw new BadRequest(`input ${name}: dimension ${i} is ${shape[i]}; the model expects ${d}`);
    }
    if (shape[0] === 0) throw new BadRequest(`input ${name}: empty batch (shape[0] is 0)`);
    // a typed array is binary data already in the wire type (gRPC raw contents): taken as it is
    const binary = ArrayBuffer.isView(raw.data);
    const data = binary ? (raw.data as unknown as ArrayLike<number | bigint>) : flatten(raw.data);
    let size = 1;
    for (const d of shape) size *= d;
    // binary strings are serialized BYTES: their element count is parsed, not their length
    const given = binary && modelType === "string" ? countStrings(data as Uint8Array) : data.length;
    if (given === null)
      throw new BadRequest(`input ${name}: the BYTES data does not parse (a length runs past the end)`);
    if (given !== size)
      throw new BadRequest(
        `input ${name}: shape ${JSON.stringify(shape)} needs ${size} values, data has ${given}`,
      );
    if (rows >= 0 && shape[0] !== rows)
      throw new BadRequest(`inputs disagree on the batch size (${rows} vs ${shape[0]})`);
    rows = shape[0];
    feeds[name] = {
      type: modelType,
      rowDims: shape.slice(1),
      data: binary ? (data as ArrayLike<number | bigint>) : checkedValues(modelType, data as unknown[], name),
    };
  }
  for (const name of expected.keys()) if (!(name in feeds)) throw new BadRequest(`missing input ${name}`);
  return { rows, feeds };
}

/** Submits decoded rows to the version's batcher; an answer later than `timeoutMs` is a failure. */
export function execute(
  loaded: Pick<LoadedVersion, "batcher">,
  decoded: Decoded,
  timeoutMs: number,
): Promise<Record<string, RowSlice>> {
  return loaded.batcher.submit(decoded.rows, decoded.feeds, timeoutMs);
}

/** The outputs to answer with: all of them, or the ones `requested` names (in its order). */
export function outputNames(outputs: Record<string, RowSlice>, requested: unknown): string[] {
  let names = Object.keys(outputs);
  if (requested !== undefined) {
    if (!Array.isArray(requested)) throw new BadRequest("outputs must be an array of {name}");
    const asked = (requested as Array<{ name?: unknown }>).map((o) => String(o?.name ?? ""));
    if (new Set(asked).size !== asked.length)
      throw new BadRequest(`duplicate output names: ${asked.join(", ")}`);
    for (const n of asked)
      if (!(n in outputs))
        throw new BadRequest(`unknown output ${JSON.stringify(n)}; the model returns ${names.join(", ")}`);
    names = asked;
  }
  return names;
}

/** Output tensors as OIP JSON, all of them or the ones `requested` names (in its order). */
export function encodeOutputs(
  outputs: Record<string, RowSlice>,
  requested: unknown,
): Array<Record<string, unknown>> {
  return outputNames(outputs, requested).map((n) => {
    const o = outputs[n];
    let count = 1;
    for (const d of o.dims) count *= d;
    return {
      name: n,
      datatype: ORT_TO_OIP[o.type] ?? o.type,
      shape: o.dims,
      data: toJsonArray(o.type, o.buffer, o.offset, count),
    };
  });
}

/** What /v1/predictions turns into: one OIP input row and the key that keeps a caller on one version. */
export interface FeatureRequest {
  inputs: Array<Record<string, unknown>>;
  sticky?: string;
}

/**
 * The /v1/predictions row: each feature the primary version reads (model.yaml features, else
 * serve.yaml's), from the request or else the feature store by entity key, encoded by its declared
 * type. Unknown and missing features are 400s naming them.
 */
export async function featureRequest(
  primary: Pick<LoadedVersion, "source" | "inputs">,
  body: Record<string, unknown>,
  context: { config: ServeConfig; kinds: ReadonlyMap<string, FeatureKind>; store?: FeatureStore },
): Promise<FeatureRequest> {
  const { config, kinds, store } = context;
  const modelId = String(body.model_id);
  const names = primary.source.meta.features ?? config.features.fields.map((f) => f.name);
  if (names.length === 0)
    throw new BadRequest(
      `model ${modelId} declares no feature names (model.yaml features); use /v2/models/${modelId}/infer`,
    );
  const given = (body.features ?? {}) as Record<string, unknown>;
  if (typeof given !== "object" || given === null || Array.isArray(given))
    throw new BadRequest("features must be an object of name -> value");
  const { entityKey } = config.features;
  const stickyField = config.routing.stickyKey ?? entityKey;
  const unknown = Object.keys(given).filter(
    (n) => !names.includes(n) && n !== entityKey && n !== stickyField,
  );
  if (unknown.length)
    throw new BadRequest(
      `unknown feature${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; model ${modelId} reads ${names.join(", ")}`,
    );
  const encodings = primary.source.meta.encodings;
  let stored: Record<string, unknown> | undefined;
  if (store && names.some((n) => given[n] === undefined)) {
    const entity = body[entityKey] ?? given[entityKey];
    if (entity !== undefined) stored = await store.get(String(entity));
  }
  const row: number[] = [];
  const missing: string[] = [];
  try {
    for (const n of names) {
      const kind = kinds.get(n) ?? "float";
      if (given[n] !== undefined) row.push(encodeFeature(n, kind, given[n], encodings, "request"));
      else if (stored?.[n] !== undefined) row.push(encodeFeature(n, kind, stored[n], encodings, "store"));
      else missing.push(n);
    }
  } catch (error) {
    if (error instanceof FeatureError) throw new BadRequest(error.message);
    throw error;
  }
  if (missing.length)
    throw new BadRequest(
      `missing features: ${missing.join(", ")}${store ? ` (not in the request nor the ${store.kind} store for ${entityKey})` : ""}`,
    );
  const sticky = body[stickyField] ?? given[stickyField];
  const input = primary.inputs[0];
  return {
    inputs: [
      {
        name: input.name,
        datatype: ORT_TO_OIP[input.type ?? "float32"],
        shape: [1, names.length],
        data: row,
      },
    ],
    sticky: sticky === undefined || sticky === null ? undefined : String(sticky),
  };
}
