/**
 * Streaming inference (`stackwright consume`): events `{"id", "features"}` from Redis Streams, NATS
 * JetStream or Kafka, scored in micro-batches through the same batcher as `serve`, results
 * `{"id", "prediction", "probability", "model_version"}` to a sink, bad records to a dead-letter
 * destination with the reason. At-least-once: a batch is acknowledged only after the sink (and the
 * dead-letter destination) have its records; in-flight work is one micro-batch per consumer.
 */

export interface StreamMessage {
  /** the event's JSON text */
  data: string;
}

export interface StreamSource {
  /** the next micro-batch (waits up to `waitMs`); empty when nothing arrived */
  fetch(max: number, waitMs: number): Promise<StreamMessage[]>;
  /** acknowledges everything returned by the last fetch */
  ack(): Promise<void>;
  lag(): Promise<number>;
  /** graceful; `force` drops what is queued (the broker is gone and would never answer) */
  close(force?: boolean): Promise<void>;
}

export interface StreamSink {
  send(records: string[]): Promise<void>;
  /** graceful; `force` drops what is queued (the broker is gone and would never answer) */
  close(force?: boolean): Promise<void>;
}

export interface StreamUrl {
  scheme: "redis" | "nats" | "kafka";
  host: string;
  port: number;
  /** stream key, subject or topic */
  name: string;
}

export function parseStreamUrl(text: string): StreamUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(
      `${text}: not a URL; expected redis://host:port/stream, nats://host:port/subject or kafka://broker:port/topic`,
    );
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "redis" && scheme !== "nats" && scheme !== "kafka")
    throw new Error(`${text}: unsupported scheme ${scheme}; allowed: redis, nats, kafka`);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!name) throw new Error(`${text}: the path names the stream, subject or topic`);
  const defaults = { redis: 6379, nats: 4222, kafka: 9092 };
  return { scheme, host: url.hostname || "127.0.0.1", port: Number(url.port || defaults[scheme]), name };
}

// ---------------------------------------------------------------- Redis Streams

export async function redisSource(url: StreamUrl, group: string): Promise<StreamSource> {
  const { createClient } = await import("redis");
  const client = createClient({ url: `redis://${url.host}:${url.port}` });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.xGroupCreate(url.name, group, "0", { MKSTREAM: true });
  } catch (error) {
    if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
  }
  const consumer = `${group}-${process.pid}`;
  let pending: string[] = [];
  let claimed = false;
  return {
    async fetch(max, waitMs) {
      // after a restart, entries delivered to a dead consumer and never acknowledged are claimed first
      if (!claimed) {
        claimed = true;
        const reclaimed = (await client.xAutoClaim(url.name, group, consumer, 0, "0-0", { COUNT: max })) as {
          messages: Array<{ id: string; message: Record<string, string> } | null>;
        };
        const messages = reclaimed.messages.filter(
          (m): m is { id: string; message: Record<string, string> } => m !== null,
        );
        if (messages.length) {
          pending = messages.map((m) => m.id);
          return messages.map((m) => ({ data: m.message.data ?? "" }));
        }
      }
      const reply = (await client.xReadGroup(
        group,
        consumer,
        { key: url.name, id: ">" },
        { COUNT: max, BLOCK: waitMs },
      )) as Array<{ messages: Array<{ id: string; message: Record<string, string> }> }> | null;
      const messages = reply?.[0]?.messages ?? [];
      pending = messages.map((m) => m.id);
      if (messages.length === 0) claimed = false; // idle: look for abandoned entries again next time
      return messages.map((m) => ({ data: m.message.data ?? "" }));
    },
    async ack() {
      if (pending.length) await client.xAck(url.name, group, pending);
      pending = [];
    },
    async lag() {
      const groups = (await client.xInfoGroups(url.name)) as Array<{
        name: string;
        lag?: number | null;
        pending: number;
      }>;
      const info = groups.find((g) => g.name === group);
      return Number(info?.lag ?? 0) + Number(info?.pending ?? 0);
    },
    async close(force) {
      if (force) client.destroy();
      else await client.quit();
    },
  };
}

export async function redisSink(url: StreamUrl): Promise<StreamSink> {
  const { createClient } = await import("redis");
  const client = createClient({ url: `redis://${url.host}:${url.port}` });
  client.on("error", () => {});
  await client.connect();
  return {
    async send(records) {
      if (records.length === 0) return;
      const multi = client.multi();
      for (const data of records) multi.xAdd(url.name, "*", { data });
      await multi.exec();
    },
    async close(force) {
      if (force) client.destroy();
      else await client.quit();
    },
  };
}

// ---------------------------------------------------------------- NATS JetStream

export async function natsSource(url: StreamUrl, group: string): Promise<StreamSource> {
  const nats = await import("nats");
  const nc = await nats.connect({ servers: `${url.host}:${url.port}` });
  const jsm = await nc.jetstreamManager();
  const stream = streamNameFor(url.name);
  await ensureStream(jsm, stream, url.name);
  const durable = group.replace(/[^A-Za-z0-9_-]/g, "_");
  try {
    await jsm.consumers.info(stream, durable);
  } catch {
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: nats.AckPolicy.Explicit,
      filter_subject: url.name,
      ack_wait: nats.nanos(30_000),
    });
  }
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  let pending: Array<{ ack(): void }> = [];
  return {
    async fetch(max, waitMs) {
      const batch = await consumer.fetch({ max_messages: max, expires: Math.max(1000, waitMs) });
      const out: StreamMessage[] = [];
      pending = [];
      for await (const m of batch) {
        pending.push(m);
        out.push({ data: m.string() });
        if (out.length >= max) break;
      }
      return out;
    },
    async ack() {
      for (const m of pending) m.ack();
      pending = [];
      await nc.flush();
    },
    async lag() {
      const info = await jsm.consumers.info(stream, durable);
      return Number(info.num_pending) + Number(info.num_ack_pending);
    },
    async close(force) {
      if (force) return nc.close();
      await nc.drain();
    },
  };
}

export function streamNameFor(subject: string): string {
  return `SW_${subject.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

async function ensureStream(
  jsm: {
    streams: { info(name: string): Promise<unknown>; add(config: Record<string, unknown>): Promise<unknown> };
  },
  stream: string,
  subject: string,
): Promise<void> {
  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add({ name: stream, subjects: [subject] });
  }
}

export async function natsSink(url: StreamUrl): Promise<StreamSink> {
  const nats = await import("nats");
  const nc = await nats.connect({ servers: `${url.host}:${url.port}` });
  await ensureStream(await nc.jetstreamManager(), streamNameFor(url.name), url.name);
  const js = nc.jetstream();
  return {
    async send(records) {
      await Promise.all(records.map((r) => js.publish(url.name, new TextEncoder().encode(r))));
    },
    async close(force) {
      if (force) return nc.close();
      await nc.drain();
    },
  };
}

// ---------------------------------------------------------------- Kafka (kafkajs; not tested against a broker here)

export async function kafkaSource(url: StreamUrl, group: string): Promise<StreamSource> {
  const { Kafka } = await import("kafkajs");
  const kafka = new Kafka({ clientId: "stackwright", brokers: [`${url.host}:${url.port}`] });
  const consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic: url.name, fromBeginning: true });
  const queue: Array<{ data: string; partition: number; offset: string }> = [];
  let taken: Array<{ partition: number; offset: string }> = [];
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      queue.push({ data: message.value?.toString("utf8") ?? "", partition, offset: message.offset });
      while (queue.length > 10_000) await new Promise((r) => setTimeout(r, 10));
    },
  });
  return {
    async fetch(max, waitMs) {
      const deadline = Date.now() + waitMs;
      while (queue.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const batch = queue.splice(0, max);
      taken = batch.map(({ partition, offset }) => ({ partition, offset }));
      return batch.map(({ data }) => ({ data }));
    },
    async ack() {
      const last = new Map<number, string>();
      for (const t of taken) last.set(t.partition, t.offset);
      if (last.size)
        await consumer.commitOffsets(
          [...last].map(([partition, offset]) => ({
            topic: url.name,
            partition,
            offset: String(BigInt(offset) + 1n),
          })),
        );
      taken = [];
    },
    async lag() {
      return queue.length;
    },
    async close() {
      await consumer.disconnect();
    },
  };
}

export async function kafkaSink(url: StreamUrl): Promise<StreamSink> {
  const { Kafka } = await import("kafkajs");
  const producer = new Kafka({ clientId: "stackwright", brokers: [`${url.host}:${url.port}`] }).producer();
  await producer.connect();
  return {
    async send(records) {
      if (records.length)
        await producer.send({ topic: url.name, messages: records.map((value) => ({ value })) });
    },
    async close() {
      await producer.disconnect();
    },
  };
}

export async function openSource(text: string, group: string): Promise<StreamSource> {
  const url = parseStreamUrl(text);
  return url.scheme === "redis"
    ? redisSource(url, group)
    : url.scheme === "nats"
      ? natsSource(url, group)
      : kafkaSource(url, group);
}

export async function openSink(text: string): Promise<StreamSink> {
  const url = parseStreamUrl(text);
  return url.scheme === "redis" ? redisSink(url) : url.scheme === "nats" ? natsSink(url) : kafkaSink(url);
}

export interface EventRow {
  id: string;
  values: number[];
}

/** Decodes one event; the reason says what is wrong when it cannot be scored. */
export function decodeEvent(
  data: string,
  features: readonly string[],
): { ok: true; event: EventRow } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    return { ok: false, reason: "an event is a JSON object {id, features}" };
  const { id, features: given } = value as { id?: unknown; features?: unknown };
  if ((typeof id !== "string" && typeof id !== "number") || id === "")
    return { ok: false, reason: "missing id" };
  if (!given || typeof given !== "object" || Array.isArray(given))
    return { ok: false, reason: "features must be an object" };
  const values: number[] = [];
  for (const name of features) {
    const v = (given as Record<string, unknown>)[name];
    if (typeof v !== "number" || !Number.isFinite(v))
      return {
        ok: false,
        reason:
          v === undefined
            ? `missing feature ${name}`
            : `feature ${name} is ${JSON.stringify(v)}, not a finite number`,
      };
    values.push(v);
  }
  return { ok: true, event: { id: String(id), values } };
}
