/**
 * The HTTP front end: Open Inference Protocol v2 REST, the simple /v1/predictions and /metrics,
 * thin over the repository, the router and the pipeline. Probes are answered first, before any body
 * is read; every error becomes its answer through errorResponse.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { binaryOutputs, decodeBinaryRequest, encodeBinaryResponse, HEADER_LENGTH } from "./binary-tensors.js";
import type { ServeConfig } from "./config.js";
import { errorResponse, HttpError } from "./errors.js";
import type { FeatureKind } from "./feature-codec.js";
import type { FeatureStore } from "./features.js";
import { checkBearer, measured, modelMetadata, serverMetadata, serverReady } from "./front-end.js";
import { readBody, readJsonBody } from "./http-body.js";
import type { Observability } from "./observability.js";
import { encodeOutputs, featureRequest, outputNames } from "./pipeline.js";
import { predictionsOf } from "./predictions.js";
import { checkModelName, type ModelRepository } from "./repository.js";
import type { Router } from "./router.js";
import { BadRequest } from "./tensors.js";

export interface HttpOptions {
  config: ServeConfig;
  repository: ModelRepository;
  router: Router;
  observability: Observability;
  features?: FeatureStore;
  log: (line: string) => void;
  host?: string;
  port?: number;
  /** listen on this Unix socket instead of host and port (a device's runner: stackwright edge run) */
  socketPath?: string;
  /** bearer token for the repository and routing API; without one that API is disabled */
  adminToken?: string;
  /** bearer token inference must carry (health, readiness and metrics stay open for probes) */
  token?: string;
}

/** Answers with JSON; an explicit length keeps the response out of chunked encoding (one write). */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(json)),
  });
  res.end(json);
}

const MODEL_PREFIX = "/v2/models/";
const MODEL_ACTIONS = new Set(["ready", "infer", "drift", "shadow"]);

/**
 * /v2/models/{name}[/versions/{version}][/ready|/infer|/drift|/shadow], its names decoded; undefined
 * for another path. Cut with indexOf, not matched with a regex: every inference request comes here.
 */
export function modelPath(path: string): { name: string; version?: string; action?: string } | undefined {
  if (!path.startsWith(MODEL_PREFIX)) return undefined;
  // at most four segments, cut at each "/" with indexOf: name [versions version] [action]
  const segments: string[] = [];
  for (let from = MODEL_PREFIX.length; ; ) {
    const end = path.indexOf("/", from);
    const segment = end < 0 ? path.slice(from) : path.slice(from, end);
    if (segment === "" || segments.push(segment) > 4) return undefined;
    if (end < 0) break;
    from = end + 1;
  }
  const versioned = segments.length >= 3 && segments[1] === "versions";
  const rest = versioned ? 3 : 1;
  if (segments.length > rest + 1) return undefined;
  const action = segments[rest];
  if (action !== undefined && !MODEL_ACTIONS.has(action)) return undefined;
  return {
    name: decodeSegment(segments[0]),
    version: versioned ? decodeSegment(segments[2]) : undefined,
    action,
  };
}

/** A path segment's percent-encoding undone (most have none). */
function decodeSegment(segment: string): string {
  return segment.includes("%") ? decodeURIComponent(segment) : segment;
}
const REPOSITORY_ROUTE = /^\/v2\/repository\/models\/([^/]+)\/(load|unload|routing)$/;

export class HttpFrontEnd {
  private server: Server | undefined;
  private inflight = 0;
  private closing = false;
  /** each feature's declared type (serve.yaml features.fields), read once */
  private readonly featureKinds: ReadonlyMap<string, FeatureKind>;

  constructor(private readonly options: HttpOptions) {
    this.featureKinds = new Map(options.config.features.fields.map((f) => [f.name, f.type]));
  }

  private ready(): boolean {
    return serverReady(this.options.repository, this.closing);
  }

  /** Not async itself: a request answered at once (probes, metadata) costs no promise. */
  private route(req: IncomingMessage, res: ServerResponse): void | Promise<void> {
    const { router, config } = this.options;
    // the path alone (no query is read); cheaper than a URL object per request
    const raw = req.url ?? "/";
    const query = raw.indexOf("?");
    let path = query < 0 ? raw : raw.slice(0, query);
    if (path.endsWith("/")) path = path.replace(/\/+$/, "") || "/";
    if (path === "/v2/health/live") return sendJson(res, 200, { live: true });
    // readiness; GET /ping is Amazon SageMaker's name for it (its hosting contract starts the image
    // as `serve`, and POST /invocations below is its infer request)
    if (path === "/v2/health/ready" || path === "/ping")
      return this.ready() ? sendJson(res, 200, { ready: true }) : sendJson(res, 503, { ready: false });
    if (path === "/v2") return sendJson(res, 200, serverMetadata());
    if (path === "/metrics") return this.metrics(res);
    if (path.startsWith("/v2/repository/") && req.method === "POST") {
      if (path === "/v2/repository/index") return this.index(req, res);
      const repo = REPOSITORY_ROUTE.exec(path);
      if (repo) return this.admin(req, res, decodeURIComponent(repo[1]), repo[2]);
    }
    if (
      this.options.token &&
      (path === "/v1/predictions" || path === "/invocations" || path.startsWith("/v2/models/"))
    )
      this.authorize(req, this.options.token, "inference");
    if (path === "/v1/predictions" && req.method === "POST") return this.predictions(req, res);
    // SageMaker's POST /invocations: an Open Inference Protocol infer request for the first model served
    if (path === "/invocations") {
      if (req.method !== "POST") throw new HttpError(405, "invocations take POST");
      const first = config.models[0]?.name ?? this.options.repository.names()[0];
      if (first === undefined) throw new HttpError(404, "no model is served");
      return this.infer(req, res, first, undefined);
    }
    const m = modelPath(path);
    if (!m) throw new HttpError(404, `no route for ${req.method} ${path}`);
    const { name, version, action } = m;
    if (action === "infer") {
      if (req.method !== "POST") throw new HttpError(405, "infer takes POST");
      return this.infer(req, res, name, version);
    }
    if (action === "shadow") return sendJson(res, 200, router.shadowOf(name));
    const { state, loaded } = router.pick(name, version);
    if (action === "ready") return sendJson(res, 200, { name, ready: true, version: loaded.version });
    if (action === "drift") {
      const drift = config.drift;
      const scores = loaded.drift?.scores() ?? {};
      return sendJson(res, 200, {
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
    return sendJson(res, 200, modelMetadata(loaded, state));
  }

  private async metrics(res: ServerResponse): Promise<void> {
    const { contentType, body } = await this.options.observability.scrape(this.options.repository.entries());
    res.writeHead(200, { "content-type": contentType });
    res.end(body);
  }

  /** A JSON body where the request has one, else an empty object (the repository API's bodies are optional). */
  private async optionalBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    return Number(req.headers["content-length"] ?? 0) > 0
      ? readJsonBody(req, this.options.config.maxBodyBytes)
      : {};
  }

  /** POST /v2/repository/index: every model version on disk and loaded, with its state (admin token). */
  private async index(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.authorize(req, this.options.adminToken, "the repository API");
    const body = await this.optionalBody(req);
    const ready = (body as { ready?: unknown }).ready;
    if (ready !== undefined && typeof ready !== "boolean") throw new BadRequest("ready must be a boolean");
    sendJson(res, 200, this.options.repository.index(ready === true));
  }

  /** The repository and routing API (POST /v2/repository/models/{name}/load|unload|routing). */
  private async admin(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    action: string,
  ): Promise<void> {
    const { repository } = this.options;
    this.authorize(req, this.options.adminToken, "the repository API");
    checkModelName(name);
    const body = await this.optionalBody(req);
    if (action === "unload") {
      await repository.unloadModel(name);
      return sendJson(res, 200, { name, unloaded: true });
    }
    if (action === "routing") {
      const weight = Number((body as { canaryWeight?: unknown }).canaryWeight);
      if (!Number.isFinite(weight) || weight < 0 || weight > 100)
        throw new BadRequest("canaryWeight must be a number between 0 and 100");
      const state = repository.get(name);
      if (!state) throw new HttpError(404, `model ${name} is not loaded`);
      state.canaryWeight = weight;
      return sendJson(res, 200, { name, canaryWeight: weight });
    }
    sendJson(res, 200, { name, loaded: await repository.loadFromRepository(name) });
  }

  private async infer(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    version: string | undefined,
  ): Promise<void> {
    const started = performance.now();
    const headerLength = req.headers[HEADER_LENGTH];
    // Triton's binary tensor extension: a JSON header, then the inputs' raw bytes
    const body =
      typeof headerLength === "string"
        ? decodeBinaryRequest(await readBody(req, this.options.config.maxBodyBytes), headerLength)
        : await readJsonBody(req, this.options.config.maxBodyBytes);
    // the protocol's id is a string (Triton refuses another type the same way)
    if (body.id !== undefined && typeof body.id !== "string")
      throw new BadRequest(`id must be a string, got ${JSON.stringify(body.id)}`);
    await measured(this.options, name, version ?? "", started, async (answeredBy) => {
      const { loaded, outputs } = await this.options.router.infer(
        name,
        version,
        body.inputs,
        req.headers["x-stackwright-key"] as string | undefined,
      );
      answeredBy(loaded.version);
      const names = outputNames(outputs, body.outputs);
      const binary = binaryOutputs(body, names);
      const head: Record<string, unknown> = { model_name: name, model_version: loaded.version };
      if (body.id !== undefined) head.id = body.id;
      if (binary.size === 0) {
        head.outputs = encodeOutputs(outputs, body.outputs);
        return sendJson(res, 200, head);
      }
      const { body: bytes, headerLength: length } = encodeBinaryResponse(head, outputs, names, binary);
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": String(bytes.length),
        [HEADER_LENGTH]: String(length),
      });
      res.end(bytes);
    });
  }

  private async predictions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { repository, router, config } = this.options;
    const started = performance.now();
    const body = await readJsonBody(req, config.maxBodyBytes);
    const modelId = body.model_id;
    if (typeof modelId !== "string" || !modelId) throw new BadRequest("model_id (string) is required");
    const state = repository.get(modelId);
    if (!state) throw new HttpError(404, `unknown model ${JSON.stringify(modelId)}`);
    await measured(this.options, modelId, state.primary?.version ?? "", started, async (answeredBy) => {
      const primary = state.primary;
      if (!primary) throw new HttpError(503, `model ${modelId} has no servable version`);
      const { inputs, sticky } = await featureRequest(primary, body, {
        config,
        kinds: this.featureKinds,
        store: this.options.features,
      });
      const result = await router.infer(modelId, undefined, inputs, sticky);
      answeredBy(result.loaded.version);
      const [{ prediction, probability }] = predictionsOf(result.outputs);
      sendJson(res, 200, {
        prediction,
        probability,
        model_version: result.loaded.version,
        latency_ms: Math.round((performance.now() - started) * 100) / 100,
        ...(result.via !== "primary" ? { served_by: result.via } : {}),
      });
    });
  }

  async listen(): Promise<{ url: string; port: number }> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    const { socketPath } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      if (socketPath) this.server!.listen(socketPath, () => resolve());
      else this.server!.listen(this.options.port ?? 8080, this.options.host ?? "127.0.0.1", () => resolve());
    });
    if (socketPath) return { url: `unix:${socketPath}`, port: 0 };
    const { port } = this.server.address() as AddressInfo;
    return { url: `http://${this.options.host ?? "127.0.0.1"}:${port}`, port };
  }

  /** One request: answered by its route, or by its error's answer (errorResponse). */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.closing) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1", connection: "close" });
      res.end(JSON.stringify({ error: "shutting down" }));
      return;
    }
    this.inflight++;
    let pending: void | Promise<void> | null = null;
    try {
      pending = this.route(req, res);
    } catch (error) {
      this.failed(res, error);
    }
    // a route that answered at once costs no promise; one that waits settles here
    if (pending)
      pending.then(this.settled, (error: unknown) => {
        this.failed(res, error);
        this.inflight--;
      });
    else this.inflight--;
  }

  private readonly settled = (): void => {
    this.inflight--;
  };

  /** Answers with the error's status and message (once: a route may have answered already). */
  private failed(res: ServerResponse, error: unknown): void {
    const { status, headers, unexpected } = errorResponse(error);
    if (unexpected) this.options.log(`internal error: ${(error as Error).stack ?? String(error)}`);
    if (!res.headersSent) {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify({ error: (error as Error).message ?? String(error) }));
    }
  }

  /** Refuses a request without the bearer token; a surface with no token configured is disabled. */
  private authorize(req: IncomingMessage, token: string | undefined, what: string): void {
    checkBearer(req.headers.authorization, token, what);
  }

  /** Stops accepting, then waits (at most `timeoutMs`) for in-flight requests to finish. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.server?.closeAllConnections();
    await closed;
  }
}
