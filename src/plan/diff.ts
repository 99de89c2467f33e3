/** What changes between two plans: decisions that flip, controls gained or lost, cost and capacity deltas. */
import type { Plan } from "./types.js";

export interface PlanDiff {
  decisions: Array<{ capability: string; from: string; to: string; rule: string; because: string }>;
  /** same choice, different parameters (e.g. a batching delay that follows the latency budget) */
  params: Array<{ capability: string; param: string; from: unknown; to: unknown }>;
  controls: { added: string[]; removed: string[] };
  capacity: Array<{ field: string; from: unknown; to: unknown }>;
  cost: {
    fromUsd: number;
    toUsd: number;
    deltaUsd: number;
    items: Array<{ name: string; fromUsd: number; toUsd: number }>;
  };
  warnings: { added: string[]; resolved: string[] };
}

export function diffPlans(a: Plan, b: Plan): PlanDiff {
  const before = new Map(a.decisions.map((d) => [d.capability, d]));
  const decisions = b.decisions
    .filter((d) => before.get(d.capability)?.choice !== d.choice)
    .map((d) => ({
      capability: d.capability,
      from: before.get(d.capability)?.choice ?? "(none)",
      to: d.choice,
      rule: d.rule,
      because: d.because,
    }));
  const params: PlanDiff["params"] = [];
  for (const d of b.decisions) {
    const old = before.get(d.capability);
    if (!old || old.choice !== d.choice) continue;
    for (const param of [...new Set([...Object.keys(old.params), ...Object.keys(d.params)])].sort()) {
      if (JSON.stringify(old.params[param]) !== JSON.stringify(d.params[param])) {
        params.push({
          capability: d.capability,
          param,
          from: old.params[param] ?? null,
          to: d.params[param] ?? null,
        });
      }
    }
  }
  const key = (c: Plan["controls"][number]) => `${c.framework} ${c.id}`;
  const ca = new Set(a.controls.map(key));
  const cb = new Set(b.controls.map(key));
  const capacity = (Object.keys(a.capacity) as Array<keyof Plan["capacity"]>)
    .filter(
      (field) =>
        field !== "estimatedFrom" && JSON.stringify(a.capacity[field]) !== JSON.stringify(b.capacity[field]),
    )
    .map((field) => ({ field, from: a.capacity[field], to: b.capacity[field] }));
  const names = [...new Set([...a.cost.items.map((i) => i.name), ...b.cost.items.map((i) => i.name)])];
  const itemUsd = (plan: Plan, name: string) => plan.cost.items.find((i) => i.name === name)?.monthlyUsd ?? 0;
  const items = names
    .map((name) => ({ name, fromUsd: itemUsd(a, name), toUsd: itemUsd(b, name) }))
    .filter((i) => i.fromUsd !== i.toUsd);
  const wkey = (w: Plan["warnings"][number]) => `${w.severity} ${w.code}: ${w.message}`;
  const wa = new Set(a.warnings.map(wkey));
  const wb = new Set(b.warnings.map(wkey));
  return {
    decisions,
    params,
    controls: { added: [...cb].filter((c) => !ca.has(c)), removed: [...ca].filter((c) => !cb.has(c)) },
    capacity,
    cost: {
      fromUsd: a.cost.monthlyUsd,
      toUsd: b.cost.monthlyUsd,
      deltaUsd: Math.round((b.cost.monthlyUsd - a.cost.monthlyUsd) * 100) / 100,
      items,
    },
    warnings: { added: [...wb].filter((w) => !wa.has(w)), resolved: [...wa].filter((w) => !wb.has(w)) },
  };
}

const signed = (usd: number) =>
  `${usd >= 0 ? "+" : "-"}$${Math.abs(Math.round(usd)).toLocaleString("en-US")}`;

export function formatDiff(diff: PlanDiff): string {
  const out: string[] = [];
  if (diff.decisions.length === 0) out.push("No decision changes.");
  else {
    out.push(`${diff.decisions.length} decision(s) change:`);
    for (const d of diff.decisions) {
      out.push(`  ${d.capability}: ${d.from} -> ${d.to}  (${d.rule})`);
      out.push(`    because ${d.because}`);
    }
  }
  if (diff.params.length) {
    out.push("Parameters:");
    for (const p of diff.params)
      out.push(`  ${p.capability}.${p.param}: ${JSON.stringify(p.from)} -> ${JSON.stringify(p.to)}`);
  }
  if (diff.capacity.length) {
    out.push("Capacity:");
    for (const c of diff.capacity) out.push(`  ${c.field}: ${String(c.from)} -> ${String(c.to)}`);
  }
  if (diff.controls.added.length || diff.controls.removed.length) {
    out.push("Controls:");
    for (const c of diff.controls.added) out.push(`  + ${c}`);
    for (const c of diff.controls.removed) out.push(`  - ${c}`);
  }
  out.push(
    `Cost: $${Math.round(diff.cost.fromUsd).toLocaleString("en-US")} -> $${Math.round(diff.cost.toUsd).toLocaleString("en-US")}/month (${signed(diff.cost.deltaUsd)})`,
  );
  for (const i of diff.cost.items) out.push(`  ${i.name}: ${signed(i.toUsd - i.fromUsd)}`);
  if (diff.warnings.added.length || diff.warnings.resolved.length) {
    out.push("Warnings:");
    for (const w of diff.warnings.added) out.push(`  + ${w}`);
    for (const w of diff.warnings.resolved) out.push(`  - ${w}`);
  }
  return `${out.join("\n")}\n`;
}
