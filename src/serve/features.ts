/** Online features by entity key: Redis (a hash per entity) or the embedded in-memory store. */
export interface FeatureStore {
  readonly kind: "memory" | "redis";
  get(entity: string): Promise<Record<string, number> | undefined>;
  set(entity: string, values: Record<string, number>): Promise<void>;
  close(): Promise<void>;
}

export class MemoryFeatureStore implements FeatureStore {
  readonly kind = "memory";
  private readonly rows = new Map<string, Record<string, number>>();
  async get(entity: string) {
    return this.rows.get(entity);
  }
  async set(entity: string, values: Record<string, number>) {
    this.rows.set(entity, { ...(this.rows.get(entity) ?? {}), ...values });
  }
  async close() {}
}

export class RedisFeatureStore implements FeatureStore {
  readonly kind = "redis";
  private constructor(
    private readonly client: {
      hGetAll(k: string): Promise<Record<string, string>>;
      hSet(k: string, v: Record<string, string>): Promise<number>;
      quit(): Promise<unknown>;
    },
  ) {}

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
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async set(entity: string, values: Record<string, number>) {
    await this.client.hSet(
      `features:${entity}`,
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])),
    );
  }

  async close() {
    await this.client.quit();
  }
}
