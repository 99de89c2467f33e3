/**
 * What every front end (HTTP, gRPC) does the same way around the core: bearer tokens checked in
 * constant time, inference answers counted and timed under the model's name, and model metadata.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { PACKAGE_NAME, packageVersion } from "../util/package.js";
import { errorResponse, HttpError } from "./errors.js";
import type { Observability } from "./observability.js";
import type { TensorMeta } from "./ort-session.js";
import type { LoadedVersion, ModelRepository, ModelState } from "./repository.js";
import { ORT_TO_OIP } from "./tensors.js";

/** The server's metadata, as both protocols answer it. */
export function serverMetadata(): { name: string; version: string; extensions: string[] } {
  return { name: PACKAGE_NAME, version: packageVersion(), extensions: ["model_repository"] };
}

/** Ready for traffic: some model loaded, no batch stuck, and the front end not shutting down. */
export function serverReady(repository: ModelRepository, closing: boolean): boolean {
  return !closing && repository.size > 0 && !repository.stalled();
}

function tokensMatch(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Refuses a call without the bearer token (`authorization` is the header or metadata value);
 * a surface with no token configured is disabled (403).
 */
export function checkBearer(
  authorization: string | undefined,
  token: string | undefined,
  what: string,
): void {
  if (!token)
    throw new HttpError(
      403,
      `${what} is disabled: start serve with --admin-token or STACKWRIGHT_ADMIN_TOKEN`,
    );
  const header = authorization ?? "";
  const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
  if (!given || !tokensMatch(given, token))
    throw new HttpError(401, `${what} needs a bearer token (Authorization: Bearer ...)`, {
      "www-authenticate": 'Bearer realm="stackwright"',
    });
}

/**
 * Runs an inference answer and counts and times it under the model's name, errors included — only
 * for a loaded model: a name in a request must not mint a series. `answer` reports the version
 * that answered (a fallback may be another). One promise reaction per request, not an async frame
 * around the answer's own.
 */
export function measured(
  core: { repository: ModelRepository; observability: Observability },
  name: string,
  version: string,
  started: number,
  answer: (answeredBy: (version: string) => void) => Promise<void>,
): Promise<void> {
  let answered = version;
  const record = (status: number): void => {
    if (!core.repository.has(name)) return;
    const seconds = (performance.now() - started) / 1000;
    core.observability.count(name, answered, status);
    core.observability.latency(name, seconds);
    core.observability.onAnswer?.({ model: name, version: answered, status, latencyMs: seconds * 1000 });
  };
  return answer((v) => {
    answered = v;
  }).then(
    () => record(200),
    (error: unknown) => {
      record(errorResponse(error).status);
      throw error;
    },
  );
}

/**
 * OIP model metadata, with the version's stage, provider and placement as `parameters` (strings,
 * numbers and booleans only, as the protocol allows) and the same as the protocol's `properties`
 * (a map of strings, which gRPC's ModelMetadataResponse also carries).
 */
export function modelMetadata(loaded: LoadedVersion, state: ModelState) {
  const oip = (t: TensorMeta) => ({
    name: t.name,
    datatype: ORT_TO_OIP[t.type ?? "float32"] ?? t.type,
    shape: (t.shape ?? []).map((d) => (typeof d === "number" ? d : -1)),
  });
  const { placement } = loaded;
  const parameters: Record<string, string | number> = {
    version: loaded.version,
    stage: loaded.source.meta.stage,
    execution_provider: loaded.provider,
    ...(loaded.source.meta.features ? { features: loaded.source.meta.features.join(",") } : {}),
    placement: placement.placement,
    placement_reason: placement.reason,
    ...(placement.eventLoopBatchUs !== undefined ? { placement_batch_us: placement.eventLoopBatchUs } : {}),
    ...(placement.handoffUs !== undefined ? { placement_handoff_us: placement.handoffUs } : {}),
  };
  return {
    name: loaded.name,
    versions: [...state.versions.keys()],
    // the protocol's name for an ONNX model's platform
    platform: "onnx_onnxv1",
    inputs: loaded.inputs.map(oip),
    outputs: loaded.outputs.map(oip),
    properties: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, String(v)])),
    parameters,
  };
}
