#!/usr/bin/env node
// Generation benchmark (after `npm run build`): generate for every example (in-process, pure
// generation + validation), files per second, and the CLI's `generate --check` wall time against a
// committed generated-examples/ tree, side by side with `node -e ""` in the same run.
import "../runtime.js";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const { planSpecFile } = await import(`${root}dist/src/plan/index.js`);
const { generateAll } = await import(`${root}dist/src/generate/index.js`);
const { validateFileSet } = await import(`${root}dist/src/validate/index.js`);
const examples = readdirSync(`${root}examples`)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const plans = [];
for (const e of examples) plans.push((await planSpecFile(`${root}examples/${e}`)).plan);

for (const plan of plans) generateAll(plan); // warm-up
const rounds = 20;
let files = 0;
let start = performance.now();
for (let i = 0; i < rounds; i++) for (const plan of plans) files += Object.keys(generateAll(plan)).length;
const generateSeconds = (performance.now() - start) / 1000;

start = performance.now();
let validated = 0;
for (const plan of plans) {
  const set = generateAll(plan);
  validated += Object.keys(set).length;
  const problems = await validateFileSet(set);
  if (problems.length) throw new Error(`validation problems: ${problems.length}`);
}
const validateSeconds = (performance.now() - start) / 1000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (args) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: "ignore" });
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
  return performance.now() - t;
};
const baseline = [];
const check = [];
for (let i = 0; i < 5; i++) {
  baseline.push(time(["-e", ""]));
  check.push(
    time([
      "bin/stackwright.js",
      "generate",
      "--spec",
      "examples/fraud-detection.yaml",
      "--out",
      "generated-examples/fraud-detection",
      "--check",
    ]),
  );
}
const result = {
  benchmark: "generate",
  node: process.version,
  examples: examples.length,
  generate: {
    files,
    seconds: Math.round(generateSeconds * 1000) / 1000,
    filesPerSecond: Math.round(files / generateSeconds),
  },
  generateAndValidate: {
    files: validated,
    seconds: Math.round(validateSeconds * 1000) / 1000,
    filesPerSecond: Math.round(validated / validateSeconds),
  },
  checkFraudExample: {
    medianMs: Math.round(median(check)),
    baselineNodeMs: Math.round(median(baseline)),
    ratio: Math.round((median(check) / median(baseline)) * 10) / 10,
  },
};
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/generate.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
