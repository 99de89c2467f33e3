/**
 * The serving core, put together: the model repository (load, watch, versions, placement), the
 * router (canary, shadow, sticky keys, cache, breaker, fallback), the request pipeline, observability
 * and the HTTP front end over them. A second front end (gRPC) sits beside HttpFrontEnd on the same parts.
 */
import type { ServeConfig } from "./config.js";
import type { FeatureStore } from "./features.js";
import type { GrpcFrontEnd } from "./grpc.js";
import { HttpFrontEnd } from "./http.js";
import { Observability } from "./observability.js";
import type { VersionSource } from "./registry.js";
import { ModelRepository } from "./repository.js";
import { Router } from "./router.js";

export interface ServeOptions {
  config: ServeConfig;
  sources: VersionSource[];
  /** registry root for load requests (models/<name>/<version>) */
  modelsDir?: string;
  host?: string;
  port?: number;
  /** listen on this Unix socket instead of host and port */
  socketPath?: string;
  /** serve inference.GRPCInferenceService on this port too (0: any free port) */
  grpcPort?: number;
  features?: FeatureStore;
  log?: (line: string) => void;
  /** bearer token for the repository and routing API; without one that API is disabled */
  adminToken?: string;
  /** bearer token inference must carry (health, readiness and metrics stay open for probes) */
  token?: string;
}

export class ServingCore {
  readonly observability = new Observability();
  readonly repository: ModelRepository;
  readonly router: Router;
  private readonly http: HttpFrontEnd;
  private grpc: GrpcFrontEnd | undefined;

  constructor(private readonly options: ServeOptions) {
    const log = (line: string) => options.log?.(line);
    this.repository = new ModelRepository({
      config: options.config,
      modelsDir: options.modelsDir,
      observability: this.observability,
      log,
      onRetire: (name, version) => this.router.retired(name, version),
    });
    this.router = new Router(this.repository, options.config, this.observability, log);
    this.http = new HttpFrontEnd({
      ...options,
      log,
      repository: this.repository,
      router: this.router,
      observability: this.observability,
    });
  }

  get metrics() {
    return this.observability.metrics;
  }

  /** Loads every model of `sources`, by name. */
  async loadAll(sources: VersionSource[]): Promise<void> {
    const byName = new Map<string, VersionSource[]>();
    for (const source of sources) byName.set(source.name, [...(byName.get(source.name) ?? []), source]);
    for (const [name, list] of byName) await this.repository.loadModel(name, list);
  }

  /** The --watch path: see ModelRepository.syncModel. */
  syncModel(name: string): Promise<string> {
    return this.repository.syncModel(name);
  }

  /**
   * Both front ends listening: gRPC first when grpcPort is set, then HTTP, whose readiness probe
   * must not answer before every front end takes requests.
   */
  async listen(): Promise<{ url: string; port: number; grpcPort?: number }> {
    const { grpcPort } = this.options;
    if (grpcPort === undefined) return this.http.listen();
    // @grpc/grpc-js is loaded only by a server that serves gRPC (about 50 ms of start-up otherwise)
    const { GrpcFrontEnd } = await import("./grpc.js");
    this.grpc = new GrpcFrontEnd({
      ...this.options,
      port: grpcPort,
      log: (line) => this.options.log?.(line),
      repository: this.repository,
      router: this.router,
      observability: this.observability,
    });
    const { port } = await this.grpc.listen();
    return { ...(await this.http.listen()), grpcPort: port };
  }

  /** Graceful: stop accepting, drain in-flight requests, then release the sessions and workers. */
  async close(timeoutMs = 10_000): Promise<void> {
    await Promise.all([this.http.close(timeoutMs), this.grpc?.close(timeoutMs)]);
    await this.repository.close();
    await this.options.features?.close();
  }
}

export async function startServing(
  options: ServeOptions,
): Promise<{ core: ServingCore; url: string; port: number; grpcPort?: number }> {
  const core = new ServingCore(options);
  try {
    await core.loadAll(options.sources);
    return { core, ...(await core.listen()) };
  } catch (error) {
    // worker threads would keep a failed start alive: stop them, then report
    await core.close();
    throw error;
  }
}
