#!/usr/bin/env node
// Build step: parse and check rules/ once (schemas, references, inputs, conflicts) and store the
// validated files in dist/rules.snapshot.json, keyed by the hash of the rule files. A cold
// `stackwright plan` then skips YAML parsing and schema validation; any edit to rules/ changes the
// hash and the loader validates afresh.
import { fileURLToPath } from "node:url";
import { writeIfChanged } from "./write-if-changed.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const { defaultRulesDir, loadRuleSet, RuleSetError, validateRuleFiles } = await import(
  `${root}dist/src/engine/index.js`
);
const { specInputs } = await import(`${root}dist/src/plan/index.js`);
try {
  loadRuleSet({ dir: defaultRulesDir(), knownInputs: specInputs() });
} catch (error) {
  if (!(error instanceof RuleSetError)) throw error;
  for (const p of error.problems) process.stderr.write(`rules/${p.file}: ${p.message}\n`);
  process.stderr.write("rules/ has problems: no snapshot written (run `stackwright rules lint`)\n");
  process.exit(0);
}
writeIfChanged(`${root}dist/rules.snapshot.json`, JSON.stringify(validateRuleFiles(defaultRulesDir())));
