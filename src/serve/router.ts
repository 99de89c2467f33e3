/**
 * Routing among a model's versions: the production primary takes traffic, a staging version takes
 * its canary weight (sticky per request key, so one caller keeps seeing one version), and versions
 * marked `shadow` receive copies whose answers are only compared. Roles are derived when the set of
 * versions changes, never per request. The Router adds what wraps a routed request: the exact-match
 * cache, the primary's circuit breaker and the fallback chain.
 */
import { createHash } from "node:crypto";
import { QueueFullError, type RowSlice } from "./batcher.js";
import { LruCache } from "./cache.js";
import type { ModelMeta, ServeConfig } from "./config.js";
import { HttpError } from "./errors.js";
import type { Observability } from "./observability.js";
import { decodeInputs, execute } from "./pipeline.js";
import type { LoadedVersion, ModelRepository, ModelState } from "./repository.js";
import { ShadowMirror, type ShadowStats } from "./shadow.js";
import { BadRequest } from "./tensors.js";

export interface Routable {
  source: { meta: Pick<ModelMeta, "stage" | "canaryWeight" | "shadow"> };
}

export interface Routes<V extends Routable> {
  versions: Map<string, V>;
  /** set at run time (POST /v2/repository/models/{name}/routing); wins over model.yaml and config */
  canaryWeight?: number;
  /** the newest production version, else the newest that is not archived */
  primary?: V;
  /** the newest staging version: the canary */
  staging?: V;
  shadows: V[];
}

/** Replaces a model's versions and derives the routing roles once. */
export function setVersions<V extends Routable>(routes: Routes<V>, versions: Map<string, V>): void {
  const list = [...versions.values()];
  routes.versions = versions;
  routes.primary = primaryOf(list);
  routes.staging = list.filter((v) => v.source.meta.stage === "staging").at(-1);
  routes.shadows = list.filter((v) => v.source.meta.shadow);
}

/**
 * The version that answers by default, for serve, score and consume alike: the newest production
 * version, else the newest sample (a generated stand-in until a trained version is published), else
 * the newest that is not archived.
 */
export function primaryVersion<S extends { meta: Pick<ModelMeta, "stage"> }>(
  list: readonly S[],
): S | undefined {
  return (
    list.filter((s) => s.meta.stage === "production").at(-1) ??
    list.filter((s) => s.meta.stage === "sample").at(-1) ??
    list.filter((s) => s.meta.stage !== "archived").at(-1)
  );
}

/** primaryVersion over loaded versions (each holding its source). */
export function primaryOf<V extends Routable>(list: readonly V[]): V | undefined {
  const source = primaryVersion(list.map((v) => v.source));
  return list.find((v) => v.source === source);
}

/** A stable bucket 0..99 for a request key. */
export function stickyBucket(key: string): number {
  return createHash("sha1").update(key).digest().readUInt16BE(0) % 100;
}

/** The canary weight in effect: run-time override, then the version's model.yaml, then the config default. */
export function canaryWeightOf<V extends Routable>(routes: Routes<V>, configured: number): number {
  return routes.canaryWeight ?? routes.staging?.source.meta.canaryWeight ?? configured;
}

/**
 * The version a request that names none goes to: the canary for `weight`% of buckets (by the sticky
 * key when there is one, at random otherwise), the primary for the rest; undefined when nothing is
 * servable.
 */
export function chooseVersion<V extends Routable>(
  routes: Routes<V>,
  configuredCanaryWeight: number,
  stickyKey: string | undefined,
): V | undefined {
  const { primary, staging } = routes;
  if (!primary || !staging || staging === primary) return primary;
  const weight = canaryWeightOf(routes, configuredCanaryWeight);
  if (weight <= 0) return primary;
  const bucket = stickyKey !== undefined ? stickyBucket(stickyKey) : Math.floor(Math.random() * 100);
  return bucket < weight ? staging : primary;
}

export interface Routed {
  loaded: LoadedVersion;
  outputs: Record<string, RowSlice>;
  /** primary, cache, previous-version:<v>, fallback-model:<name> or default-response */
  via: string;
}

export class Router {
  private readonly cache: LruCache<Record<string, RowSlice>>;
  private readonly shadow: ShadowMirror;

  constructor(
    private readonly repository: ModelRepository,
    private readonly config: ServeConfig,
    private readonly observability: Observability,
    private readonly log: (line: string) => void,
  ) {
    this.cache = new LruCache(config.cache.enabled ? config.cache.maxEntries : 0);
    this.shadow = new ShadowMirror(observability.metrics, 64, log);
  }

  /** A version stopped serving: its cached answers go with it. */
  retired(name: string, version: string): void {
    this.cache.invalidate(`${name}@${version}#`);
  }

  /** The version a request reaches: the one it names, else the routed one (canary split by sticky key). */
  pick(
    name: string,
    version: string | undefined,
    stickyKey?: string,
  ): { state: ModelState; loaded: LoadedVersion } {
    const state = this.repository.get(name);
    if (!state)
      throw new HttpError(
        404,
        `unknown model ${JSON.stringify(name)}; loaded: ${this.repository.names().join(", ") || "none"}`,
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
    const loaded = chooseVersion(state, this.config.routing.canaryWeight, stickyKey);
    if (!loaded) throw new HttpError(503, `model ${name} has no servable version`);
    return { state, loaded };
  }

  /** The shadow comparison of a model (GET /v2/models/{name}/shadow). */
  shadowOf(name: string): { name: string; primary?: string; shadow: ShadowStats } {
    const { state } = this.pick(name, undefined);
    const shadowVersion = state.shadows.find((v) => v !== state.primary);
    if (!shadowVersion)
      throw new HttpError(404, `model ${name} has no shadow version (model.yaml shadow: true)`);
    return {
      name,
      primary: state.primary?.version,
      shadow: this.shadow.statsOf(name, shadowVersion.version),
    };
  }

  /**
   * Runs OIP inputs on the routed version with cache, breaker, fallback and a deadline; a request
   * that names a version gets that version or its error, never a fallback.
   */
  async infer(
    name: string,
    version: string | undefined,
    inputs: unknown,
    stickyKey?: string,
  ): Promise<Routed> {
    const { state, loaded } = this.pick(name, version, stickyKey);
    const decoded = decodeInputs(loaded, inputs);
    this.observability.observeDrift(loaded, decoded.feeds);
    const cacheKey = this.config.cache.enabled
      ? `${name}@${loaded.version}#${createHash("sha1").update(JSON.stringify(inputs)).digest("hex")}`
      : "";
    if (cacheKey) {
      const hit = this.cache.get(cacheKey);
      if (hit) {
        this.observability.metrics.cacheHits.inc({ model: name });
        return { loaded, outputs: hit, via: "cache" };
      }
      this.observability.metrics.cacheMisses.inc({ model: name });
    }
    const timeoutMs = this.config.fallback.timeoutMs;
    const explicit = version !== undefined;
    if (explicit || state.breaker.allow()) {
      try {
        const outputs = await execute(loaded, decoded, timeoutMs);
        if (!explicit) state.breaker.success();
        if (cacheKey) this.cache.set(cacheKey, outputs);
        // the shadow is asked only after the primary answered, through its own bounded queue, with
        // inputs decoded for its own shape: nothing it does reaches this answer
        const shadow = explicit ? undefined : state.shadows.find((v) => v !== loaded);
        if (shadow)
          this.shadow.mirror(name, shadow.version, outputs, () =>
            execute(shadow, decodeInputs(shadow, inputs), timeoutMs),
          );
        return { loaded, outputs, via: "primary" };
      } catch (error) {
        if (error instanceof QueueFullError || explicit) throw error;
        state.breaker.failure();
        this.log(`${name} v${loaded.version}: ${(error as Error).message}; trying the fallback chain`);
      }
    }
    return this.fallback(name, loaded, decoded.rows, inputs);
  }

  /** The fallback chain of model.yaml, in order: previous version, fallback model, default answer. */
  private async fallback(
    name: string,
    loaded: LoadedVersion,
    rows: number,
    inputs: unknown,
  ): Promise<Routed> {
    const chain = loaded.source.meta.fallback;
    const timeoutMs = this.config.fallback.timeoutMs;
    const fallbacks = this.observability.metrics.fallbacks;
    if (chain?.previousVersion) {
      // the version that was primary before this one: the primary among the versions loaded before it
      const list = [...(this.repository.get(name)?.versions.values() ?? [])];
      const previous = primaryOf(
        list.slice(0, list.indexOf(loaded)).filter((v) => v.source.meta.stage !== "staging"),
      );
      if (previous) {
        try {
          const outputs = await execute(previous, decodeInputs(previous, inputs), timeoutMs);
          fallbacks.inc({ model: name, via: "previous-version" });
          return { loaded: previous, outputs, via: `previous-version:${previous.version}` };
        } catch (error) {
          this.log(`${name} v${previous.version} (previous version): ${(error as Error).message}`);
        }
      }
    }
    if (chain?.model && chain.model !== name) {
      try {
        const result = await this.infer(chain.model, undefined, inputs);
        fallbacks.inc({ model: name, via: "fallback-model" });
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
        outputs[outputName] = {
          type: "float32",
          dims: [rows, values.length],
          buffer: data.buffer,
          offset: 0,
        };
      }
      fallbacks.inc({ model: name, via: "default-response" });
      return { loaded, outputs, via: "default-response" };
    }
    throw new HttpError(503, `model ${name} is failing and has no fallback configured`, {
      "retry-after": "1",
    });
  }
}
