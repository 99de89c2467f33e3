#!/usr/bin/env node
// `score` throughput on the large model (256->2048x3->1) against the limit: raw in-process
// session.run at the same batch size, measured in the same run. Target: at least 0.8 of the limit.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";

const root = fileURLToPath(new URL("../..", import.meta.url));
const { buildMlp } = await import(`${root}dist/src/serve/onnx-build.js`);
const dir = mkdtempSync(join(tmpdir(), "sw-score-bench-"));
const bytes = buildMlp({ layers: [256, 2048, 2048, 2048, 1], sigmoid: true, seed: 11 });
writeFileSync(join(dir, "model.onnx"), bytes);
const rows = 200_000;
const batch = 256;
// the input, written by DuckDB straight to Parquet (batch inputs are usually Parquet)
const { DuckDBInstance } = await import("@duckdb/node-api");
const duck = await (await DuckDBInstance.create(":memory:")).connect();
const columns = Array.from({ length: 256 }, (_, i) => `round(sin(i + ${i}), 3)::FLOAT AS f${i}`).join(", ");
await duck.run(
  `COPY (SELECT i AS id, ${columns} FROM range(${rows}) t(i)) TO '${join(dir, "in.parquet")}' (FORMAT parquet)`,
);

const session = await ort.InferenceSession.create(bytes);
const data = new Float32Array(batch * 256).map((_, i) => Math.sin(i));
const tensor = new ort.Tensor("float32", data, [batch, 256]);
for (let i = 0; i < 3; i++) await session.run({ input: tensor });
let start = performance.now();
let runs = 0;
while (performance.now() - start < 5000) {
  await session.run({ input: tensor });
  runs++;
}
const limit = Math.round((runs * batch) / ((performance.now() - start) / 1000));

start = performance.now();
const r = spawnSync(
  process.execPath,
  [
    `${root}bin/stackwright.js`,
    "score",
    "--model",
    `m=${join(dir, "model.onnx")}`,
    "--input",
    join(dir, "in.parquet"),
    "--output",
    join(dir, "out"),
    "--batch-size",
    String(batch),
    "--part-rows",
    "10000",
    "--json",
  ],
  { encoding: "utf8" },
);
if (r.status !== 0) throw new Error(r.stderr);
const summary = JSON.parse(r.stdout);
const result = {
  benchmark: "score",
  model: "256->2048x3->1",
  rows,
  batchSize: batch,
  rawSessionRunRowsPerSecond: limit,
  scoreRowsPerSecond: summary.rowsPerSecond,
  scoreWallSeconds: Math.round((performance.now() - start) / 10) / 100,
  ratioToLimit: Math.round((summary.rowsPerSecond / limit) * 100) / 100,
  target: 0.8,
};
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/score.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
