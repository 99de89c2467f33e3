/**
 * Compliance control mapping: for each framework in the spec, every control of its catalog with the
 * decisions that satisfy it and the evidence that implements it. A control is `implemented` only when
 * every mechanism it needs (its catalog's `needs`, plus what its deciding choices claim: mTLS,
 * External Secrets, an attached WAF) is found in the generated tree; otherwise it is the customer's,
 * with what they must do. A control whose requirement the decisions do not meet is an error.
 */
import type { ControlCatalog, MechanismName } from "../engine/index.js";
import type { Inventory } from "../infra/index.js";
import type { ResolvedSpec } from "../requirements/index.js";
import { CLAIMS, evidenceFor, NOT_GENERATED } from "./evidence.js";
import type { Control, Evidence, PlanWarning } from "./types.js";

export function mapControls(
  spec: ResolvedSpec,
  catalogs: ControlCatalog[],
  choices: Record<string, string>,
  inventory: Inventory | null,
): { controls: Control[]; warnings: PlanWarning[] } {
  const controls: Control[] = [];
  const warnings: PlanWarning[] = [];
  const ctx = { spec, choices, inventory };
  for (const catalog of catalogs) {
    if (!spec.compliance.includes(catalog.framework)) continue;
    for (const control of catalog.controls) {
      if (control.appliesWhen) {
        const [capability, allowed] = control.appliesWhen.split("=");
        if (!allowed.split("|").includes(choices[capability])) continue;
      }
      const unmet: string[] = [];
      const needs = new Set<MechanismName>(control.needs);
      const satisfiedBy = control.satisfiedBy.map((ref) => {
        const [capability, allowed] = ref.split("=");
        const choice = choices[capability];
        const ok = allowed ? allowed.split("|").includes(choice) : choice !== undefined && choice !== "none";
        if (!ok) unmet.push(`${ref} (decided: ${capability}=${choice})`);
        for (const claimed of CLAIMS[`${capability}=${choice}`] ?? []) needs.add(claimed);
        return `${capability}=${choice}`;
      });
      const evidence: Evidence[] = [];
      const missing: MechanismName[] = [];
      for (const mechanism of needs) {
        const found = evidenceFor(mechanism, ctx);
        if (found.length === 0) missing.push(mechanism);
        for (const e of found)
          if (!evidence.some((x) => x.file === e.file && x.locator === e.locator)) evidence.push(e);
      }
      controls.push({
        framework: catalog.framework,
        id: control.id,
        title: control.title,
        satisfiedBy,
        ...(missing.length === 0
          ? { status: "implemented" as const, evidence }
          : {
              status: "customer" as const,
              evidence,
              customer: `${control.customer}: ${missing.map((m) => NOT_GENERATED[m]).join("; ")}`,
            }),
      });
      if (unmet.length > 0) {
        warnings.push({
          code: "CONTROL_UNSATISFIED",
          severity: "error",
          path: "compliance",
          message: `${catalog.title} ${control.id} (${control.title}) needs ${unmet.join(", ")}`,
          suggestion:
            "the rules should have chosen it: check rule priorities, or an override that removed it",
        });
      }
    }
  }
  return { controls, warnings };
}
