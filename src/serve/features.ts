/**
 * Online features by entity key: Redis (a hash per entity, `features:<entity>`) or the embedded store,
 * filled from a JSON-lines file (one entity per line, keyed by the entity key) and reloaded when the
 * file changes. Values come back as the store keeps them; src/serve/feature-codec.ts reads them by type.
 */
import { type FSWatcher, readFileSync, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { ServeConfig } from "./config.js";

export interface FeatureStore {
  readonly kind: "memory" | "redis";
  get(entity: string): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

export class FeatureFileError extends Error {
  override readonly name = "FeatureFileError";
}

/** Parses a feature file: every line an object with the entity key; a bad line is an error naming it. */
export function parseFeatureFile(
  text: string,
  entityKey: string,
  source: string,
): Map<string, Record<string, unknown>> {
  const rows = new Map<string, Record<string, unknown>>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new FeatureFileError(`${source}:${i + 1}: not JSON (${(error as Error).message})`);
    }
    if (!value || typeof value !== "object" || Array.isArray(value))
      throw new FeatureFileError(`${source}:${i + 1}: expected an object with ${entityKey} and the features`);
    const { [entityKey]: entity, ...features } = value as Record<string, unknown>;
    if (typeof entity !== "string" && typeof entity !== "number")
      throw new FeatureFileError(
        `${source}:${i + 1}: ${entityKey} (the entity key) is missing or not a string`,
      );
    rows.set(String(entity), features);
  });
  return rows;
}

export class MemoryFeatureStore implements FeatureStore {
  readonly kind = "memory";
  private rows = new Map<string, Record<string, unknown>>();
  private watcher: FSWatcher | undefined;

  /** The store filled from a file, reloaded (whole, atomically) when it changes; a bad reload keeps the old rows. */
  static fromFile(
    path: string,
    entityKey: string,
    log: (line: string) => void = () => {},
  ): MemoryFeatureStore {
    const store = new MemoryFeatureStore();
    const load = () => parseFeatureFile(readFileSync(path, "utf8"), entityKey, path);
    store.rows = load();
    let timer: NodeJS.Timeout | undefined;
    // watch the directory: editors and `mv` replace the file, which ends a watch on the file itself
    store.watcher = watch(dirname(path), (_event, name) => {
      if (name && name.toString() !== basename(path)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          store.rows = load();
          log(`features: reloaded ${store.rows.size} entities from ${path}`);
        } catch (error) {
          log(
            `features: ${path} not reloaded, the previous ${store.rows.size} entities stay: ${(error as Error).message}`,
          );
        }
      }, 100);
    });
    store.watcher.unref();
    return store;
  }

  get size(): number {
    return this.rows.size;
  }

  async get(entity: string) {
    return this.rows.get(entity);
  }

  async close() {
    this.watcher?.close();
  }
}

export class RedisFeatureStore implements FeatureStore {
  readonly kind = "redis";
  private constructor(
    private readonly client: {
      hGetAll(k: string): Promise<Record<string, string>>;
      quit(): Promise<unknown>;
    },
  ) {}

  /** redis:// or rediss:// (TLS), with the password in the URL (rediss://:password@host:6380). */
  static async connect(url: string): Promise<RedisFeatureStore> {
    const { createClient } = await import("redis");
    const client = createClient({
      url,
      socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => Math.min(retries * 100, 2000) },
    });
    client.on("error", () => {});
    await client.connect();
    return new RedisFeatureStore(client as never);
  }

  async get(entity: string) {
    const raw = await this.client.hGetAll(`features:${entity}`);
    if (!raw || Object.keys(raw).length === 0) return undefined;
    return raw;
  }

  async close() {
    await this.client.quit();
  }
}

/**
 * The store a serve.yaml asks for: Redis at the URL in `--redis`, in the variable `urlEnv` names, or
 * in `url`; else the embedded store, from `file` (relative to the config) when given.
 */
export async function openFeatureStore(
  config: ServeConfig,
  configDir: string,
  options: { redisUrl?: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<FeatureStore> {
  const { features } = config;
  const fromEnv = features.urlEnv ? (options.env ?? process.env)[features.urlEnv] : undefined;
  const url = options.redisUrl || fromEnv || (features.store === "redis" ? features.url : undefined);
  if (url) return RedisFeatureStore.connect(url);
  if (features.store === "redis")
    throw new FeatureFileError(
      `features.store is redis but no URL is set (features.url${features.urlEnv ? `, $${features.urlEnv}` : ""} or --redis)`,
    );
  if (features.store === "memory" && features.file)
    return MemoryFeatureStore.fromFile(resolve(configDir, features.file), features.entityKey, options.log);
  return new MemoryFeatureStore();
}
