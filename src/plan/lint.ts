/**
 * `rules lint`: beyond the loader's schema and cross-checks, every rule must win on each of its
 * `match` examples and lose on each `nearMiss`, so a rule that can never fire, or fires too widely,
 * is caught with its id.
 */
import type { RuleSet } from "../engine/index.js";
import { formatProblem, parseSpecValue } from "../requirements/index.js";
import { createPlan } from "./index.js";

export interface LintFinding {
  severity: "error" | "warning";
  file: string;
  ruleId?: string;
  message: string;
}

export function exampleSpecValue(fragment: Record<string, unknown>): Record<string, unknown> {
  return deepMerge({ metadata: { name: "example" } }, fragment);
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      value && typeof value === "object" && !Array.isArray(value) && current && typeof current === "object"
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

export interface ExampleResult {
  ruleId: string;
  kind: "match" | "nearMiss";
  index: number;
  winner: string;
  ok: boolean;
  message?: string;
}

export function checkRuleExamples(ruleSet: RuleSet): ExampleResult[] {
  const results: ExampleResult[] = [];
  for (const rules of ruleSet.rules.values()) {
    for (const rule of rules) {
      for (const kind of ["match", "nearMiss"] as const) {
        rule.examples[kind].forEach((fragment, index) => {
          const parsed = parseSpecValue(exampleSpecValue(fragment));
          if (!parsed.ok) {
            results.push({
              ruleId: rule.id,
              kind,
              index,
              winner: "",
              ok: false,
              message: `example is not a valid spec: ${parsed.problems.map(formatProblem).join("; ")}`,
            });
            return;
          }
          const plan = createPlan(parsed.spec, { ruleSet });
          const winner = plan.decisions.find((d) => d.capability === rule.capability)?.rule ?? "";
          const ok = kind === "match" ? winner === rule.id : winner !== rule.id;
          results.push({
            ruleId: rule.id,
            kind,
            index,
            winner,
            ok,
            message: ok
              ? undefined
              : kind === "match"
                ? `match example ${index + 1} is decided by ${winner}, not by this rule`
                : `nearMiss example ${index + 1} is still decided by this rule`,
          });
        });
      }
    }
  }
  return results;
}

export function lintRuleSet(ruleSet: RuleSet): LintFinding[] {
  const findings: LintFinding[] = [];
  const fileOf = new Map<string, string>();
  for (const rules of ruleSet.rules.values()) for (const r of rules) fileOf.set(r.id, r.file);
  for (const result of checkRuleExamples(ruleSet)) {
    if (!result.ok) {
      findings.push({
        severity: "error",
        file: fileOf.get(result.ruleId) ?? "",
        ruleId: result.ruleId,
        message: result.message ?? "",
      });
    }
  }
  for (const [capability, entry] of Object.entries(ruleSet.catalog.capabilities)) {
    const chosen = new Set(
      (ruleSet.rules.get(capability) ?? []).flatMap((r) => [r.choice, ...(r.openChoices ?? [])]),
    );
    for (const choice of Object.keys(entry.patterns)) {
      if (!chosen.has(choice)) {
        findings.push({
          severity: "warning",
          file: "patterns.yaml",
          message: `pattern ${capability}=${choice} is chosen by no rule (alternatives only)`,
        });
      }
    }
  }
  return findings;
}
