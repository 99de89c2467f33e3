import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMlp } from "../../src/serve/onnx-build.js";
import { decodeEvent, parseStreamUrl } from "../../src/serve/stream.js";
import { BIN, ROOT } from "../helpers/cli.js";
import { describeWith, tool } from "../helpers/tools.js";
import { freePort } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir: string;
let modelPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sw-consume-"));
  modelPath = join(dir, "model.onnx");
  writeFileSync(modelPath, buildMlp({ layers: [4, 8, 1], sigmoid: true, seed: 5 }));
});

function consumer(args: string[]): ChildProcess {
  return spawn(
    process.execPath,
    [BIN, "consume", "--model", `m=${modelPath}`, "--max-batch", "200", "--max-wait-ms", "100", ...args],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
}

const event = (i: number) => JSON.stringify({ id: `e${i}`, features: { f0: i % 10, f1: 1, f2: 2, f3: 3 } });
const malformed = (i: number) =>
  i % 3 === 0
    ? "not json"
    : i % 3 === 1
      ? JSON.stringify({ id: `m${i}`, features: { f0: "x" } })
      : JSON.stringify({ features: {} });

describeWith(["redis-server"], "stackwright consume with Redis Streams (real redis-server)", () => {
  let redis: ChildProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    redis = spawn(tool("redis-server"), ["--port", String(port), "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    await sleep(300);
  });
  afterAll(() => {
    redis.kill();
  });

  it("scores 10,000 events exactly once per good event across a crash and restart; malformed ones land in the dead-letter stream", async () => {
    const client = createClient({ url: `redis://127.0.0.1:${port}` });
    await client.connect();
    const bad = new Set<number>();
    for (let i = 0; i < 10_000; i += 200) {
      const multi = client.multi();
      for (let j = i; j < i + 200; j++) {
        const isBad = j % 97 === 13;
        if (isBad) bad.add(j);
        multi.xAdd("events", "*", { data: isBad ? malformed(j) : event(j) });
      }
      await multi.exec();
    }
    const url = (s: string) => `redis://127.0.0.1:${port}/${s}`;
    const args = [
      "--source",
      url("events"),
      "--sink",
      url("scores"),
      "--dead-letter",
      url("dlq"),
      "--group",
      "g1",
    ];
    const first = consumer(args);
    for (let i = 0; i < 300 && (await client.xLen("scores")) < 3000; i++) await sleep(20);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const atCrash = await client.xLen("scores");
    expect(atCrash).toBeLessThan(10_000 - bad.size);
    const second = consumer([...args, "--json"]);
    for (let i = 0; i < 500; i++) {
      const ids = new Set(
        ((await client.xRange("scores", "-", "+")) as unknown as Array<{ message: { data: string } }>).map(
          (e) => JSON.parse(e.message.data).id,
        ),
      );
      if (ids.size >= 10_000 - bad.size) break;
      await sleep(50);
    }
    second.kill("SIGTERM");
    await new Promise((r) => second.once("exit", r));
    const results = (
      (await client.xRange("scores", "-", "+")) as unknown as Array<{ message: { data: string } }>
    ).map((e) => JSON.parse(e.message.data));
    const counts = new Map<string, number>();
    for (const r of results) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    expect(counts.size).toBe(10_000 - bad.size);
    for (let i = 0; i < 10_000; i++) if (!bad.has(i)) expect(counts.has(`e${i}`), `e${i}`).toBe(true);
    const duplicates = results.length - counts.size;
    expect(duplicates).toBeLessThanOrEqual(200); // bounded by the in-flight micro-batch
    const dead = (
      (await client.xRange("dlq", "-", "+")) as unknown as Array<{ message: { data: string } }>
    ).map((e) => JSON.parse(e.message.data));
    expect(dead.length).toBeGreaterThanOrEqual(bad.size);
    expect(new Set(dead.map((d) => d.event)).size).toBe(new Set([...bad].map(malformed)).size);
    expect(dead.every((d) => typeof d.reason === "string" && d.reason.length > 0)).toBe(true);
    await client.quit();
  }, 120_000);
});

describeWith(["redis-server"], "consume when the broker goes away", () => {
  it("rides out a Redis restart: retries with backoff, then scores what arrives after it, every event once or more", async () => {
    const port = await freePort();
    const data = mkdtempSync(join(tmpdir(), "sw-redis-"));
    // the stream and the group outlive the restart, as on a broker with persistence
    const start = () =>
      spawn(
        tool("redis-server"),
        ["--port", String(port), "--appendonly", "yes", "--dir", data, "--save", ""],
        {
          stdio: "ignore",
        },
      );
    let redis = start();
    await sleep(300);
    const url = (s: string) => `redis://127.0.0.1:${port}/${s}`;
    const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: 100 } });
    client.on("error", () => {});
    await client.connect();
    const send = async (from: number, to: number) => {
      const multi = client.multi();
      for (let i = from; i < to; i++) multi.xAdd("restart-events", "*", { data: event(i) });
      await multi.exec();
    };
    const child = consumer([
      "--source",
      url("restart-events"),
      "--sink",
      url("restart-scores"),
      "--group",
      "g",
    ]);
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const scored = async () =>
      new Set(
        (
          (await client.xRange("restart-scores", "-", "+")) as unknown as Array<{ message: { data: string } }>
        ).map((e) => JSON.parse(e.message.data).id),
      );
    try {
      await send(0, 500);
      for (let i = 0; i < 200 && (await scored()).size < 500; i++) await sleep(50);
      expect((await scored()).size).toBe(500);
      redis.kill("SIGKILL");
      await new Promise((r) => redis.once("exit", r));
      await sleep(1500);
      redis = start();
      for (let i = 0; i < 100 && !client.isReady; i++) await sleep(100);
      await send(500, 1000);
      for (let i = 0; i < 400 && (await scored()).size < 1000; i++) await sleep(50);
      expect((await scored()).size, stderr).toBe(1000);
      expect(stderr).toMatch(/broker call failed .*; retrying in \d+ ms \(1\/\d+\)/);
      expect(child.exitCode, stderr).toBeNull();
    } finally {
      child.kill("SIGKILL");
      await client.quit().catch(() => undefined);
      redis.kill("SIGKILL");
    }
  }, 60_000);

  it("stops within the drain timeout on SIGTERM while Redis is down", async () => {
    const port = await freePort();
    const redis = spawn(tool("redis-server"), ["--port", String(port), "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    await sleep(300);
    const url = (s: string) => `redis://127.0.0.1:${port}/${s}`;
    const child = consumer(["--source", url("down-events"), "--sink", url("down-scores"), "--group", "g"]);
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    try {
      for (let i = 0; i < 100 && !stderr.includes("consuming"); i++) await sleep(100);
      expect(stderr).toContain("consuming");
      redis.kill("SIGKILL");
      await sleep(500);
      const asked = Date.now();
      child.kill("SIGTERM");
      const code = await new Promise<number | null>((resolve) => {
        const hard = setTimeout(() => {
          child.kill("SIGKILL");
          resolve(-1);
        }, 20_000);
        child.once("exit", (c) => {
          clearTimeout(hard);
          resolve(c);
        });
      });
      // the connections close together, each within the drain timeout (5 s)
      expect(code, stderr).not.toBe(-1);
      expect(Date.now() - asked).toBeLessThan(12_000);
    } finally {
      redis.kill("SIGKILL");
      child.kill("SIGKILL");
    }
  }, 60_000);
});

describeWith(["nats-server"], "stackwright consume with NATS JetStream (real nats-server)", () => {
  it("consumes, produces results and dead letters through JetStream", async () => {
    const port = await freePort();
    const store = mkdtempSync(join(tmpdir(), "sw-nats-"));
    const server = spawn(tool("nats-server"), ["-js", "-p", String(port), "-sd", store], { stdio: "ignore" });
    try {
      await sleep(500);
      const nats = await import("nats");
      const nc = await nats.connect({ servers: `127.0.0.1:${port}` });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: "SW_events", subjects: ["events"] });
      await jsm.streams.add({ name: "SW_scores", subjects: ["scores"] });
      await jsm.streams.add({ name: "SW_dlq", subjects: ["dlq"] });
      const js = nc.jetstream();
      for (let i = 0; i < 500; i++)
        await js.publish("events", new TextEncoder().encode(i % 50 === 7 ? "not json" : event(i)));
      const url = (s: string) => `nats://127.0.0.1:${port}/${s}`;
      const c = consumer([
        "--source",
        url("events"),
        "--sink",
        url("scores"),
        "--dead-letter",
        url("dlq"),
        "--group",
        "g1",
      ]);
      for (let i = 0; i < 200; i++) {
        const info = await jsm.streams.info("SW_scores");
        if (info.state.messages >= 490) break;
        await sleep(50);
      }
      c.kill("SIGTERM");
      await new Promise((r) => c.once("exit", r));
      expect((await jsm.streams.info("SW_scores")).state.messages).toBe(490);
      expect((await jsm.streams.info("SW_dlq")).state.messages).toBe(10);
      await nc.drain();
    } finally {
      server.kill();
    }
  }, 60_000);
});

describe("the adapter contract (no broker needed; Kafka is not tested against a broker here)", () => {
  it("parses source and sink URLs for every scheme, refusing others", () => {
    expect(parseStreamUrl("kafka://broker:9093/payments")).toEqual({
      scheme: "kafka",
      host: "broker",
      port: 9093,
      name: "payments",
    });
    expect(parseStreamUrl("redis://127.0.0.1/events")).toEqual({
      scheme: "redis",
      host: "127.0.0.1",
      port: 6379,
      name: "events",
    });
    expect(parseStreamUrl("nats://n:4222/a.b")).toEqual({
      scheme: "nats",
      host: "n",
      port: 4222,
      name: "a.b",
    });
    expect(() => parseStreamUrl("amqp://x/q")).toThrow(
      /unsupported scheme amqp; allowed: redis, nats, kafka/,
    );
    expect(() => parseStreamUrl("kafka://broker:9092/")).toThrow(/names the stream/);
  });

  it("decodes events the same way for every transport", () => {
    expect(decodeEvent(event(3), ["f0", "f1", "f2", "f3"])).toEqual({
      ok: true,
      event: { id: "e3", values: [3, 1, 2, 3] },
    });
    expect(decodeEvent("{", ["f0"])).toEqual({ ok: false, reason: "not JSON" });
    expect(decodeEvent('{"features":{}}', ["f0"])).toEqual({ ok: false, reason: "missing id" });
    expect(decodeEvent('{"id":1,"features":{"f0":"x"}}', ["f0"])).toEqual({
      ok: false,
      reason: 'feature f0 is "x", not a finite number',
    });
    expect(decodeEvent('{"id":1,"features":{}}', ["f0"])).toEqual({
      ok: false,
      reason: "missing feature f0",
    });
  });
});
