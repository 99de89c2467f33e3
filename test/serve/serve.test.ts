import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binOf, psi } from "../../src/serve/drift.js";
import { HOP_MARGIN } from "../../src/serve/execution.js";
import { buildMlp } from "../../src/serve/onnx-build.js";
import { BIN } from "../helpers/cli.js";
import { itWith, tool } from "../helpers/tools.js";
import {
  freePort,
  modelsDir,
  post,
  row,
  type Served,
  serve,
  until,
  withServe,
  writeModel,
} from "./helpers.js";

const ADMIN_TOKEN = "test-admin-token";
const ADMIN_ENV = { STACKWRIGHT_ADMIN_TOKEN: ADMIN_TOKEN };
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

const SMALL = { layers: [8, 16, 1], sigmoid: true, seed: 7 };

describe("stackwright serve: inference over HTTP", () => {
  let server: Served;
  let dir: string;
  beforeAll(async () => {
    dir = modelsDir();
    writeModel(
      dir,
      "fraud",
      "1",
      SMALL,
      "stage: production\nfeatures: [f0, f1, f2, f3, f4, f5, f6, f7]\nreference:\n  f0: {edges: [0.5], fractions: [0.5, 0.5]}\n",
    );
    writeFileSync(
      join(dir, "serve.yaml"),
      "batching: {maxBatchSize: 16, maxQueueDelayMs: 5, maxQueue: 4096}\nmaxBodyBytes: 200000\n",
    );
    server = await serve(["--models", dir, "--config", join(dir, "serve.yaml"), "--device", "cpu"]);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it("answers OIP v2 health, server and model metadata", async () => {
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    const meta = await (await fetch(`${server.url}/v2/models/fraud`)).json();
    expect(meta.inputs).toEqual([{ name: "input", datatype: "FP32", shape: [-1, 8] }]);
    expect(meta.parameters.execution_provider).toBe("cpu");
    expect((await fetch(`${server.url}/v2/models/fraud/versions/1/ready`)).status).toBe(200);
  });

  it("batched results equal single runs of the same model, row for row", async () => {
    const session = await ort.InferenceSession.create(buildMlp(SMALL));
    const requests = Array.from({ length: 48 }, (_, i) => row(1 + (i % 3), 8, i));
    const answers = await Promise.all(
      requests.map((data, i) =>
        post(`${server.url}/v2/models/fraud/infer`, {
          id: `r${i}`,
          inputs: [{ name: "input", shape: [data.length / 8, 8], datatype: "FP32", data }],
        }),
      ),
    );
    for (let i = 0; i < requests.length; i++) {
      expect(answers[i].status).toBe(200);
      expect(answers[i].body.id).toBe(`r${i}`);
      const expected = await session.run({
        input: new ort.Tensor("float32", Float32Array.from(requests[i]), [requests[i].length / 8, 8]),
      });
      const got = (answers[i].body.outputs as Array<{ data: number[] }>)[0].data;
      expect(got).toEqual(Array.from(expected.output.data as Float32Array));
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const count = Number(/stackwright_batch_size_count\{[^}]*\} (\d+)/.exec(metrics)?.[1]);
    const sum = Number(/stackwright_batch_size_sum\{[^}]*\} (\d+)/.exec(metrics)?.[1]);
    expect(sum / count).toBeGreaterThan(1.5); // requests really were batched together
  });

  it("maps named features through /v1/predictions", async () => {
    const features = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, i / 10]));
    const res = await post(`${server.url}/v1/predictions`, { model_id: "fraud", features });
    expect(res.status).toBe(200);
    expect(res.body.model_version).toBe("1");
    expect(res.body.probability).toBeGreaterThan(0);
    expect([0, 1]).toContain(res.body.prediction);
    const missing = await post(`${server.url}/v1/predictions`, { model_id: "fraud", features: { f0: 1 } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain("missing features: f1, f2");
  });

  const infer = (body: unknown, path = "/v2/models/fraud/infer") => post(`${server.url}${path}`, body);
  const good = { name: "input", shape: [1, 8], datatype: "FP32", data: row(1, 8) };
  it.each([
    ["malformed JSON", "{not json", 400, /malformed JSON/],
    ["nesting deeper than 100", `{"inputs":${"[".repeat(150)}${"]".repeat(150)}}`, 400, /deeper than 100/],
    // over 8 KiB: refused by the scan before any parsing
    [
      "nesting deeper than 100, large",
      `{"inputs":${"[".repeat(6000)}${"]".repeat(6000)}}`,
      400,
      /deeper than 100/,
    ],
    [
      "nesting deeper than 100 in an object, large",
      `{"pad":"${"x".repeat(9000)}","inputs":${'{"a":'.repeat(120)}1${"}".repeat(120)}}`,
      400,
      /deeper than 100/,
    ],
    [
      "body over the limit",
      JSON.stringify({ inputs: [{ ...good, pad: "x".repeat(300_000) }] }),
      413,
      /larger than/,
    ],
    [
      "unknown input",
      { inputs: [{ ...good, name: "nope" }] },
      400,
      /unknown input "nope"; the model takes input/,
    ],
    [
      "wrong datatype",
      { inputs: [{ ...good, datatype: "INT32" }] },
      400,
      /datatype INT32 does not match the model's FP32/,
    ],
    ["unknown datatype", { inputs: [{ ...good, datatype: "FP128" }] }, 400, /unknown datatype/],
    ["shape/data mismatch", { inputs: [{ ...good, shape: [2, 8] }] }, 400, /needs 16 values, data has 8/],
    ["negative dimension", { inputs: [{ ...good, shape: [-1, 8] }] }, 400, /negative or non-integer/],
    ["overflowing dimension", { inputs: [{ ...good, shape: [2 ** 40, 8] }] }, 400, /overflows|too large/],
    [
      "NaN / non-numbers",
      { inputs: [{ ...good, data: [...row(1, 7), null] }] },
      400,
      /expected a finite number/,
    ],
    [
      "wrong trailing dimension",
      { inputs: [{ ...good, shape: [2, 4] }] },
      400,
      /dimension 1 is 4; the model expects 8/,
    ],
    ["empty batch", { inputs: [{ ...good, shape: [0, 8], data: [] }] }, 400, /empty batch/],
    ["no inputs", { inputs: [] }, 400, /non-empty array/],
    [
      "duplicate output names",
      { inputs: [good], outputs: [{ name: "output" }, { name: "output" }] },
      400,
      /duplicate output names/,
    ],
    ["unknown output", { inputs: [good], outputs: [{ name: "logits" }] }, 400, /unknown output "logits"/],
  ])("refuses %s with a clear error", async (_, body, status, message) => {
    const res = await infer(body);
    expect(res.status).toBe(status);
    expect(String(res.body.error)).toMatch(message as RegExp);
  });

  it("404s unknown models and versions", async () => {
    expect((await infer({ inputs: [good] }, "/v2/models/ghost/infer")).status).toBe(404);
    const v = await infer({ inputs: [good] }, "/v2/models/fraud/versions/9/infer");
    expect(v.status).toBe(404);
    expect(v.body.error).toContain("available: 1");
  });

  it("computes PSI per feature against the reference histogram (checked by hand)", async () => {
    // f0 values: three below the 0.5 edge, one above -> actual [0.75, 0.25] vs expected [0.5, 0.5]
    for (const f0 of [0.1, 0.2, 0.3, 0.9]) {
      const data = [f0, 0, 0, 0, 0, 0, 0, 0];
      await infer({ inputs: [{ ...good, data }] }, "/v2/models/fraud/versions/1/infer");
    }
    const drift = await (await fetch(`${server.url}/v2/models/fraud/drift`)).json();
    // earlier tests also sent rows; compute the expected PSI from the values the server saw
    const hand = 0.25 * Math.log(0.75 / 0.5) + -0.25 * Math.log(0.25 / 0.5);
    expect(psi([0.5, 0.5], [0.75, 0.25])).toBeCloseTo(hand, 10);
    expect(binOf(0.49, [0.5])).toBe(0);
    expect(binOf(0.5, [0.5])).toBe(1);
    expect(drift.features.f0.samples).toBeGreaterThan(4);
    expect(drift.bands).toEqual({ warn: 0.1, alert: 0.25 });
    expect(typeof drift.features.f0.psi).toBe("number");
  });

  itWith(["promtool"], "serves /metrics that promtool accepts", async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain("stackwright_requests_total");
    expect(text).toContain('stackwright_execution_provider{model="fraud",version="1",provider="cpu"} 1');
    const check = spawnSync(tool("promtool"), ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});

describe("exact PSI on a fresh server", () => {
  it("matches the hand-computed value", async () => {
    const dir = modelsDir();
    writeModel(
      dir,
      "m",
      "1",
      SMALL,
      "stage: production\nfeatures: [a, b, c, d, e, f, g, h]\nreference:\n  a: {edges: [0.5], fractions: [0.5, 0.5]}\n",
    );
    const s = await serve(["--models", dir, "--device", "cpu"]);
    try {
      for (const a of [0.1, 0.2, 0.3, 0.9]) {
        await post(`${s.url}/v2/models/m/infer`, {
          inputs: [{ name: "input", shape: [1, 8], datatype: "FP32", data: [a, 0, 0, 0, 0, 0, 0, 0] }],
        });
      }
      const drift = await (await fetch(`${s.url}/v2/models/m/drift`)).json();
      // the warm-up row is not counted: only requests are observed
      expect(drift.features.a.samples).toBe(4);
      expect(drift.features.a.psi).toBeCloseTo(0.25 * Math.log(1.5) + 0.25 * Math.log(2), 6);
      expect(drift.features.a.status).toBe("alert");
    } finally {
      await s.stop();
    }
  });
});

describe("routing, fallback, reload, overload, features", () => {
  it("splits canary traffic by weight, sticky per key, and weights change at run time", async () => {
    const dir = modelsDir();
    writeModel(dir, "m", "1", SMALL, "stage: production\n");
    writeModel(dir, "m", "2", { ...SMALL, seed: 8 }, "stage: staging\ncanaryWeight: 30\n");
    const s = await serve(["--models", dir, "--device", "cpu"], { env: ADMIN_ENV });
    try {
      const body = { inputs: [{ name: "input", shape: [1, 8], datatype: "FP32", data: row(1, 8) }] };
      const versions = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          post(`${s.url}/v2/models/m/infer`, body, { "x-stackwright-key": `user-${i}` }),
        ),
      );
      const canary = versions.filter((v) => v.body.model_version === "2").length / versions.length;
      expect(canary).toBeGreaterThan(0.22);
      expect(canary).toBeLessThan(0.38);
      const sticky = await Promise.all(
        Array.from({ length: 10 }, () =>
          post(`${s.url}/v2/models/m/infer`, body, { "x-stackwright-key": "user-7" }),
        ),
      );
      expect(new Set(sticky.map((r) => r.body.model_version)).size).toBe(1);
      expect((await post(`${s.url}/v2/repository/models/m/routing`, { canaryWeight: 0 }, ADMIN)).status).toBe(
        200,
      );
      const after = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          post(`${s.url}/v2/models/m/infer`, body, { "x-stackwright-key": `u${i}` }),
        ),
      );
      expect(after.every((r) => r.body.model_version === "1")).toBe(true);
    } finally {
      await s.stop();
    }
  });

  it("falls back to the default response when the primary misses its deadline, then opens the breaker", async () => {
    const dir = modelsDir();
    writeModel(
      dir,
      "slow",
      "1",
      { layers: [256, 2048, 2048, 2048, 1], sigmoid: true, seed: 3 },
      "stage: production\nfallback:\n  default: {output: [0.5]}\n",
    );
    writeFileSync(
      join(dir, "serve.yaml"),
      "fallback: {timeoutMs: 1, breaker: {failures: 3, windowSeconds: 10, openSeconds: 30}}\nbatching: {enabled: false}\n",
    );
    const s = await serve([
      "--models",
      dir,
      "--config",
      join(dir, "serve.yaml"),
      "--device",
      "cpu",
      "--workers",
      "1",
    ]);
    try {
      const body = { inputs: [{ name: "input", shape: [64, 256], datatype: "FP32", data: row(64, 256) }] };
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await post(`${s.url}/v2/models/slow/infer`, body));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect((results[4].body.outputs as Array<{ data: number[] }>)[0].data.every((v) => v === 0.5)).toBe(
        true,
      );
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/stackwright_fallbacks_total\{model="slow",via="default-response"\} [5-9]/);
      expect(metrics).toMatch(/stackwright_breaker_state\{model="slow"\} 2/);
    } finally {
      await s.stop();
    }
  });

  it("hot-reloads a new version under load with zero failed requests", async () => {
    const dir = modelsDir();
    writeModel(dir, "m", "1", SMALL);
    const s = await serve(["--models", dir, "--device", "cpu"], { env: ADMIN_ENV });
    try {
      const body = { inputs: [{ name: "input", shape: [1, 8], datatype: "FP32", data: row(1, 8) }] };
      let stop = false;
      const statuses: number[] = [];
      const versions = new Set<unknown>();
      const load = async () => {
        while (!stop) {
          const r = await post(`${s.url}/v2/models/m/infer`, body);
          statuses.push(r.status);
          versions.add(r.body.model_version);
        }
      };
      const runners = Array.from({ length: 8 }, load);
      await new Promise((r) => setTimeout(r, 300));
      writeModel(dir, "m", "2", { ...SMALL, seed: 99 });
      const reload = await post(`${s.url}/v2/repository/models/m/load`, {}, ADMIN);
      expect(reload.status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(runners);
      expect(statuses.length).toBeGreaterThan(50);
      expect(statuses.filter((c) => c !== 200)).toEqual([]);
      expect([...versions]).toContain("2");
      // a failed load keeps the old versions serving and says why
      writeFileSync(join(dir, "m", "2", "model.onnx"), "not an onnx file");
      const failed = await post(`${s.url}/v2/repository/models/m/load`, {}, ADMIN);
      expect(failed.status).toBe(400);
      expect(failed.body.error).toMatch(/load failed, the previous versions keep serving/);
      expect((await post(`${s.url}/v2/models/m/infer`, body)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it("follows the model directory with --watch: publish, refuse a broken version, retire, unload", async () => {
    const dir = modelsDir();
    writeModel(dir, "m", "1", SMALL);
    const s = await serve(["--models", dir, "--watch", "--device", "cpu"]);
    const until = async (what: string, done: () => boolean | Promise<boolean>) => {
      for (let i = 0; i < 150; i++) {
        if (await done()) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}; serve said:\n${s.stderr()}`);
    };
    // a version is staged in a dot-directory (ignored by the watcher), then renamed into place
    const publish = (version: string, write: (staged: string) => void) => {
      const staged = join(dir, `.staging-${version}`);
      mkdirSync(staged, { recursive: true });
      write(staged);
      renameSync(staged, join(dir, "m", version));
    };
    try {
      expect(s.stderr()).toContain("watching");
      const body = { inputs: [{ name: "input", shape: [1, 8], datatype: "FP32", data: row(1, 8) }] };
      let stop = false;
      const statuses: number[] = [];
      const versions = new Set<unknown>();
      const runners = Array.from({ length: 6 }, async () => {
        while (!stop) {
          const r = await post(`${s.url}/v2/models/m/infer`, body);
          statuses.push(r.status);
          versions.add(r.body.model_version);
        }
      });
      publish("2", (staged) => {
        writeFileSync(join(staged, "model.onnx"), buildMlp({ ...SMALL, seed: 99 }));
        writeFileSync(join(staged, "model.yaml"), "stage: production\n");
      });
      await until("version 2 to take traffic", () => versions.has("2"));
      stop = true;
      await Promise.all(runners);
      expect(statuses.filter((c) => c !== 200)).toEqual([]);
      expect(s.stderr()).toContain("watch: m: serving versions 1, 2 (loaded 2)");

      publish("3", (staged) => {
        writeFileSync(join(staged, "model.onnx"), "not an onnx file");
        writeFileSync(join(staged, "model.yaml"), "stage: production\n");
      });
      await until("the broken version to be reported", () => s.stderr().includes("watch: m: load failed"));
      const after = await post(`${s.url}/v2/models/m/infer`, body);
      expect([after.status, after.body.model_version]).toEqual([200, "2"]);

      rmSync(join(dir, "m", "3"), { recursive: true });
      rmSync(join(dir, "m", "1"), { recursive: true });
      await until("version 1 to retire", () => s.stderr().includes("(retired 1)"));
      expect((await fetch(`${s.url}/v2/models/m/versions/1`)).status).toBe(404);
      expect((await post(`${s.url}/v2/models/m/infer`, body)).status).toBe(200);

      rmSync(join(dir, "m"), { recursive: true });
      // the log line reaches this process through a pipe, possibly after the 404: wait for both
      await until("the model to unload", async () => (await fetch(`${s.url}/v2/models/m`)).status === 404);
      await until("the unload to be logged", () =>
        s.stderr().includes("watch: m: unloaded (no versions left)"),
      );
    } finally {
      await s.stop();
    }
  });

  it("--device auto tries each missing provider once per process and reports the one in use", async () => {
    const dir = modelsDir();
    writeModel(dir, "a", "1", SMALL);
    writeModel(dir, "b", "1", SMALL);
    writeModel(dir, "b", "2", { ...SMALL, seed: 3 });
    const s = await serve(["--models", dir, "--device", "auto"]);
    try {
      const providers = new Set<unknown>();
      for (const path of ["a/versions/1", "b/versions/1", "b/versions/2"])
        providers.add(
          (await (await fetch(`${s.url}/v2/models/${path}`)).json()).parameters.execution_provider,
        );
      expect(providers.size).toBe(1);
      expect(["cuda", "webgpu", "cpu"]).toContain([...providers][0]);
      // three versions loaded; a provider this machine lacks is tried (and its reason logged) once
      for (const provider of ["cuda", "webgpu"])
        expect(s.stderr().split(`skipped ${provider} (`).length - 1).toBeLessThanOrEqual(1);
      if (providers.has("cpu")) expect(s.stderr()).toMatch(/skipped cuda \(.+\)/);
    } finally {
      await s.stop();
    }
  });

  it("refuses --watch without --models", () => {
    const result = spawnSync(process.execPath, [BIN, "serve", "--model", "m=x.onnx", "--watch"], {
      encoding: "utf8",
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--watch follows a model repository");
  });

  it("answers 503 with Retry-After when the queue is full, while health stays live", async () => {
    const dir = modelsDir();
    writeModel(dir, "big", "1", { layers: [256, 2048, 2048, 1], seed: 5 });
    writeFileSync(
      join(dir, "serve.yaml"),
      "batching: {maxBatchSize: 8, maxQueueDelayMs: 1, maxQueue: 16}\nfallback: {timeoutMs: 60000}\n",
    );
    const s = await serve([
      "--models",
      dir,
      "--config",
      join(dir, "serve.yaml"),
      "--device",
      "cpu",
      "--workers",
      "1",
    ]);
    try {
      const body = { inputs: [{ name: "input", shape: [8, 256], datatype: "FP32", data: row(8, 256) }] };
      const flood = Array.from({ length: 40 }, () => post(`${s.url}/v2/models/big/infer`, body));
      const started = performance.now();
      const live = await fetch(`${s.url}/v2/health/live`);
      const liveMs = performance.now() - started;
      const results = await Promise.all(flood);
      expect(live.status).toBe(200);
      expect(liveMs).toBeLessThan(2000);
      const codes = new Set(results.map((r) => r.status));
      expect([...codes].every((c) => c === 200 || c === 503)).toBe(true);
      const refused = results.find((r) => r.status === 503);
      expect(refused?.headers.get("retry-after")).toBe("1");
      expect(results.some((r) => r.status === 200)).toBe(true);
    } finally {
      await s.stop();
    }
  });

  itWith(
    ["redis-server", "redis-cli"],
    "reads online features from a real redis-server by entity key",
    async () => {
      const port = await freePort();
      const redis = spawn(
        tool("redis-server"),
        ["--port", String(port), "--save", "", "--appendonly", "no"],
        {
          stdio: "ignore",
        },
      );
      try {
        await new Promise((r) => setTimeout(r, 300));
        const dir = modelsDir();
        writeModel(
          dir,
          "fraud",
          "1",
          SMALL,
          "stage: production\nfeatures: [f0, f1, f2, f3, f4, f5, f6, f7]\n",
        );
        const cli = spawnSync(
          tool("redis-cli"),
          [
            "-p",
            String(port),
            "HSET",
            "features:card-1",
            "f0",
            "0.1",
            "f1",
            "0.2",
            "f2",
            "0.3",
            "f3",
            "0.4",
            "f4",
            "0.5",
            "f5",
            "0.6",
            "f6",
            "0.7",
            "f7",
            "0.8",
          ],
          { encoding: "utf8" },
        );
        expect(cli.status).toBe(0);
        writeFileSync(join(dir, "serve.yaml"), "features: {store: redis, entityKey: card_id}\n");
        const s = await serve([
          "--models",
          dir,
          "--config",
          join(dir, "serve.yaml"),
          "--redis",
          `redis://127.0.0.1:${port}`,
          "--device",
          "cpu",
        ]);
        try {
          const byKey = await post(`${s.url}/v1/predictions`, {
            model_id: "fraud",
            card_id: "card-1",
            features: {},
          });
          const explicit = await post(`${s.url}/v1/predictions`, {
            model_id: "fraud",
            features: { f0: 0.1, f1: 0.2, f2: 0.3, f3: 0.4, f4: 0.5, f5: 0.6, f6: 0.7, f7: 0.8 },
          });
          expect(byKey.status).toBe(200);
          expect(byKey.body.probability).toBeCloseTo(explicit.body.probability as number, 6);
          const unknown = await post(`${s.url}/v1/predictions`, {
            model_id: "fraud",
            card_id: "card-404",
            features: {},
          });
          expect(unknown.status).toBe(400);
          expect(unknown.body.error).toContain("redis store");
        } finally {
          await s.stop();
        }
      } finally {
        redis.kill();
      }
    },
  );
});

describe("the admin surface is locked", () => {
  const body = { inputs: [{ name: "input", shape: [1, 8], datatype: "FP32", data: row(1, 8) }] };

  it("without an admin token the repository API is disabled", async () => {
    const dir = modelsDir();
    writeModel(dir, "m", "1", SMALL);
    await withServe(
      ["--models", dir, "--device", "cpu"],
      { env: { STACKWRIGHT_ADMIN_TOKEN: "" } },
      async (s) => {
        const refused = await post(`${s.url}/v2/repository/models/m/load`, {});
        expect([refused.status, refused.body.error]).toEqual([403, expect.stringContaining("disabled")]);
        expect((await post(`${s.url}/v2/repository/models/m/unload`, {})).status).toBe(403);
        expect((await post(`${s.url}/v2/repository/models/m/routing`, { canaryWeight: 50 })).status).toBe(
          403,
        );
        expect((await post(`${s.url}/v2/models/m/infer`, body)).status).toBe(200);
      },
    );
  });

  it("refuses missing and wrong tokens, path traversal and symlinks out of --models", async () => {
    const dir = modelsDir();
    writeModel(dir, "m", "1", SMALL);
    const outside = modelsDir();
    writeModel(outside, "x", "1", SMALL);
    symlinkSync(join(outside, "x"), join(dir, "evil"));
    await withServe(["--models", dir, "--device", "cpu"], { env: ADMIN_ENV }, async (s) => {
      const none = await post(`${s.url}/v2/repository/models/m/load`, {});
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toContain("Bearer");
      expect(
        (await post(`${s.url}/v2/repository/models/m/load`, {}, { authorization: "Bearer nope" })).status,
      ).toBe(401);
      expect((await post(`${s.url}/v2/repository/models/m/load`, {}, ADMIN)).status).toBe(200);
      for (const name of ["..%2F..%2F..%2Ftmp%2Fx", "a%2Fb", ".hidden", "%00m", "m%5C..%5Cx"]) {
        const traversal = await post(`${s.url}/v2/repository/models/${name}/load`, {}, ADMIN);
        expect([name, traversal.status]).toEqual([name, 400]);
      }
      // a bare ".." segment is resolved away by the URL itself: it reaches no route
      expect((await post(`${s.url}/v2/repository/models/../load`, {}, ADMIN)).status).toBe(404);
      const escaped = await post(`${s.url}/v2/repository/models/evil/load`, {}, ADMIN);
      expect([escaped.status, escaped.body.error]).toEqual([
        400,
        expect.stringContaining("outside the model repository"),
      ]);
      expect((await fetch(`${s.url}/v2/models/evil`)).status).toBe(404);
    });
  });

  it("metrics label only loaded models; --token guards inference but not probes", async () => {
    const dir = modelsDir();
    writeModel(dir, "m", "1", SMALL);
    await withServe(
      ["--models", dir, "--device", "cpu"],
      { env: { STACKWRIGHT_TOKEN: "infer-secret" } },
      async (s) => {
        expect((await post(`${s.url}/v2/models/m/infer`, body)).status).toBe(401);
        const auth = { authorization: "Bearer infer-secret" };
        expect((await post(`${s.url}/v2/models/m/infer`, body, auth)).status).toBe(200);
        for (let i = 0; i < 5; i++)
          expect((await post(`${s.url}/v2/models/made-up-${i}/infer`, body, auth)).status).toBe(404);
        expect((await fetch(`${s.url}/v2/health/ready`)).status).toBe(200);
        const metrics = await (await fetch(`${s.url}/metrics`)).text();
        expect(metrics).toContain('model="m"');
        expect(metrics).not.toContain("made-up");
      },
    );
  });

  it("a model that cannot be loaded at start-up: its reason, and exit 2", async () => {
    const dir = modelsDir();
    mkdirSync(join(dir, "broken", "1"), { recursive: true });
    writeFileSync(join(dir, "broken", "1", "model.onnx"), "not an onnx file");
    const port = await freePort();
    const child = spawnSync(
      process.execPath,
      [BIN, "serve", "--models", dir, "--device", "cpu", "--port", String(port)],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(child.status, child.stderr).toBe(2);
    expect(child.stderr).toMatch(/cannot start serving: cannot load .*broken\/1\/model\.onnx/);
  });
});

describe("shadow traffic off the request path", () => {
  const body = { inputs: [{ name: "input", shape: [1, 8], datatype: "FP32", data: row(1, 8) }] };

  it("a shadow with another input shape never changes a primary answer; its failures are counted", async () => {
    const dir = modelsDir();
    writeModel(dir, "m", "1", SMALL);
    writeModel(
      dir,
      "m",
      "2",
      { layers: [4, 8, 1], sigmoid: true, seed: 3 },
      "stage: staging\nshadow: true\n",
    );
    await withServe(["--models", dir, "--device", "cpu"], async (s) => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => post(`${s.url}/v2/models/m/infer`, body)),
      );
      expect(answers.map((a) => [a.status, a.body.model_version])).toEqual(answers.map(() => [200, "1"]));
      const expected = answers[0].body.outputs;
      for (const a of answers) expect(a.body.outputs).toEqual(expected);
      let stats: Record<string, unknown> = {};
      await until("20 failed shadow requests", async () => {
        stats = (await (await fetch(`${s.url}/v2/models/m/shadow`)).json()).shadow;
        return Number(stats.failed) >= 20;
      });
      expect(stats).toMatchObject({ version: "2", failed: 20, compared: 0 });
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(
        /stackwright_shadow_requests_total\{model="m",version="2",outcome="failed"\} 20/,
      );
    });
  });

  itWith(
    ["promtool"],
    "a matching shadow is compared: agreement, score differences and its latency",
    async () => {
      const dir = modelsDir();
      writeModel(dir, "m", "1", SMALL);
      writeModel(dir, "m", "2", { ...SMALL, seed: 8 }, "stage: staging\nshadow: true\n");
      await withServe(["--models", dir, "--device", "cpu"], async (s) => {
        for (let i = 0; i < 10; i++)
          expect((await post(`${s.url}/v2/models/m/infer`, body)).body.model_version).toBe("1");
        let stats: Record<string, unknown> = {};
        await until("10 compared shadow requests", async () => {
          stats = (await (await fetch(`${s.url}/v2/models/m/shadow`)).json()).shadow;
          return Number(stats.compared) >= 10;
        });
        expect(stats).toMatchObject({ version: "2", compared: 10, failed: 0, dropped: 0 });
        expect(stats.agreement).toBeGreaterThanOrEqual(0);
        expect(stats.meanAbsDiff).toBeGreaterThan(0);
        const metrics = await (await fetch(`${s.url}/metrics`)).text();
        // the new series are valid exposition format
        const check = spawnSync(tool("promtool"), ["check", "metrics"], { input: metrics, encoding: "utf8" });
        expect(check.status, check.stdout + check.stderr).toBe(0);
        expect(metrics).toMatch(/stackwright_shadow_agreement_ratio\{model="m",version="2"\} [\d.]+/);
        expect(metrics).toMatch(/stackwright_shadow_abs_diff_count\{model="m",version="2"\} 10/);
        expect(metrics).toMatch(/stackwright_shadow_duration_seconds_count\{model="m",version="2"\} 10/);
      });
    },
  );
});

describe("where a model version runs is chosen by measurement", () => {
  const HEAVY = { layers: [256, 1024, 1024, 1], sigmoid: true, seed: 5 };
  type Params = Record<string, unknown>;
  const paramsOf = async (url: string, name: string): Promise<Params> =>
    (await (await fetch(`${url}/v2/models/${name}`)).json()).parameters;
  const expected = async (mlp: typeof SMALL, data: number[], width: number) => {
    const session = await ort.InferenceSession.create(buildMlp(mlp));
    const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(data), [1, width]) });
    return Array.from(out[session.outputNames[0]].data as Float32Array);
  };

  it("auto: the decision follows its own figures, a heavy model goes to the workers, both answer exactly", async () => {
    const dir = modelsDir();
    writeModel(dir, "small", "1", SMALL);
    writeModel(dir, "heavy", "1", HEAVY);
    await withServe(["--models", dir, "--device", "cpu", "--max-batch-size", "64"], async (s) => {
      for (const name of ["small", "heavy"]) {
        const p = await paramsOf(s.url, name);
        expect(typeof p.placement_batch_us).toBe("number");
        expect(typeof p.placement_handoff_us).toBe("number");
        // event loop exactly when a full batch costs no more than the hop it would save (within the margin)
        expect(p.placement).toBe(
          (p.placement_batch_us as number) <= HOP_MARGIN * (p.placement_handoff_us as number)
            ? "event-loop"
            : "workers",
        );
        expect(p.placement_reason).toContain("a batch of 64 rows takes");
      }
      // 64 rows through two 1024-wide layers cost milliseconds; a hop costs microseconds
      expect((await paramsOf(s.url, "heavy")).placement).toBe("workers");
      expect(s.stderr()).toMatch(/heavy v1: ready on cpu, in worker threads/);
      for (const [name, mlp, width] of [
        ["small", SMALL, 8],
        ["heavy", HEAVY, 256],
      ] as const) {
        const data = row(1, width, 3);
        const res = await post(`${s.url}/v2/models/${name}/infer`, {
          inputs: [{ name: "input", shape: [1, width], datatype: "FP32", data }],
        });
        expect(res.status).toBe(200);
        const got = (res.body.outputs as Array<{ data: number[] }>)[0].data;
        const want = await expected(mlp as typeof SMALL, data, width);
        for (const [i, v] of got.entries()) expect(v).toBeCloseTo(want[i], 5);
      }
    });
  });

  it("--placement and serve.yaml placement force it, and the log says how many worker threads run", async () => {
    const dir = modelsDir();
    writeModel(dir, "small", "1", SMALL);
    await withServe(["--models", dir, "--device", "cpu", "--placement", "event-loop"], async (s) => {
      const p = await paramsOf(s.url, "small");
      expect(p).toMatchObject({
        placement: "event-loop",
        placement_reason: "execution.placement is event-loop",
      });
      expect(s.stderr()).toContain("no worker threads: every model runs on the event loop");
    });
    writeFileSync(join(dir, "serve.yaml"), "placement: workers\nworkers: 1\n");
    await withServe(["--models", dir, "--device", "cpu", "--config", join(dir, "serve.yaml")], async (s) => {
      expect((await paramsOf(s.url, "small")).placement).toBe("workers");
      expect(s.stderr()).toContain("(1 worker thread(s), features: memory)");
      const res = await post(`${s.url}/v2/models/small/infer`, {
        inputs: [{ name: "input", shape: [2, 8], datatype: "FP32", data: row(2, 8) }],
      });
      expect(res.status).toBe(200);
    });
  });

  it("refuses a placement it does not know, naming the allowed ones", () => {
    const cli = spawnSync(process.execPath, [BIN, "serve", "--model", "x=y.onnx", "--placement", "gpu"], {
      encoding: "utf8",
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/auto, event-loop, workers/);
    const dir = modelsDir();
    writeFileSync(join(dir, "serve.yaml"), "placement: gpu\n");
    const config = spawnSync(process.execPath, [BIN, "serve", "--config", join(dir, "serve.yaml")], {
      encoding: "utf8",
    });
    expect(config.status).toBe(2);
    expect(config.stderr).toMatch(/placement/);
  });
});
