#!/usr/bin/env node
// The CPU figures the capacity model sizes from (src/plan/capacity.ts), measured on this machine
// through `stackwright calibrate`'s path (the serving core's session options and runSession):
//  - a convolutional network built in code (3x3 convolutions, 640 x 640 input, batch 1, 11.5 GFLOP)
//    and the large MLP (256->2048x3->1) at batch 64: effective fp32 GFLOP/s per vCPU, with one
//    ONNX Runtime thread and with every vCPU busy (the figure a replica's vCPUs multiply);
//  - the serving core's per-request time on its event loop (one thread) from
//    bench/results/serve-cpu.json (the small model's saturated req/s, the load generator on the same
//    cores: an upper bound).
// Reported side by side with the constants the plan uses, as ratios.
// --serve-only: after a new serving benchmark, refresh the per-request figure alone; the GFLOP/s
// figures stay those of the machine and run recorded beside them.
import "../runtime.js";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { median } from "../serve/load.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const { buildConvNet, buildMlp } = await import(`${root}dist/src/serve/onnx-build.js`);
const { calibrateModel } = await import(`${root}dist/src/serve/calibrate.js`);
const { CPU_GFLOPS_PER_VCPU, HTTP_OVERHEAD_MS } = await import(`${root}dist/src/plan/capacity.js`);

const vcpus = availableParallelism();
/** The two networks measured (built only when they are: --serve-only measures none). */
function measuredModels() {
  const conv = buildConvNet({
    imageSize: 640,
    layers: [
      [32, 2],
      [64, 2],
      [64, 1],
      [128, 2],
      [128, 1],
      [256, 2],
      [256, 1],
      [512, 2],
      [512, 1],
    ],
  });
  const mlpLayers = [256, 2048, 2048, 2048, 1];
  const mlpFlops = mlpLayers.slice(1).reduce((sum, out, i) => sum + 2 * mlpLayers[i] * out, 0);
  return [
    { name: "convnet-640", bytes: conv.bytes, flopsPerRow: conv.flopsPerImage, batch: 1 },
    {
      name: "mlp-256x2048x3",
      bytes: buildMlp({ layers: mlpLayers, seed: 11 }),
      flopsPerRow: mlpFlops,
      batch: 64,
    },
  ];
}

const serveOnly = process.argv.includes("--serve-only");
const committed = serveOnly
  ? JSON.parse(readFileSync(`${root}bench/results/capacity-cpu.json`, "utf8"))
  : undefined;
const results = committed?.models ?? {};
for (const model of serveOnly ? [] : measuredModels()) {
  results[model.name] = { gflopPerRow: model.flopsPerRow / 1e9, batch: model.batch };
  for (const threads of [...new Set([1, vcpus])]) {
    const calibration = await calibrateModel({
      bytes: model.bytes,
      file: `${model.name}.onnx`,
      device: "cpu",
      threads,
      batchSizes: [model.batch],
      millisecondsPerBatch: 3000,
      now: new Date(),
    });
    const b = calibration.batches[0];
    const perVcpu = (b.rowsPerSecond * model.flopsPerRow) / 1e9 / threads;
    results[model.name][`threads${threads}`] = {
      p50Ms: b.p50Ms,
      p99Ms: b.p99Ms,
      rowsPerSecond: b.rowsPerSecond,
      gflopsPerVcpu: Math.round(perVcpu * 10) / 10,
      vsConstant: Math.round((perVcpu / CPU_GFLOPS_PER_VCPU) * 100) / 100,
    };
    process.stderr.write(
      `${model.name}, batch ${model.batch}, ${threads} thread(s): ${perVcpu.toFixed(1)} GFLOP/s per vCPU (p50 ${b.p50Ms} ms)\n`,
    );
  }
}

// per-request CPU time of the serving core, from the serving benchmark's saturated small model
const serve = JSON.parse(readFileSync(`${root}bench/results/serve-cpu.json`, "utf8"));
const rounds = serve.models.small.rounds.map((r) => r.stackwright.reqPerSec);
const medianReqPerSec = median(rounds);
// one serving core, one event loop: every request passed through that one thread
const requestMs = 1000 / medianReqPerSec;

const out = {
  machine: committed?.machine ?? { cpu: cpus()[0]?.model.trim(), vcpus, node: process.version },
  constants: { CPU_GFLOPS_PER_VCPU, HTTP_OVERHEAD_MS },
  models: results,
  serveRequest: {
    source: `bench/results/serve-cpu.json: small model, stackwright serve saturated (median of ${rounds.length} rounds)`,
    reqPerSec: medianReqPerSec,
    vcpus: serve.machine.cpus,
    node: serve.machine.node,
    msPerRequestOnTheEventLoop: Math.round(requestMs * 10000) / 10000,
    vsConstant: Math.round((requestMs / HTTP_OVERHEAD_MS) * 100) / 100,
  },
};
writeFileSync(`${root}bench/results/capacity-cpu.json`, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
