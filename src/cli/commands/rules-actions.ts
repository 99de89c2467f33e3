import { RuleSetError } from "../../engine/index.js";
import { loadDefaultRuleSet, loadRuleSetFrom } from "../../plan/index.js";
import { type LintFinding, lintRuleSet } from "../../plan/lint.js";
import { EXIT } from "../errors.js";
import type { CliIo } from "../io.js";

export async function runRulesLint(io: CliIo, dir: string | undefined, json: boolean): Promise<number> {
  let findings: LintFinding[];
  let summary = "";
  try {
    const ruleSet = dir ? loadRuleSetFrom(dir) : loadDefaultRuleSet();
    findings = lintRuleSet(ruleSet);
    const ruleCount = [...ruleSet.rules.values()].reduce((n, list) => n + list.length, 0);
    summary = `${ruleCount} rules over ${ruleSet.capabilities.length} capabilities in ${ruleSet.files.length} files (rule set ${ruleSet.version})`;
  } catch (error) {
    if (!(error instanceof RuleSetError)) throw error;
    findings = error.problems.map((p) => ({
      severity: "error" as const,
      file: p.file,
      ruleId: p.ruleIds.join(", ") || undefined,
      message: p.message,
    }));
  }
  const errors = findings.filter((f) => f.severity === "error");
  if (json) io.out(`${JSON.stringify({ ok: errors.length === 0, findings }, null, 2)}\n`);
  else {
    for (const f of findings)
      io.out(`${f.severity} ${f.file}${f.ruleId ? ` [${f.ruleId}]` : ""}: ${f.message}\n`);
    io.out(errors.length === 0 ? `ok: ${summary}\n` : `${errors.length} problem(s)\n`);
  }
  return errors.length === 0 ? EXIT.ok : EXIT.findings;
}
