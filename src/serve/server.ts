/**
 * The serving core's HTTP API: Open Inference Protocol v2 REST, the simple /v1/predictions, and
 * /metrics. Every bad input is a clear 4xx ({"error": ...}); overload is 503 with Retry-After; health
 * stays responsive because inference runs in worker threads.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, sep } from "node:path";
import { PACKAGE_NAME, packageVersion } from "../util/package.js";
import { Batcher, type BatchInput, QueueFullError, type RowSlice } from "./batcher.js";
import { CircuitBreaker } from "./breaker.js";
import { LruCache } from "./cache.js";
import type { ServeConfig } from "./config.js";
import { DriftMonitor } from "./drift.js";
import { encodeFeature, FeatureError, type FeatureKind } from "./feature-codec.js";
import type { FeatureStore } from "./features.js";
import { HttpError, readJsonBody } from "./http-body.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { type TensorMeta, WorkerPool } from "./pool.js";
import { predictionsOf } from "./predictions.js";
import { fingerprintOf, scanModel, type VersionSource } from "./registry.js";
import { chooseVersion, primaryOf, type Routes, setVersions } from "./router.js";
import { ShadowMirror } from "./shadow.js";
import {
  BadRequest,
  flatten,
  OIP_TO_ORT,
  ORT_TO_OIP,
  toJsonArray,
  typedArrayOf,
  validateShape,
} from "./tensors.js";

export interface ServeOptions {
  config: ServeConfig;
  sources: VersionSource[];
  /** registry root for load requests (models/<name>/<version>) */
  modelsDir?: string;
  host?: string;
  port?: number;
  features?: FeatureStore;
  log?: (line: string) => void;
  /** bearer token for the repository and routing API; without one that API is disabled */
  adminToken?: string;
  /** bearer token inference must carry (health, readiness and metrics stay open for probes) */
  token?: string;
}

/** Model names a URL may carry: DNS-1123-like, so a name can never be a path. */
export const MODEL_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

function tokensMatch(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

interface LoadedVersion {
  name: string;
  version: string;
  key: string;
  source: VersionSource;
  inputs: TensorMeta[];
  /** inputs by name, for validating requests without building a map each time */
  inputsByName: Map<string, TensorMeta>;
  outputs: TensorMeta[];
  batcher: Batcher;
  provider: string;
  /** see fingerprintOf: a reload keeps a version whose files did not change */
  fingerprint: string;
  drift?: DriftMonitor;
}

interface ModelState extends Routes<LoadedVersion> {
  breaker: CircuitBreaker;
}

/** The HTTP status an error maps to: 4xx for the caller's mistakes, 503 for overload, 500 otherwise. */
/**
 * The one mapping from an error to an HTTP answer: its status, the headers that go with it
 * (Retry-After under overload, WWW-Authenticate for a missing token) and whether it is unexpected
 * (logged with its stack).
 */
export function errorResponse(error: unknown): {
  status: number;
  headers: Record<string, string>;
  unexpected: boolean;
} {
  if (error instanceof HttpError) return { status: error.status, headers: error.headers, unexpected: false };
  if (error instanceof BadRequest) return { status: error.status, headers: {}, unexpected: false };
  if (error instanceof QueueFullError)
    return { status: 503, headers: { "retry-after": String(error.retryAfterSeconds) }, unexpected: false };
  return { status: 500, headers: {}, unexpected: true };
}

export class ServingCore {
  readonly metrics: Metrics = createMetrics();
  readonly pool: WorkerPool;
  private readonly models = new Map<string, ModelState>();
  private readonly cache: LruCache<Record<string, RowSlice>>;
  private readonly shadow: ShadowMirror;
  /** each feature's declared type (serve.yaml features.fields), read once */
  private readonly featureKinds: ReadonlyMap<string, FeatureKind>;
  private server: Server | undefined;
  private inflight = 0;
  private closing = false;
  private nextKey = 1;

  constructor(private readonly options: ServeOptions) {
    this.pool = new WorkerPool(options.config.workers);
    this.cache = new LruCache(options.config.cache.enabled ? options.config.cache.maxEntries : 0);
    this.shadow = new ShadowMirror(this.metrics, 64, (line) => this.log(line));
    this.featureKinds = new Map(options.config.features.fields.map((f) => [f.name, f.type]));
  }

  private readonly counters = new Map<string, { inc(): void }>();
  private readonly histograms = new Map<string, { observe(v: number): void }>();

  /** Label children are cached: looking labels up per request costs more than the request. */
  private count(model: string, version: string, status: number): void {
    const key = `${model}\u0000${version}\u0000${status}`;
    let child = this.counters.get(key);
    if (!child) {
      child = this.metrics.requests.labels(model, version, String(status));
      this.counters.set(key, child);
    }
    child.inc();
  }

  private latencyOf(model: string): { observe(v: number): void } {
    let child = this.histograms.get(model);
    if (!child) {
      child = this.metrics.latency.labels(model);
      this.histograms.set(model, child);
    }
    return child;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Loads a version into the workers (trying providers in order), warms it, then lets it take traffic. */
  async loadVersion(source: VersionSource): Promise<LoadedVersion> {
    const fingerprint = fingerprintOf(source);
    const bytes = readFileSync(source.modelPath);
    const key = `${source.name}@${source.version}#${this.nextKey++}`;
    let meta: { inputs: TensorMeta[]; outputs: TensorMeta[]; provider: string };
    try {
      meta = await this.pool.loadOnDevice(key, bytes, this.options.config.device, (provider, reason) =>
        this.log(`${source.name} v${source.version}: skipped ${provider} (${reason})`),
      );
    } catch (error) {
      throw new Error(`cannot load ${source.modelPath}: ${(error as Error).message}`);
    }
    const provider = meta.provider;
    const batching = this.options.config.batching;
    const batcher = new Batcher(key, this.pool, batching);
    batcher.onBatch = (rows) =>
      this.metrics.batchSize.observe({ model: source.name, version: source.version }, rows);
    const loaded: LoadedVersion = {
      name: source.name,
      version: source.version,
      key,
      source,
      inputs: meta.inputs,
      inputsByName: new Map(meta.inputs.map((i) => [i.name, i])),
      outputs: meta.outputs,
      batcher,
      provider,
      fingerprint,
    };
    if (source.meta.reference && this.options.config.drift.enabled)
      loaded.drift = new DriftMonitor(source.meta.reference, this.options.config.drift.window);
    // warm-up: one row of zeros through the session before any request reaches it
    const feeds: Record<string, BatchInput> = {};
    for (const input of meta.inputs) {
      const rowDims = (input.shape ?? []).slice(1).map((d) => (typeof d === "number" ? d : 1));
      feeds[input.name] = {
        type: input.type ?? "float32",
        rowDims,
        data: typedArrayOf(
          input.type ?? "float32",
          new Array(rowDims.reduce((a, b) => a * b, 1)).fill(0),
          input.name,
        ),
      };
    }
    await batcher.submit(1, feeds);
    this.metrics.provider.set({ model: source.name, version: source.version, provider }, 1);
    this.log(
      `${source.name} v${source.version}: ready on ${provider} (${meta.inputs.map((i) => `${i.name}${JSON.stringify(i.shape)}`).join(", ")})${source.meta.stage === "sample" ? "; a SAMPLE model (stage: sample): generated weights, not trained; publish a trained version to replace it" : ""}`,
    );
    return loaded;
  }

  /**
   * (Re)loads a model to exactly these versions: a version whose files did not change keeps serving
   * as it is, a new or changed one is loaded and warmed before it takes traffic, and the versions it
   * replaces retire once their batches finish. A failed load changes nothing.
   */
  async loadModel(
    name: string,
    sources: VersionSource[],
  ): Promise<{ loaded: string[]; kept: string[]; retired: string[] }> {
    if (sources.length === 0) throw new HttpError(404, `no versions of model ${name} found`);
    const state: ModelState = this.models.get(name) ?? {
      versions: new Map(),
      breaker: this.newBreaker(),
      shadows: [],
    };
    const fresh = new Map<string, LoadedVersion>();
    const kept: string[] = [];
    const loadedNow: LoadedVersion[] = [];
    try {
      for (const source of sources) {
        const current = state.versions.get(source.version);
        if (current && current.fingerprint === fingerprintOf(source)) {
          fresh.set(source.version, current);
          kept.push(source.version);
        } else {
          const loaded = await this.loadVersion(source);
          loadedNow.push(loaded);
          fresh.set(source.version, loaded);
        }
      }
    } catch (error) {
      for (const loaded of loadedNow) void this.retire(loaded);
      throw error;
    }
    const old = state.versions;
    setVersions(state, fresh);
    this.models.set(name, state);
    const retired: string[] = [];
    for (const [version, loaded] of old) {
      if (fresh.get(version) === loaded) continue;
      this.cache.invalidate(`${name}@${version}#`);
      if (!fresh.has(version)) retired.push(version);
      void this.retire(loaded);
    }
    return { loaded: loadedNow.map((l) => l.version), kept, retired };
  }

  /**
   * Brings a model in line with the registry directory (the --watch path): loads new and changed
   * versions, retires removed ones, and unloads the model when its directory is gone.
   */
  async syncModel(name: string): Promise<string> {
    const root = this.options.modelsDir;
    if (!root) throw new Error("syncing needs a model repository (--models DIR)");
    const sources = scanModel(root, name);
    if (sources.length === 0) {
      if (!this.models.has(name)) return "nothing to serve";
      await this.unloadModel(name);
      return "unloaded (no versions left)";
    }
    const { loaded, retired } = await this.loadModel(name, sources);
    if (loaded.length === 0 && retired.length === 0) return "unchanged";
    const changes = [
      loaded.length ? `loaded ${loaded.join(", ")}` : "",
      retired.length ? `retired ${retired.join(", ")}` : "",
    ].filter(Boolean);
    return `serving versions ${sources.map((s) => s.version).join(", ")} (${changes.join("; ")})`;
  }

  private async retire(loaded: LoadedVersion): Promise<void> {
    while (!loaded.batcher.idle()) await new Promise((r) => setTimeout(r, 20));
    await this.pool.unload(loaded.key).catch(() => {});
  }

  async unloadModel(name: string): Promise<void> {
    const state = this.models.get(name);
    if (!state) throw new HttpError(404, `model ${name} is not loaded`);
    this.models.delete(name);
    for (const loaded of state.versions.values()) {
      this.cache.invalidate(`${name}@${loaded.version}#`);
      await this.retire(loaded);
    }
  }

  private newBreaker(): CircuitBreaker {
    const b = this.options.config.fallback.breaker;
    return new CircuitBreaker(b.failures, b.windowSeconds * 1000, b.openSeconds * 1000);
  }

  private pick(
    name: string,
    version: string | undefined,
    stickyKey: string | undefined,
  ): { state: ModelState; loaded: LoadedVersion } {
    const state = this.models.get(name);
    if (!state)
      throw new HttpError(
        404,
        `unknown model ${JSON.stringify(name)}; loaded: ${[...this.models.keys()].join(", ") || "none"}`,
      );
    if (version !== undefined) {
      const loaded = state.versions.get(version);
      if (!loaded)
        throw new HttpError(
          404,
          `unknown version ${JSON.stringify(version)} of ${name}; available: ${[...state.versions.keys()].join(", ")}`,
        );
      return { state, loaded };
    }
    const loaded = chooseVersion(state, this.options.config.routing.canaryWeight, stickyKey);
    if (!loaded) throw new HttpError(503, `model ${name} has no servable version`);
    return { state, loaded };
  }

  /** Validates OIP inputs against the model and turns them into batch rows. */
  private prepare(
    loaded: LoadedVersion,
    inputs: unknown,
  ): { rows: number; feeds: Record<string, BatchInput> } {
    if (!Array.isArray(inputs) || inputs.length === 0)
      throw new BadRequest("inputs must be a non-empty array");
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
      modelShape.forEach((d, i) => {
        if (i > 0 && typeof d === "number" && d !== shape[i])
          throw new BadRequest(`input ${name}: dimension ${i} is ${shape[i]}; the model expects ${d}`);
      });
      if (shape[0] === 0) throw new BadRequest(`input ${name}: empty batch (shape[0] is 0)`);
      const data = flatten(raw.data);
      const size = shape.reduce((a, b) => a * b, 1);
      if (data.length !== size)
        throw new BadRequest(
          `input ${name}: shape ${JSON.stringify(shape)} needs ${size} values, data has ${data.length}`,
        );
      if (rows >= 0 && shape[0] !== rows)
        throw new BadRequest(`inputs disagree on the batch size (${rows} vs ${shape[0]})`);
      rows = shape[0];
      feeds[name] = { type: modelType, rowDims: shape.slice(1), data: typedArrayOf(modelType, data, name) };
    }
    for (const name of expected.keys()) if (!(name in feeds)) throw new BadRequest(`missing input ${name}`);
    return { rows, feeds };
  }

  private observeDrift(loaded: LoadedVersion, feeds: Record<string, BatchInput>): void {
    if (!loaded.drift) return;
    const names = loaded.source.meta.features;
    const input = Object.values(feeds)[0];
    if (!names || !input) return;
    const values = input.data as unknown as ArrayLike<number>;
    const width = names.length;
    for (let r = 0; r * width < values.length; r++)
      for (let c = 0; c < width; c++) loaded.drift.observe(names[c], Number(values[r * width + c]));
  }

  /** Runs inputs on the routed version with cache, breaker, fallback and a deadline. */
  async infer(
    name: string,
    version: string | undefined,
    body: Record<string, unknown>,
    stickyKey?: string,
  ): Promise<{ loaded: LoadedVersion; outputs: Record<string, RowSlice>; via: string }> {
    const { state, loaded } = this.pick(name, version, stickyKey);
    const { rows, feeds } = this.prepare(loaded, body.inputs);
    this.observeDrift(loaded, feeds);
    const cacheKey = this.options.config.cache.enabled
      ? `${name}@${loaded.version}#${createHash("sha1").update(JSON.stringify(body.inputs)).digest("hex")}`
      : "";
    if (cacheKey) {
      const hit = this.cache.get(cacheKey);
      if (hit) {
        this.metrics.cacheHits.inc({ model: name });
        return { loaded, outputs: hit, via: "cache" };
      }
      this.metrics.cacheMisses.inc({ model: name });
    }
    // the shadow is asked only after the primary answered, through its own bounded queue
    const shadow = version === undefined ? state.shadows.find((v) => v !== loaded) : undefined;
    const mirror = (outputs: Record<string, RowSlice>) => {
      if (shadow)
        this.shadow.mirror(name, shadow.version, outputs, () =>
          this.runWithDeadline(shadow, rows, this.prepare(shadow, body.inputs).feeds),
        );
    };
    const explicit = version !== undefined;
    if (explicit || state.breaker.allow()) {
      try {
        const outputs = await this.runWithDeadline(loaded, rows, feeds);
        if (!explicit) state.breaker.success();
        this.metrics.breaker.set({ model: name }, 0);
        if (cacheKey) this.cache.set(cacheKey, outputs);
        mirror(outputs);
        return { loaded, outputs, via: "primary" };
      } catch (error) {
        if (error instanceof QueueFullError || explicit) throw error;
        state.breaker.failure();
        this.log(`${name} v${loaded.version}: ${(error as Error).message}; trying the fallback chain`);
      }
    }
    this.metrics.breaker.set(
      { model: name },
      state.breaker.state === "open" ? 2 : state.breaker.state === "half-open" ? 1 : 0,
    );
    return this.fallback(name, loaded, rows, body);
  }

  private async fallback(name: string, loaded: LoadedVersion, rows: number, body: Record<string, unknown>) {
    const chain = loaded.source.meta.fallback;
    if (chain?.previousVersion) {
      // the version that was primary before this one: the primary among the versions loaded before it
      const list = [...(this.models.get(name)?.versions.values() ?? [])];
      const previous = primaryOf(
        list.slice(0, list.indexOf(loaded)).filter((v) => v.source.meta.stage !== "staging"),
      );
      if (previous) {
        try {
          const outputs = await this.runWithDeadline(
            previous,
            rows,
            this.prepare(previous, body.inputs).feeds,
          );
          this.metrics.fallbacks.inc({ model: name, via: "previous-version" });
          return { loaded: previous, outputs, via: `previous-version:${previous.version}` };
        } catch (error) {
          this.log(`${name} v${previous.version} (previous version): ${(error as Error).message}`);
        }
      }
    }
    if (chain?.model && chain.model !== name) {
      try {
        const result = await this.infer(chain.model, undefined, body);
        this.metrics.fallbacks.inc({ model: name, via: "fallback-model" });
        return { ...result, via: `fallback-model:${chain.model}` };
      } catch (error) {
        if (error instanceof BadRequest) throw error;
      }
    }
    if (chain?.default) {
      const outputs: Record<string, RowSlice> = {};
      for (const [outputName, values] of Object.entries(chain.default)) {
        const data = new Float32Array(values.length * rows);
        for (let r = 0; r < rows; r++) data.set(values, r * values.length);
        outputs[outputName] = { type: "float32", dims: [rows, values.length], buffer: data.buffer };
      }
      this.metrics.fallbacks.inc({ model: name, via: "default-response" });
      return { loaded, outputs, via: "default-response" };
    }
    throw new HttpError(503, `model ${name} is failing and has no fallback configured`, {
      "retry-after": "1",
    });
  }

  private runWithDeadline(
    loaded: LoadedVersion,
    rows: number,
    feeds: Record<string, BatchInput>,
  ): Promise<Record<string, RowSlice>> {
    const timeoutMs = this.options.config.fallback.timeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      loaded.batcher.submit(rows, feeds).then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  private ready(): boolean {
    if (this.closing || this.models.size === 0) return false;
    for (const state of this.models.values())
      for (const v of state.versions.values()) if (v.batcher.stalled()) return false;
    return true;
  }

  private modelMetadata(loaded: LoadedVersion, state: ModelState) {
    const oip = (t: TensorMeta) => ({
      name: t.name,
      datatype: ORT_TO_OIP[t.type ?? "float32"] ?? t.type,
      shape: (t.shape ?? []).map((d) => (typeof d === "number" ? d : -1)),
    });
    return {
      name: loaded.name,
      versions: [...state.versions.keys()],
      platform: "onnxruntime",
      inputs: loaded.inputs.map(oip),
      outputs: loaded.outputs.map(oip),
      parameters: {
        version: loaded.version,
        stage: loaded.source.meta.stage,
        execution_provider: loaded.provider,
        features: loaded.source.meta.features ?? null,
      },
    };
  }

  private responseOutputs(
    outputs: Record<string, RowSlice>,
    requested: unknown,
  ): Array<Record<string, unknown>> {
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
    return names.map((n) => {
      const o = outputs[n];
      const count = o.dims.reduce((a, b) => a * b, 1);
      return {
        name: n,
        datatype: ORT_TO_OIP[o.type] ?? o.type,
        shape: o.dims,
        data: toJsonArray(o.type, o.buffer, 0, count),
      };
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // the path alone (no query is read); cheaper than a URL object per request
    const raw = req.url ?? "/";
    const query = raw.indexOf("?");
    const path = (query < 0 ? raw : raw.slice(0, query)).replace(/\/+$/, "") || "/";
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const json = JSON.stringify(body);
      // an explicit length keeps the response out of chunked encoding: one write per response
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(json)),
        ...headers,
      });
      res.end(json);
    };
    if (path === "/v2/health/live") return send(200, { live: true });
    if (path === "/v2/health/ready")
      return this.ready() ? send(200, { ready: true }) : send(503, { ready: false });
    if (path === "/v2")
      return send(200, { name: PACKAGE_NAME, version: packageVersion(), extensions: ["model_repository"] });
    if (path === "/metrics") {
      for (const [name, state] of this.models) {
        for (const v of state.versions.values()) {
          this.metrics.queueDepth.set({ model: name, version: v.version }, v.batcher.depth);
          for (const [feature, score] of Object.entries(v.drift?.scores() ?? {}))
            this.metrics.psi.set({ model: name, feature }, score.psi);
        }
      }
      res.writeHead(200, { "content-type": this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return;
    }
    const repo = /^\/v2\/repository\/models\/([^/]+)\/(load|unload|routing)$/.exec(path);
    if (repo && req.method === "POST") {
      this.authorize(req, this.options.adminToken, "the repository API");
      const name = decodeURIComponent(repo[1]);
      if (!MODEL_NAME.test(name))
        throw new BadRequest(
          `model name ${JSON.stringify(name)} is not allowed: letters, digits, '.', '_' and '-', starting and ending with a letter or digit, at most 63`,
        );
      const body =
        Number(req.headers["content-length"] ?? 0) > 0
          ? await readJsonBody(req, this.options.config.maxBodyBytes)
          : {};
      if (repo[2] === "unload") {
        await this.unloadModel(name);
        return send(200, { name, unloaded: true });
      }
      if (repo[2] === "routing") {
        const weight = Number((body as { canaryWeight?: unknown }).canaryWeight);
        if (!Number.isFinite(weight) || weight < 0 || weight > 100)
          throw new BadRequest("canaryWeight must be a number between 0 and 100");
        const state = this.models.get(name);
        if (!state) throw new HttpError(404, `model ${name} is not loaded`);
        state.canaryWeight = weight;
        return send(200, { name, canaryWeight: weight });
      }
      if (!this.options.modelsDir)
        throw new HttpError(400, "load needs a model repository (start with --models DIR)");
      this.confine(this.options.modelsDir, name);
      let sources: VersionSource[];
      try {
        sources = scanModel(this.options.modelsDir, name);
      } catch (error) {
        throw new BadRequest((error as Error).message);
      }
      try {
        await this.loadModel(name, sources);
      } catch (error) {
        if (error instanceof HttpError) throw error;
        throw new HttpError(
          400,
          `load failed, the previous versions keep serving: ${(error as Error).message}`,
        );
      }
      return send(200, { name, loaded: sources.map((s) => s.version) });
    }
    if (this.options.token && (path === "/v1/predictions" || path.startsWith("/v2/models/")))
      this.authorize(req, this.options.token, "inference");
    if (path === "/v1/predictions" && req.method === "POST") return this.predictions(req, send);
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer|\/drift|\/shadow)?$/.exec(path);
    if (m) {
      const name = decodeURIComponent(m[1]);
      const version = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
      const action = m[3];
      if (action === "/infer") {
        if (req.method !== "POST") throw new HttpError(405, "infer takes POST");
        const started = process.hrtime.bigint();
        const body = await readJsonBody(req, this.options.config.maxBodyBytes);
        let status = 200;
        let modelVersion = version ?? "";
        try {
          const { loaded, outputs } = await this.infer(
            name,
            version,
            body,
            req.headers["x-stackwright-key"] as string | undefined,
          );
          modelVersion = loaded.version;
          return send(200, {
            model_name: name,
            model_version: loaded.version,
            ...(body.id !== undefined ? { id: body.id } : {}),
            outputs: this.responseOutputs(outputs, body.outputs),
          });
        } catch (error) {
          status = errorResponse(error).status;
          throw error;
        } finally {
          // series only for loaded models: a name in a URL must not mint a metric
          if (this.models.has(name)) {
            this.count(name, modelVersion, status);
            this.latencyOf(name).observe(Number(process.hrtime.bigint() - started) / 1e9);
          }
        }
      }
      const { state, loaded } = this.pick(name, version, undefined);
      if (action === "/ready") return send(200, { name, ready: true, version: loaded.version });
      if (action === "/shadow") {
        const shadowVersion = state.shadows.find((v) => v !== state.primary);
        if (!shadowVersion)
          throw new HttpError(404, `model ${name} has no shadow version (model.yaml shadow: true)`);
        return send(200, {
          name,
          primary: state.primary?.version,
          shadow: this.shadow.statsOf(name, shadowVersion.version),
        });
      }
      if (action === "/drift") {
        const drift = this.options.config.drift;
        const scores = loaded.drift?.scores() ?? {};
        return send(200, {
          name,
          version: loaded.version,
          bands: { warn: drift.warn, alert: drift.alert },
          features: Object.fromEntries(
            Object.entries(scores).map(([f, s]) => [
              f,
              { ...s, status: s.psi >= drift.alert ? "alert" : s.psi >= drift.warn ? "warn" : "ok" },
            ]),
          ),
        });
      }
      return send(200, this.modelMetadata(loaded, state));
    }
    throw new HttpError(404, `no route for ${req.method} ${path}`);
  }

  private async predictions(
    req: IncomingMessage,
    send: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): Promise<void> {
    const started = performance.now();
    const body = await readJsonBody(req, this.options.config.maxBodyBytes);
    const modelId = body.model_id;
    if (typeof modelId !== "string" || !modelId) throw new BadRequest("model_id (string) is required");
    const state = this.models.get(modelId);
    if (!state) throw new HttpError(404, `unknown model ${JSON.stringify(modelId)}`);
    const primary = state.primary;
    if (!primary) throw new HttpError(503, `model ${modelId} has no servable version`);
    const names = primary.source.meta.features ?? this.options.config.features.fields.map((f) => f.name);
    if (names.length === 0)
      throw new BadRequest(
        `model ${modelId} declares no feature names (model.yaml features); use /v2/models/${modelId}/infer`,
      );
    const given = (body.features ?? {}) as Record<string, unknown>;
    if (typeof given !== "object" || given === null || Array.isArray(given))
      throw new BadRequest("features must be an object of name -> value");
    const { entityKey } = this.options.config.features;
    const stickyField = this.options.config.routing.stickyKey ?? entityKey;
    const unknown = Object.keys(given).filter(
      (n) => !names.includes(n) && n !== entityKey && n !== stickyField,
    );
    if (unknown.length)
      throw new BadRequest(
        `unknown feature${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; model ${modelId} reads ${names.join(", ")}`,
      );
    const kinds = this.featureKinds;
    const encodings = primary.source.meta.encodings;
    let stored: Record<string, unknown> | undefined;
    const missing = names.filter((n) => given[n] === undefined);
    if (missing.length && this.options.features) {
      const entity = (body as Record<string, unknown>)[entityKey] ?? given[entityKey];
      if (entity !== undefined) stored = await this.options.features.get(String(entity));
    }
    const row: number[] = [];
    const stillMissing: string[] = [];
    try {
      for (const n of names) {
        const kind = kinds.get(n) ?? "float";
        if (given[n] !== undefined) row.push(encodeFeature(n, kind, given[n], encodings, "request"));
        else if (stored?.[n] !== undefined) row.push(encodeFeature(n, kind, stored[n], encodings, "store"));
        else stillMissing.push(n);
      }
    } catch (error) {
      if (error instanceof FeatureError) throw new BadRequest(error.message);
      throw error;
    }
    if (stillMissing.length)
      throw new BadRequest(
        `missing features: ${stillMissing.join(", ")}${this.options.features ? ` (not in the request nor the ${this.options.features.kind} store for ${entityKey})` : ""}`,
      );
    const sticky = (body as Record<string, unknown>)[stickyField] ?? given[stickyField];
    const input = primary.inputs[0];
    const result = await this.infer(
      modelId,
      undefined,
      {
        inputs: [
          {
            name: input.name,
            datatype: ORT_TO_OIP[input.type ?? "float32"],
            shape: [1, names.length],
            data: row,
          },
        ],
      },
      sticky === undefined || sticky === null ? undefined : String(sticky),
    );
    const [{ prediction, probability }] = predictionsOf(result.outputs);
    this.count(modelId, result.loaded.version, 200);
    send(200, {
      prediction,
      probability,
      model_version: result.loaded.version,
      latency_ms: Math.round((performance.now() - started) * 100) / 100,
      ...(result.via !== "primary" ? { served_by: result.via } : {}),
    });
  }

  async listen(): Promise<{ url: string; port: number }> {
    this.server = createServer((req, res) => {
      if (this.closing) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1", connection: "close" });
        res.end(JSON.stringify({ error: "shutting down" }));
        return;
      }
      this.inflight++;
      this.route(req, res)
        .catch((error: unknown) => {
          const { status, headers, unexpected } = errorResponse(error);
          if (unexpected) this.log(`internal error: ${(error as Error).stack ?? String(error)}`);
          if (!res.headersSent) {
            res.writeHead(status, { "content-type": "application/json", ...headers });
            res.end(JSON.stringify({ error: (error as Error).message ?? String(error) }));
          }
        })
        .finally(() => {
          this.inflight--;
        });
    });
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.options.port ?? 8080, this.options.host ?? "127.0.0.1", () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    return { url: `http://${this.options.host ?? "127.0.0.1"}:${port}`, port };
  }

  /** Refuses a request without the bearer token; a surface with no token configured is disabled. */
  private authorize(req: IncomingMessage, token: string | undefined, what: string): void {
    if (!token)
      throw new HttpError(
        403,
        `${what} is disabled: start serve with --admin-token or STACKWRIGHT_ADMIN_TOKEN`,
      );
    const header = req.headers.authorization ?? "";
    const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
    if (!given || !tokensMatch(given, token))
      throw new HttpError(401, `${what} needs a bearer token (Authorization: Bearer ...)`, {
        "www-authenticate": 'Bearer realm="stackwright"',
      });
  }

  /** A model directory must resolve inside the repository, symbolic links included. */
  private confine(root: string, name: string): void {
    let real: string;
    let base: string;
    try {
      base = realpathSync(root);
      real = realpathSync(join(root, name));
    } catch {
      return; // nothing there: scanModel finds no versions and the load says so
    }
    if (real !== base && !real.startsWith(base + sep))
      throw new BadRequest(`model ${name} resolves outside the model repository (${real})`);
  }

  /** Graceful: stop accepting, drain in-flight requests, then stop the workers. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.server?.closeAllConnections();
    await closed;
    for (const state of this.models.values())
      for (const v of state.versions.values()) v.batcher.drain(new Error("shutting down"));
    await this.options.features?.close();
    await this.pool.close();
  }
}

export async function startServing(
  options: ServeOptions,
): Promise<{ core: ServingCore; url: string; port: number }> {
  const core = new ServingCore(options);
  const byName = new Map<string, VersionSource[]>();
  for (const source of options.sources) byName.set(source.name, [...(byName.get(source.name) ?? []), source]);
  try {
    for (const [name, sources] of byName) await core.loadModel(name, sources);
    const { url, port } = await core.listen();
    return { core, url, port };
  } catch (error) {
    // the worker threads would keep a failed start alive: stop them, then report
    await core.close();
    throw error;
  }
}
