/**
 * The model repository in memory: which versions of which models are loaded, each on the executor
 * its placement chose, warmed before it takes traffic; loads, reloads (a version whose files did not
 * change keeps serving), unloads, and the --watch sync with the directory on disk.
 */
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { join, sep } from "node:path";
import { Batcher } from "./batcher.js";
import { CircuitBreaker } from "./breaker.js";
import type { ServeConfig } from "./config.js";
import { DriftMonitor } from "./drift.js";
import { HttpError } from "./errors.js";
import { type Executor, openExecutor, type PlacementDecision, zeroFeeds } from "./execution.js";
import type { Observability } from "./observability.js";
import type { TensorMeta } from "./ort-session.js";
import { WorkerPool } from "./pool.js";
import { fingerprintOf, scanModel, type VersionSource } from "./registry.js";
import { type Routes, setVersions } from "./router.js";
import { BadRequest } from "./tensors.js";

export interface LoadedVersion {
  name: string;
  version: string;
  source: VersionSource;
  inputs: TensorMeta[];
  /** inputs by name, for validating requests without building a map each time */
  inputsByName: Map<string, TensorMeta>;
  outputs: TensorMeta[];
  batcher: Batcher;
  executor: Executor;
  placement: PlacementDecision;
  provider: string;
  /** see fingerprintOf: a reload keeps a version whose files did not change */
  fingerprint: string;
  drift?: DriftMonitor;
}

/** One model version in the repository index. */
export interface IndexEntry {
  name: string;
  version: string;
  state: "READY" | "UNAVAILABLE";
  reason: string;
}

export interface ModelState extends Routes<LoadedVersion> {
  breaker: CircuitBreaker;
}

/** Model names a URL may carry: DNS-1123-like, so a name can never be a path. */
export const MODEL_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

export function checkModelName(name: string): void {
  if (!MODEL_NAME.test(name))
    throw new BadRequest(
      `model name ${JSON.stringify(name)} is not allowed: letters, digits, '.', '_' and '-', starting and ending with a letter or digit, at most 63`,
    );
}

export interface RepositoryOptions {
  config: ServeConfig;
  /** registry root for load requests and --watch (models/<name>/<version>) */
  modelsDir?: string;
  observability: Observability;
  log: (line: string) => void;
  /** a version stopped serving (its cached answers must go) */
  onRetire: (name: string, version: string) => void;
}

export class ModelRepository {
  private readonly models = new Map<string, ModelState>();
  private pool: WorkerPool | undefined;
  private nextKey = 1;

  constructor(private readonly options: RepositoryOptions) {}

  get(name: string): ModelState | undefined {
    return this.models.get(name);
  }

  has(name: string): boolean {
    return this.models.has(name);
  }

  get size(): number {
    return this.models.size;
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  entries(): IterableIterator<[string, ModelState]> {
    return this.models.entries();
  }

  /**
   * The repository index (the protocol's model_repository extension, answered as Triton does): every
   * version on disk under modelsDir and every loaded one, READY when loaded, else UNAVAILABLE with
   * the reason; `readyOnly` keeps the READY ones.
   */
  index(readyOnly: boolean): IndexEntry[] {
    const entries = new Map<string, IndexEntry>();
    const root = this.options.modelsDir;
    if (root) {
      for (const dir of readdirSync(root, { withFileTypes: true })) {
        if (!dir.isDirectory() || !MODEL_NAME.test(dir.name)) continue;
        let sources: VersionSource[];
        try {
          sources = scanModel(root, dir.name);
        } catch (error) {
          entries.set(`${dir.name}/`, {
            name: dir.name,
            version: "",
            state: "UNAVAILABLE",
            reason: `unreadable: ${(error as Error).message}`,
          });
          continue;
        }
        for (const s of sources)
          entries.set(`${s.name}/${s.version}`, {
            name: s.name,
            version: s.version,
            state: "UNAVAILABLE",
            reason: "not loaded",
          });
      }
    }
    for (const [name, state] of this.models)
      for (const version of state.versions.keys())
        entries.set(`${name}/${version}`, { name, version, state: "READY", reason: "" });
    return [...entries.values()]
      .filter((e) => !readyOnly || e.state === "READY")
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1));
  }

  /** Worker threads started (only when some version's placement is the workers). */
  get workerThreads(): number {
    return this.pool?.size ?? 0;
  }

  /** A batch running far longer than any should (a stuck session) makes the server unready. */
  stalled(): boolean {
    for (const state of this.models.values())
      for (const v of state.versions.values()) if (v.batcher.stalled()) return true;
    return false;
  }

  private workers = (): WorkerPool => {
    this.pool ??= new WorkerPool(this.options.config.workers);
    return this.pool;
  };

  /** Opens a version where its placement says (trying providers in order), warms it, then lets it take traffic. */
  async loadVersion(source: VersionSource): Promise<LoadedVersion> {
    const { config, observability, log } = this.options;
    const fingerprint = fingerprintOf(source);
    const bytes = readFileSync(source.modelPath);
    const key = `${source.name}@${source.version}#${this.nextKey++}`;
    let opened: Awaited<ReturnType<typeof openExecutor>>;
    try {
      opened = await openExecutor({
        key,
        bytes,
        device: config.device,
        mode: config.placement,
        batchRows: config.batching.enabled ? config.batching.maxBatchSize : 1,
        pool: this.workers,
        onSkip: (provider, reason) =>
          log(`${source.name} v${source.version}: skipped ${provider} (${reason})`),
      });
    } catch (error) {
      throw new Error(`cannot load ${source.modelPath}: ${(error as Error).message}`);
    }
    const { executor, inputs, outputs, provider, decision } = opened;
    const batcher = new Batcher(executor, {
      ...config.batching,
      gather: executor.placement === "event-loop" ? "turn" : "delay",
    });
    batcher.onBatch = (rows) => observability.batch(source.name, source.version, rows);
    const loaded: LoadedVersion = {
      name: source.name,
      version: source.version,
      source,
      inputs,
      inputsByName: new Map(inputs.map((i) => [i.name, i])),
      outputs,
      batcher,
      executor,
      placement: decision,
      provider,
      fingerprint,
    };
    if (source.meta.reference && config.drift.enabled)
      loaded.drift = new DriftMonitor(source.meta.reference, config.drift.window);
    try {
      // warm-up: one row of zeros through the session before any request reaches it
      await executor.run(zeroFeeds(inputs, 1));
    } catch (error) {
      await executor.close().catch(() => {});
      throw new Error(`cannot load ${source.modelPath}: warm-up failed: ${(error as Error).message}`);
    }
    observability.versionLoaded(source, provider);
    log(
      `${source.name} v${source.version}: ready on ${provider}, ${decision.placement === "event-loop" ? "on the event loop" : "in worker threads"} (${decision.reason}; ${inputs.map((i) => `${i.name}${JSON.stringify(i.shape)}`).join(", ")})${source.meta.stage === "sample" ? "; a SAMPLE model (stage: sample): generated weights, not trained; publish a trained version to replace it" : ""}`,
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
      breaker: this.newBreaker(name),
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
      this.options.onRetire(name, version);
      if (!fresh.has(version)) retired.push(version);
      void this.retire(loaded);
    }
    return { loaded: loadedNow.map((l) => l.version), kept, retired };
  }

  /**
   * POST /v2/repository/models/{name}/load: every version of `name` in the model repository. The
   * name is checked and its directory must resolve inside the repository, symbolic links included.
   */
  async loadFromRepository(name: string): Promise<string[]> {
    checkModelName(name);
    const root = this.options.modelsDir;
    if (!root) throw new HttpError(400, "load needs a model repository (start with --models DIR)");
    confine(root, name);
    let sources: VersionSource[];
    try {
      sources = scanModel(root, name);
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
    return sources.map((s) => s.version);
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

  async unloadModel(name: string): Promise<void> {
    const state = this.models.get(name);
    if (!state) throw new HttpError(404, `model ${name} is not loaded`);
    this.models.delete(name);
    for (const loaded of state.versions.values()) {
      this.options.onRetire(name, loaded.version);
      await this.retire(loaded);
    }
  }

  private async retire(loaded: LoadedVersion): Promise<void> {
    while (!loaded.batcher.idle()) await new Promise((r) => setTimeout(r, 20));
    await loaded.executor.close().catch(() => {});
  }

  /** A model's breaker, its state on the breaker gauge from the start and at each change. */
  private newBreaker(name: string): CircuitBreaker {
    const b = this.options.config.fallback.breaker;
    return new CircuitBreaker(b.failures, b.windowSeconds * 1000, b.openSeconds * 1000, (state) =>
      this.options.observability.breaker(name, state),
    );
  }

  /** Refuses what is queued, releases every session and stops the workers. */
  async close(): Promise<void> {
    const error = new Error("shutting down");
    for (const state of this.models.values())
      for (const v of state.versions.values()) {
        v.batcher.drain(error);
        await v.executor.close().catch(() => {});
      }
    await this.pool?.close();
  }
}

/** A model directory must resolve inside the repository, symbolic links included. */
function confine(root: string, name: string): void {
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
