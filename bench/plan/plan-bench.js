#!/usr/bin/env node
// Benchmark of `stackwright plan`: cold CLI start to exit on every example, side by side with
// `node -e ""` (the floor any Node CLI pays), interleaved so machine noise hits both alike; and
// plans per second in-process. Target: cold plan within 4x of `node -e ""`.
// Run after `npm run build`: node bench/plan/plan-bench.js [--runs N]
import "../runtime.js";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 15;
const examples = readdirSync(`${root}/examples`)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

function time(args) {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const baseline = [];
const cold = Object.fromEntries(examples.map((e) => [e, []]));
time(["-e", ""]); // warm the file cache for both
for (const e of examples) time(["bin/stackwright.js", "plan", "--spec", `examples/${e}`, "--format", "json"]);
for (let i = 0; i < runs; i++) {
  for (const e of examples) {
    baseline.push(time(["-e", ""]));
    cold[e].push(time(["bin/stackwright.js", "plan", "--spec", `examples/${e}`, "--format", "json"]));
  }
}

const { loadDefaultRuleSet, createPlan } = await import(`${root}/dist/src/plan/index.js`);
const { loadSpecFile } = await import(`${root}/dist/src/requirements/index.js`);
const ruleSet = loadDefaultRuleSet();
const specs = [];
for (const e of examples) specs.push((await loadSpecFile(`${root}/examples/${e}`)).spec);
for (let i = 0; i < 50; i++) for (const spec of specs) createPlan(spec, { ruleSet });
const iterations = 400;
const start = performance.now();
for (let i = 0; i < iterations; i++) for (const spec of specs) createPlan(spec, { ruleSet });
const seconds = (performance.now() - start) / 1000;

const baselineMs = median(baseline);
const result = {
  benchmark: "plan",
  node: process.version,
  runsPerExample: runs,
  baseline: { command: 'node -e ""', medianMs: Math.round(baselineMs * 10) / 10 },
  coldPlan: Object.fromEntries(
    examples.map((e) => {
      const ms = median(cold[e]);
      return [
        e,
        { medianMs: Math.round(ms * 10) / 10, ratioToBaseline: Math.round((ms / baselineMs) * 100) / 100 },
      ];
    }),
  ),
  inProcess: { plansPerSecond: Math.round((iterations * specs.length) / seconds), specs: specs.length },
  target: 'cold plan <= 4x node -e ""',
};
const worst = Math.max(...Object.values(result.coldPlan).map((c) => c.ratioToBaseline));
result.worstRatio = worst;
result.meetsTarget = worst <= 4;
mkdirSync(`${root}/bench/results`, { recursive: true });
writeFileSync(`${root}/bench/results/plan.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
