#!/usr/bin/env node
// Build step: parse and schema-check rules/ once and store the result in dist/rules.snapshot.json,
// keyed by the hash of the rule files. A cold `stackwright plan` then skips YAML parsing and schema
// validation of the rules; any edit to rules/ changes the hash and the loader validates afresh.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const { defaultRulesDir, validateRuleFiles } = await import(`${root}dist/src/engine/load.js`);
const validated = validateRuleFiles(defaultRulesDir());
if (validated.problems.length > 0) {
  for (const p of validated.problems) process.stderr.write(`rules/${p.file}: ${p.message}\n`);
  process.stderr.write("rules/ has problems: no snapshot written (run `stackwright rules lint`)\n");
  process.exit(0);
}
mkdirSync(`${root}dist`, { recursive: true });
writeFileSync(`${root}dist/rules.snapshot.json`, JSON.stringify(validated));
