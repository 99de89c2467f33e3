#!/usr/bin/env node
// Regenerates generated-examples/<name>/ for every spec in examples/ (after `npm run build`).
// The test suite runs `generate --check` against these directories and fails when they are stale.
// Also writes examples/stackwright.schema.json, the schema the examples' $schema comments name.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const file of readdirSync(`${root}examples`).filter((f) => f.endsWith(".yaml")).sort()) {
  const name = file.replace(/\.yaml$/, "");
  const result = spawnSync(process.execPath, [`${root}bin/stackwright.js`, "generate", "--spec", `examples/${file}`, "--out", `generated-examples/${name}`, "--force"], { cwd: root, encoding: "utf8" });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const schema = spawnSync(process.execPath, [`${root}bin/stackwright.js`, "schema"], { cwd: root, encoding: "utf8" });
if (schema.status !== 0) {
  process.stderr.write(schema.stderr);
  process.exit(schema.status ?? 1);
}
writeFileSync(`${root}examples/stackwright.schema.json`, schema.stdout);

// the examples' costs side by side, with every price row they use (docs/cost-audit.md)
const { planSpecFile } = await import(`${root}dist/src/plan/index.js`);
const { formatCostAudit } = await import(`${root}dist/src/plan/format.js`);
const plans = [];
for (const file of readdirSync(`${root}examples`).filter((f) => f.endsWith(".yaml")).sort())
  plans.push((await planSpecFile(`${root}examples/${file}`)).plan);
mkdirSync(`${root}docs`, { recursive: true });
writeFileSync(`${root}docs/cost-audit.md`, formatCostAudit(plans));
