#!/usr/bin/env node
// Where a microsecond model's batches should run (run after `npm run build`):
//   npx node bench/serve/handoff-bench.js [--rounds 3] [--duration 6]  -> bench/results/serve-handoff.json
// One bare node:http server (no routing, checks or metrics: what is measured is the hand-off alone),
// the serving bench's small model (32->256->1), batches gathered per event-loop turn as the serving
// core does on the loop, run three ways:
//   loop      ONNX Runtime on the event loop (the serving core's placement for this model)
//   message   in a worker thread, inputs and outputs by postMessage (transferred buffers)
//   atomics   in a worker thread waiting in Atomics.wait on a SharedArrayBuffer; the loop writes the
//             batch into it, Atomics.notify, and awaits Atomics.waitAsync for the answer
// autocannon in a separate process, 32 connections; per mode: req/s, p99, the whole process's CPU
// per request (/proc/<pid>/stat) and the event loop's own (process.threadCpuUsage). The question it
// answers: does taking the model off the loop free the loop's CPU for more requests?
import "../runtime.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { autocannon, cpuSeconds, flag, freePort, inferBody, median } from "./load.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const { buildMlp } = await import(`${root}dist/src/serve/onnx-build.js`);
const { openSession, runSession } = await import(`${root}dist/src/serve/ort-session.js`);
const WIDTH = 32;
const MAX_ROWS = 64;
const MODES = ["loop", "message", "atomics"];

/** The shared region: [state, rows] then the input rows, then one output per row. */
const region = (sab) => ({
  control: new Int32Array(sab, 0, 2),
  input: new Float32Array(sab, 8, MAX_ROWS * WIDTH),
  output: new Float32Array(sab, 8 + MAX_ROWS * WIDTH * 4, MAX_ROWS),
});
const IDLE = 0;
const REQUEST = 1;
const DONE = 2;
// a worker's outputs get buffers of their own (they cross threads); the loop's are used in place
const run = async (session, data, rows) =>
  new Float32Array(
    Object.values(
      await runSession(
        session,
        { input: { type: "float32", dims: [rows, WIDTH], buffer: data.buffer } },
        !isMainThread,
      ),
    )[0].buffer,
  );

if (!isMainThread) {
  // the worker: one session, one thread, as the serving core's workers open it
  const session = await openSession(workerData.bytes, ["cpu"], 1);
  parentPort.postMessage("ready");
  if (workerData.mode === "message") {
    parentPort.on("message", async ({ data, rows }) => {
      const out = await run(session, data, rows);
      parentPort.postMessage(out, [out.buffer]);
    });
  } else {
    const { control, input, output } = region(workerData.sab);
    for (;;) {
      for (let state = Atomics.load(control, 0); state !== REQUEST; state = Atomics.load(control, 0))
        Atomics.wait(control, 0, state);
      const rows = control[1];
      output.set(await run(session, input.slice(0, rows * WIDTH), rows));
      Atomics.store(control, 0, DONE);
      Atomics.notify(control, 0);
    }
  }
} else if (process.env.HANDOFF_MODE) {
  await serve(process.env.HANDOFF_MODE, Number(process.env.HANDOFF_PORT));
} else {
  await drive();
}

/** The server under test: answers every POST with its row's output, batching per loop turn. */
async function serve(mode, port) {
  const bytes = buildMlp({ layers: [WIDTH, 256, 1], sigmoid: true, seed: 11 });
  let execute;
  if (mode === "loop") {
    const session = await openSession(bytes, ["cpu"], 1);
    execute = (data, rows) => run(session, data, rows);
  } else {
    const sab = new SharedArrayBuffer(8 + MAX_ROWS * WIDTH * 4 + MAX_ROWS * 4);
    const worker = new Worker(new URL(import.meta.url), { workerData: { bytes, sab, mode } });
    await new Promise((resolve) => worker.once("message", resolve));
    if (mode === "message") {
      let answer;
      worker.on("message", (out) => answer(out));
      execute = (data, rows) =>
        new Promise((resolve) => {
          answer = resolve;
          worker.postMessage({ data, rows }, [data.buffer]);
        });
    } else {
      const { control, input, output } = region(sab);
      execute = async (data, rows) => {
        input.set(data);
        control[1] = rows;
        Atomics.store(control, 0, REQUEST);
        Atomics.notify(control, 0);
        const wait = Atomics.waitAsync(control, 0, REQUEST);
        if (wait.async) await wait.value;
        Atomics.store(control, 0, IDLE);
        return output.slice(0, rows);
      };
    }
  }
  const queue = [];
  let busy = false;
  let armed = false;
  const arm = () => {
    if (armed || busy || queue.length === 0) return;
    armed = true;
    setImmediate(flush);
  };
  const flush = () => {
    armed = false;
    const batch = queue.splice(0, MAX_ROWS);
    const data = new Float32Array(batch.length * WIDTH);
    for (let i = 0; i < batch.length; i++) data.set(batch[i].row, i * WIDTH);
    busy = true;
    execute(data, batch.length).then((out) => {
      for (let i = 0; i < batch.length; i++) batch[i].answer(out[i]);
      busy = false;
      arm();
    });
  };
  const server = createServer((req, res) => {
    if (req.method === "GET") {
      res.end(JSON.stringify(process.threadCpuUsage()));
      return;
    }
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const row = JSON.parse(Buffer.concat(chunks).toString()).inputs[0].data;
      queue.push({
        row,
        answer: (value) => {
          const body = JSON.stringify({
            outputs: [{ name: "output", datatype: "FP32", shape: [1, 1], data: [value] }],
          });
          res.writeHead(200, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          });
          res.end(body);
        },
      });
      arm();
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  process.stdout.write("ready\n");
}

async function drive() {
  const rounds = Number(flag("--rounds")) || 3;
  const duration = Number(flag("--duration")) || 6;
  const body = inferBody(WIDTH);
  const measure = async (mode, port) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, HANDOFF_MODE: mode, HANDOFF_PORT: String(port) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise((resolve) => child.stdout.once("data", resolve));
      const url = `http://127.0.0.1:${port}/`;
      const loopCpu = async () => {
        const { user, system } = await (await fetch(url)).json();
        return user + system;
      };
      await autocannon(url, body, 32, 2);
      const [cpu0, loop0] = [cpuSeconds(child.pid), await loopCpu()];
      const r = await autocannon(url, body, 32, duration);
      const [cpu1, loop1] = [cpuSeconds(child.pid), await loopCpu()];
      const n = r.requests;
      return {
        reqPerSec: r.reqPerSec,
        p99Ms: r.p99Ms,
        processCpuUsPerRequest: Math.round(((cpu1 - cpu0) * 1e6 * 10) / n) / 10,
        eventLoopCpuUsPerRequest: Math.round(((loop1 - loop0) / n) * 10) / 10,
        non2xx: r.non2xx,
      };
    } finally {
      // gone before the next mode starts: a server still exiting would share the cores with it
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }
    }
  };
  const results = {
    machine: { cpus: availableParallelism(), node: process.version },
    durationSeconds: duration,
    connections: 32,
    rounds: [],
  };
  for (let i = 0; i < rounds; i++) {
    const round = {};
    // alternate the order, so a machine that slows during the run favours no mode
    for (const mode of i % 2 === 0 ? MODES : [...MODES].reverse())
      round[mode] = await measure(mode, await freePort());
    results.rounds.push(round);
    process.stderr.write(`round ${i + 1}/${rounds}: ${JSON.stringify(round)}\n`);
  }
  results.medians = Object.fromEntries(
    MODES.map((mode) => [
      mode,
      Object.fromEntries(
        ["reqPerSec", "p99Ms", "processCpuUsPerRequest", "eventLoopCpuUsPerRequest"].map((k) => [
          k,
          median(results.rounds.map((r) => r[mode][k])),
        ]),
      ),
    ]),
  );
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/serve-handoff.json`, `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results.medians, null, 2));
}
