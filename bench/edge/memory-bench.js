#!/usr/bin/env node
// What the serving core holds in memory on a device: `stackwright serve` (as `edge run` runs it) with
// one model of each size, resident set size (VmRSS) once it is ready and has answered one request.
// The edge capacity model reads two figures from it (rules/models.yaml devices.runtime): the runtime's
// own memory (the intercept) and the memory per MB of model (the slope).
// Run: node bench/edge/memory-bench.js  ->  bench/results/edge-memory.json
import "../runtime.js";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const { buildMlp } = await import(join(ROOT, "dist/src/serve/onnx-build.js"));

async function measure(hidden) {
  const dir = mkdtempSync(join(tmpdir(), "sw-edge-mem-"));
  mkdirSync(join(dir, "m", "1"), { recursive: true });
  const model = buildMlp({ layers: [64, hidden, hidden, 1], seed: 1, sigmoid: true });
  writeFileSync(join(dir, "m", "1", "model.onnx"), model);
  writeFileSync(join(dir, "m", "1", "model.yaml"), "stage: production\n");
  const port = 18000 + Math.floor(Math.random() * 1000);
  const child = spawn(
    process.execPath,
    [join(ROOT, "bin/stackwright.js"), "serve", "--models", dir, "--port", String(port), "--device", "cpu"],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/v2/health/ready`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  await fetch(`${url}/v2/models/m/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      inputs: [{ name: "input", shape: [1, 64], datatype: "FP32", data: Array(64).fill(0.5) }],
    }),
  });
  await new Promise((r) => setTimeout(r, 500));
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))[1]) / 1024;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return { modelMb: Math.round((model.length / 1048576) * 100) / 100, rssMb: Math.round(rss * 10) / 10 };
}

const points = [];
for (const hidden of [16, 1024, 2048, 3072]) points.push(await measure(hidden));
// least squares: rss = intercept + slope * modelMb
const n = points.length;
const mx = points.reduce((s, p) => s + p.modelMb, 0) / n;
const my = points.reduce((s, p) => s + p.rssMb, 0) / n;
const slope =
  points.reduce((s, p) => s + (p.modelMb - mx) * (p.rssMb - my), 0) /
  points.reduce((s, p) => s + (p.modelMb - mx) ** 2, 0);
const result = {
  what: "resident memory of stackwright serve (one model, CPU, after one request) against the model's size",
  node: process.version,
  points,
  runtimeMb: Math.round((my - slope * mx) * 10) / 10,
  mbPerModelMb: Math.round(slope * 100) / 100,
};
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/edge-memory.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
