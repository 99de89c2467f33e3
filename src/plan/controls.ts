/**
 * Compliance control mapping: for each framework in the spec, every control of its catalog with the
 * decisions that satisfy it. A control whose requirement the decisions do not meet is an error.
 */
import type { ControlCatalog } from "../engine/index.js";
import type { ResolvedSpec } from "../requirements/index.js";
import type { Control, PlanWarning } from "./types.js";

export function mapControls(
  spec: ResolvedSpec,
  catalogs: ControlCatalog[],
  choices: Record<string, string>,
): { controls: Control[]; warnings: PlanWarning[] } {
  const controls: Control[] = [];
  const warnings: PlanWarning[] = [];
  for (const catalog of catalogs) {
    if (!spec.compliance.includes(catalog.framework)) continue;
    for (const control of catalog.controls) {
      if (control.appliesWhen) {
        const [capability, allowed] = control.appliesWhen.split("=");
        if (!allowed.split("|").includes(choices[capability])) continue;
      }
      const unmet: string[] = [];
      const satisfiedBy = control.satisfiedBy.map((ref) => {
        const [capability, allowed] = ref.split("=");
        const choice = choices[capability];
        const ok = allowed ? allowed.split("|").includes(choice) : choice !== undefined && choice !== "none";
        if (!ok) unmet.push(`${ref} (decided: ${capability}=${choice})`);
        return `${capability}=${choice}`;
      });
      controls.push({ framework: catalog.framework, id: control.id, title: control.title, satisfiedBy });
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
