#!/usr/bin/env node
// Where a small-model request's microseconds go inside the serving core, without HTTP (run after
// `npm run build`): node bench/serve/pipeline-micro.js   -> bench/results/serve-pipeline.json
// Times, on one core, the parts of the request path for the bench's small model (32->256->1):
// parsing the OIP body, decoding the input, the request counter and latency histogram, encoding the
// response, the batcher on the event loop (32 requests per loop turn, with and without the deadline
// timer) and one ONNX Runtime call at 1, 16 and 32 rows.
import "../runtime.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dist = `${root}dist/src/serve/`;
const { buildMlp } = await import(`${dist}onnx-build.js`);
const { decodeInputs, encodeOutputs } = await import(`${dist}pipeline.js`);
const { Observability } = await import(`${dist}observability.js`);
const { openExecutor, zeroFeeds } = await import(`${dist}execution.js`);
const { Batcher } = await import(`${dist}batcher.js`);
const { openSession, runSession } = await import(`${dist}ort-session.js`);

const bytes = buildMlp({ layers: [32, 256, 1], sigmoid: true, seed: 11 });
const body = JSON.stringify({
  inputs: [
    {
      name: "input",
      shape: [1, 32],
      datatype: "FP32",
      data: Array.from({ length: 32 }, (_, i) => Math.sin(i)),
    },
  ],
});
const results = {};
const N = 200_000;
const time = (label, fn) => {
  for (let i = 0; i < 2000; i++) fn(i);
  const started = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  results[label] = Math.round(((performance.now() - started) * 1000 * 1000) / N) / 1000;
};

const opened = await openExecutor({
  key: "micro",
  bytes,
  device: "cpu",
  mode: "event-loop",
  batchRows: 64,
  pool: () => {
    throw new Error("the micro-benchmark runs on the event loop only");
  },
});
const loaded = { inputsByName: new Map(opened.inputs.map((i) => [i.name, i])) };
time("parseBodyUs", () => JSON.parse(body));
const parsed = JSON.parse(body);
time("decodeInputsUs", () => decodeInputs(loaded, parsed.inputs));
const observability = new Observability();
time("countAndLatencyUs", () => {
  observability.count("small", "1", 200);
  observability.latency("small", 0.001);
});
const outputs = {
  output: { type: "float32", dims: [1, 1], buffer: new Float32Array([0.5]).buffer, offset: 0 },
};
time("encodeAndStringifyUs", () =>
  JSON.stringify({ model_name: "small", model_version: "1", outputs: encodeOutputs(outputs, undefined) }),
);
const batcher = new Batcher(opened.executor, {
  enabled: true,
  maxBatchSize: 64,
  maxQueueDelayMs: 1,
  maxQueue: 4096,
  gather: "turn",
});
const decoded = decodeInputs(loaded, parsed.inputs);
for (const [label, timeoutMs] of [
  ["batcherPerRequestWithDeadlineUs", 1000],
  ["batcherPerRequestUs", undefined],
]) {
  const started = performance.now();
  let n = 0;
  while (n < 100_000) {
    const pending = [];
    for (let i = 0; i < 32; i++) pending.push(batcher.submit(1, decoded.feeds, timeoutMs));
    await Promise.all(pending);
    n += 32;
  }
  results[label] = Math.round(((performance.now() - started) * 1000 * 1000) / n) / 1000;
}
await opened.executor.close();
const session = await openSession(bytes, ["cpu"], 1);
for (const rows of [1, 16, 32]) {
  const feeds = zeroFeeds(opened.inputs, rows);
  for (let i = 0; i < 200; i++) await runSession(session, feeds, false);
  const started = performance.now();
  for (let i = 0; i < 5000; i++) await runSession(session, feeds, false);
  results[`onnxRuntimeCall${rows}RowsUs`] =
    Math.round(((performance.now() - started) * 1000 * 100) / 5000) / 100;
}
await session.release();
const text = `${JSON.stringify({ node: process.version, ...results }, null, 2)}\n`;
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/serve-pipeline.json`, text);
process.stdout.write(text);
