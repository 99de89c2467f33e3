#!/usr/bin/env node
// Serving benchmark (run after `npm run build`):
//   node bench/serve/serve-bench.js [--duration 8] [--rounds 3] [--device cpu|webgpu|cuda|auto]
//     [--models small,large] [--serve-args "--workers 2"] [--out FILE]
// results go to bench/results/serve-<device>.json; the raw session.run limit uses the same provider
// Builds a small (32->256->1) and a large (256->2048x3->1) model, then measures on this machine, in
// one run, with autocannon in a separate process (32 connections, non-pipelined, single-row requests):
//   (a) fastify answering a constant (the HTTP floor)      (b) naive fastify + session.run per request
//   (c) stackwright serve                                  (d) raw in-process session.run, batch 1..512
//   (c') the same stackwright serve over gRPC: h2load (Debian's nghttp2-client; skipped without it),
//        one HTTP/2 connection with 32 streams in flight as a gRPC channel has, ModelInfer with the
//        single row as raw_input_contents; the answers that succeeded are read off the server's own
//        stackwright_requests_total, since h2load sees only HTTP statuses
// plus /v2/health/live p99 while (c) is saturated, and a 2x-overload run that may only see 429/503.
import "../runtime.js";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import { autocannon, cpuSeconds, flag, freePort, inferBody, median } from "./load.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const duration = Number(flag("--duration")) || 8;
const roundCount = Number(flag("--rounds")) || 3;
const ratio = (a, b) => Math.round((a / b) * 100) / 100;
const device = flag("--device") ?? "cpu";
if (!["cpu", "webgpu", "cuda", "auto"].includes(device)) {
  console.error(`--device ${device}: expected cpu, webgpu, cuda or auto`);
  process.exit(2);
}
// --models: a subset, for trying one change; --serve-args: extra `stackwright serve` flags (a variant)
const only = (flag("--models") ?? "small,large").split(",");
const serveExtra = (flag("--serve-args") ?? "").split(" ").filter(Boolean);
const { buildMlp } = await import(`${root}dist/src/serve/onnx-build.js`);
const work = mkdtempSync(join(tmpdir(), "sw-bench-"));
const MODELS = {
  small: { layers: [32, 256, 1], sigmoid: true },
  large: { layers: [256, 2048, 2048, 2048, 1], sigmoid: true },
};

async function waitReady(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready: ${url}`);
}

// every server gets the same unmeasured warm-up under the same load before its measured run, so a
// JIT that is still compiling the hot path counts for none of them
const WARMUP_SECONDS = 2;

const h2load = spawnSync("h2load", ["--version"]).status === 0;

/** The server's count of answered (200) requests for a model, from its /metrics. */
async function answered(metricsUrl, model) {
  // a kept-alive socket the server closed while the load ran fails once: a fresh one answers
  const scrape = () => fetch(metricsUrl).then((r) => r.text());
  const text = await scrape().catch(scrape);
  return text
    .split("\n")
    .filter(
      (l) =>
        l.startsWith("stackwright_requests_total{") &&
        l.includes(`model="${model}"`) &&
        l.includes('code="200"'),
    )
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

/** gRPC ModelInfer load with h2load: req/s, p50/p99 from its per-request log, answers that succeeded. */
async function grpcLoad(port, model, width, streams, seconds, metricsUrl) {
  const { inferenceProtos } = await import(`${root}dist/src/serve/grpc.js`);
  const message = inferenceProtos().oip.service.ModelInfer.requestSerialize({
    model_name: model,
    inputs: [{ name: "input", datatype: "FP32", shape: [1, width] }],
    raw_input_contents: [Buffer.from(new Float32Array(width).map((_, i) => Math.sin(i)).buffer)],
  });
  // a gRPC message on the wire: no compression, its length, the protobuf
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  const bodyFile = join(work, "grpc-body.bin");
  const logFile = join(work, "h2load.log");
  writeFileSync(bodyFile, Buffer.concat([frame, message]));
  // h2load appends to its log: each run starts a fresh one
  rmSync(logFile, { force: true });
  const before = await answered(metricsUrl, model);
  const run = spawnSync(
    "h2load",
    [
      "-D",
      String(seconds),
      "-c",
      "1",
      "-m",
      String(streams),
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      "-d",
      bodyFile,
      `--log-file=${logFile}`,
      `http://127.0.0.1:${port}/inference.GRPCInferenceService/ModelInfer`,
    ],
    { encoding: "utf8" },
  );
  const reqPerSec = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(run.stdout)?.[1] ?? 0);
  const micros = readFileSync(logFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => Number(l.split("\t")[2]))
    .sort((a, b) => a - b);
  const at = (p) => Math.round(micros[Math.min(micros.length - 1, Math.floor(p * micros.length))] / 10) / 100;
  const ok = (await answered(metricsUrl, model)) - before;
  return {
    reqPerSec: Math.round(reqPerSec),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    requests: micros.length,
    answeredOk: ok,
  };
}

/**
 * A load run with the server's CPU time per request added: what each answer costs in core time,
 * whatever the neighbours did to the wall clock (the figure that says where a 2-core machine's
 * ceiling is, with the load generator on the same cores).
 */
async function withCpu(pid, load) {
  const before = cpuSeconds(pid);
  const result = await load();
  const after = cpuSeconds(pid);
  const count = result.requests;
  if (before !== undefined && after !== undefined && count > 0)
    result.serverCpuUsPerRequest = Math.round(((after - before) * 1e6) / count);
  return result;
}

async function withProcess(args, env, readyUrl, warm, fn) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await waitReady(readyUrl);
    await autocannon(warm.url, warm.body, 32, WARMUP_SECONDS);
    return await fn(child.pid);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

// What one hop to a worker thread costs on this machine (an echo worker, idle, 20k round trips): the
// floor under any off-event-loop design, and the reason a microsecond model cannot reach the HTTP floor
async function workerRoundTripUs(count = 20_000) {
  const { Worker } = await import("node:worker_threads");
  const echo = new Worker(
    'require("node:worker_threads").parentPort.on("message", (m) => require("node:worker_threads").parentPort.postMessage(m));',
    { eval: true },
  );
  await new Promise((resolve) => {
    echo.once("message", resolve);
    echo.postMessage(0);
  });
  const start = performance.now();
  let done = 0;
  await new Promise((resolve) => {
    echo.on("message", () => (++done === count ? resolve() : echo.postMessage(done)));
    echo.postMessage(0);
  });
  const us = ((performance.now() - start) * 1000) / count;
  await echo.terminate();
  return Math.round(us * 10) / 10;
}

const results = {
  machine: {
    cpus: (await import("node:os")).availableParallelism(),
    node: process.version,
    workerRoundTripUs: await workerRoundTripUs(),
  },
  device,
  durationSeconds: duration,
  rounds: roundCount,
  connections: 32,
  models: {},
};
const unknownModels = only.filter((m) => !(m in MODELS));
if (unknownModels.length) {
  console.error(`--models ${unknownModels.join(",")}: expected some of ${Object.keys(MODELS).join(", ")}`);
  process.exit(2);
}
if (serveExtra.length) results.serveArgs = serveExtra;
for (const [name, spec] of Object.entries(MODELS).filter(([m]) => only.includes(m))) {
  const dir = join(work, "models", name, "1");
  mkdirSync(dir, { recursive: true });
  const bytes = buildMlp({ ...spec, seed: 11 });
  writeFileSync(join(dir, "model.onnx"), bytes);
  writeFileSync(join(dir, "model.yaml"), "stage: production\n");
  const width = spec.layers[0];
  const body = inferBody(width);
  // one round: the floor, the naive server and stackwright back to back, each on its own port
  const round = async () => {
    const r = {};
    let port = await freePort();
    r.httpFloor = await withProcess(
      [`${root}bench/serve/naive-server.js`],
      { MODE: "constant", PORT: String(port) },
      `http://127.0.0.1:${port}/v2/health/live`,
      { url: `http://127.0.0.1:${port}/v2/models/${name}/infer`, body },
      (pid) =>
        withCpu(pid, () =>
          autocannon(`http://127.0.0.1:${port}/v2/models/${name}/infer`, body, 32, duration),
        ),
    );
    port = await freePort();
    r.naive = await withProcess(
      [`${root}bench/serve/naive-server.js`],
      { MODE: "naive", PORT: String(port), MODEL: join(dir, "model.onnx") },
      `http://127.0.0.1:${port}/v2/health/live`,
      { url: `http://127.0.0.1:${port}/v2/models/${name}/infer`, body },
      (pid) =>
        withCpu(pid, () =>
          autocannon(`http://127.0.0.1:${port}/v2/models/${name}/infer`, body, 32, duration),
        ),
    );
    port = await freePort();
    const grpcPort = await freePort();
    const serveArgs = [
      `${root}bin/stackwright.js`,
      "serve",
      "--models",
      join(work, "models"),
      "--port",
      String(port),
      "--device",
      device,
      "--max-batch-size",
      "64",
      "--max-queue-delay-ms",
      "1",
      "--grpc-port",
      String(grpcPort),
      ...serveExtra,
    ];
    const infer = `http://127.0.0.1:${port}/v2/models/${name}/infer`;
    await withProcess(
      serveArgs,
      {},
      `http://127.0.0.1:${port}/v2/health/ready`,
      { url: infer, body },
      async (pid) => {
        // where the server placed the model, and the figures it decided on
        const { parameters } = await (await fetch(`http://127.0.0.1:${port}/v2/models/${name}`)).json();
        r.placement = {
          placement: parameters.placement,
          reason: parameters.placement_reason,
          batchUs: parameters.placement_batch_us,
          handoffUs: parameters.placement_handoff_us,
        };
        // throughput alone first (a second load generator would take CPU from the server on 2 cores)
        r.stackwright = await withCpu(pid, () => autocannon(infer, body, 32, duration));
        // the same server over gRPC, after the same warm-up
        if (h2load) {
          const metricsUrl = `http://127.0.0.1:${port}/metrics`;
          await grpcLoad(grpcPort, name, width, 32, WARMUP_SECONDS, metricsUrl);
          r.stackwrightGrpc = await withCpu(pid, () =>
            grpcLoad(grpcPort, name, width, 32, duration, metricsUrl),
          );
        }
        // then /v2/health/live latency while the model is saturated
        const [, health] = await Promise.all([
          autocannon(infer, body, 32, Math.max(3, duration / 2)),
          autocannon(`http://127.0.0.1:${port}/v2/health/live`, undefined, 1, Math.max(3, duration / 2)),
        ]);
        r.healthWhileSaturated = { p50Ms: health.p50Ms, p99Ms: health.p99Ms, non2xx: health.non2xx };
        r.overload2x = await autocannon(infer, body, 64, Math.max(3, duration / 2));
      },
    );
    r.ratios = {
      stackwrightVsHttpFloor: ratio(r.stackwright.reqPerSec, r.httpFloor.reqPerSec),
      stackwrightVsNaive: ratio(r.stackwright.reqPerSec, r.naive.reqPerSec),
      p99StackwrightVsNaive: ratio(r.stackwright.p99Ms, Math.max(0.01, r.naive.p99Ms)),
      ...(r.stackwrightGrpc
        ? { grpcVsRest: ratio(r.stackwrightGrpc.reqPerSec, r.stackwright.reqPerSec) }
        : {}),
    };
    return r;
  };
  // this machine's neighbours move single runs by +-15%: every ratio is the median over rounds, each
  // round measuring the baselines and stackwright within the same half minute
  const rounds = [];
  for (let i = 0; i < roundCount; i++) {
    rounds.push(await round());
    process.stderr.write(`${name} round ${i + 1}/${roundCount}: ${JSON.stringify(rounds.at(-1).ratios)}\n`);
  }
  const r = { rounds };

  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [device === "auto" ? "cpu" : device],
  });
  r.rawSessionRun = {};
  for (const batch of [1, 8, 32, 128, 512]) {
    const data = new Float32Array(batch * width).map((_, i) => Math.sin(i));
    const tensor = new ort.Tensor("float32", data, [batch, width]);
    for (let i = 0; i < 5; i++) await session.run({ input: tensor });
    const start = performance.now();
    let runs = 0;
    while (performance.now() - start < 1500) {
      await session.run({ input: tensor });
      runs++;
    }
    r.rawSessionRun[batch] = {
      rowsPerSec: Math.round((runs * batch) / ((performance.now() - start) / 1000)),
    };
  }
  r.ratios = Object.fromEntries(
    Object.keys(rounds[0].ratios).map((k) => [k, median(rounds.map((x) => x.ratios[k]))]),
  );
  // the most stackwrightVsNaive can be on this machine: ONNX Runtime's best batched rate in this
  // process, with no HTTP, no JSON and no load generator beside it, over each round's naive server
  const bestRaw = Math.max(...Object.values(r.rawSessionRun).map((x) => x.rowsPerSec));
  r.rawBatchedVsNaive = median(rounds.map((x) => ratio(bestRaw, x.naive.reqPerSec)));
  // each server's CPU time per answered request (medians over rounds): its efficiency, apart from
  // how the cores were shared with the load generator
  r.serverCpuUsPerRequest = Object.fromEntries(
    ["httpFloor", "naive", "stackwright", "stackwrightGrpc"]
      .map((k) => [k, rounds.map((x) => x[k]?.serverCpuUsPerRequest)])
      .filter(([, values]) => values.every((v) => v !== undefined))
      .map(([k, values]) => [k, median(values)]),
  );
  r.healthWhileSaturatedP99Ms = Math.max(...rounds.map((x) => x.healthWhileSaturated.p99Ms));
  results.models[name] = r;
  process.stderr.write(
    `${name}: ${JSON.stringify(r.ratios)}; raw batched vs naive ${r.rawBatchedVsNaive}; CPU us/request ${JSON.stringify(r.serverCpuUsPerRequest)}\n`,
  );
}
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(
  flag("--out") ?? `${root}bench/results/serve-${device}.json`,
  `${JSON.stringify(results, null, 2)}\n`,
);
console.log(JSON.stringify(results, null, 2));
