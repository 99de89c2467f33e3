#!/usr/bin/env node
// `npm run bench`: every benchmark, one after the other, results in bench/results/*.json.
import "./runtime.js";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const script of [
  "bench/plan/plan-bench.js",
  "bench/generate/generate-bench.js",
  "bench/serve/serve-bench.js",
  "bench/serve/pipeline-micro.js",
  "bench/serve/handoff-bench.js",
  "bench/capacity/cpu-bench.js",
]) {
  process.stderr.write(`\n== ${script}\n`);
  const r = spawnSync(process.execPath, [script], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
