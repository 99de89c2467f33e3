/**
 * Human renderings of a Plan: the terminal table a person reads first, and Markdown for reviews.
 * Fixed widths (never the terminal's) so the same plan prints the same bytes everywhere.
 */
import type { Plan } from "./types.js";

export const TABLE_WIDTH = 120;

const money = (usd: number) => `$${Math.round(usd).toLocaleString("en-US")}`;

export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

export function budgetBar(monthly: number, budget: number | null, width = 30): string {
  if (budget === null || budget <= 0) return `${money(monthly)}/month (no budget set)`;
  const ratio = monthly / budget;
  const filled = Math.min(width, Math.round(ratio * width));
  const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
  return `${money(monthly)}/month of ${money(budget)} budget [${bar}] ${Math.round(ratio * 100)}%`;
}

/** "Measured" when the per-replica figure comes from stackwright calibrate, else "Estimated from". */
export function capacityBasisLabel(plan: Plan): string {
  return plan.capacity.measured ? "Sized from a measurement" : "Estimated from";
}

export function capacityLine(plan: Plan): string {
  const c = plan.capacity;
  const gpu = c.gpuType ? `, ${c.gpuType} ${c.precision} (${c.gpuMemoryGb} GB needed)` : "";
  return `${c.replicasMin}-${c.replicasMax} x ${c.instanceType} (${c.hardware}${gpu}) across ${c.zones} zone(s)${c.regions > 1 ? ` in ${c.regions} regions` : ""}, ~${c.perReplicaQps} QPS per replica`;
}

export function controlSummary(plan: Plan): string[] {
  const unmet = new Set(
    plan.warnings.filter((w) => w.code === "CONTROL_UNSATISFIED").map((w) => w.message.split(" (")[0]),
  );
  const byFramework = new Map<string, { total: number; met: number; implemented: number }>();
  for (const control of plan.controls) {
    const entry = byFramework.get(control.framework) ?? { total: 0, met: 0, implemented: 0 };
    entry.total++;
    if (![...unmet].some((m) => m.endsWith(` ${control.id}`))) entry.met++;
    if (control.status === "implemented") entry.implemented++;
    byFramework.set(control.framework, entry);
  }
  return [...byFramework].map(
    ([framework, { total, met, implemented }]) =>
      `${framework} ${met}/${total} controls met by the decisions, ${implemented} implemented by generated files (the rest the customer's)`,
  );
}

export function formatTable(plan: Plan): string {
  const out: string[] = [];
  const capWidth = Math.max(...plan.decisions.map((d) => d.capability.length)) + 2;
  const choiceWidth = Math.max(...plan.decisions.map((d) => d.choice.length)) + 2;
  const becauseWidth = Math.max(30, TABLE_WIDTH - capWidth - choiceWidth);
  out.push(`${plan.spec.name}: ${plan.decisions.length} decisions (rules ${plan.ruleSet.version})`);
  out.push("");
  out.push(`${"CAPABILITY".padEnd(capWidth)}${"CHOICE".padEnd(choiceWidth)}BECAUSE`);
  for (const d of plan.decisions) {
    const lines = wrap(d.because, becauseWidth);
    out.push(`${d.capability.padEnd(capWidth)}${d.choice.padEnd(choiceWidth)}${lines[0]}`);
    for (const line of lines.slice(1)) out.push(`${" ".repeat(capWidth + choiceWidth)}${line}`);
  }
  out.push("");
  out.push(`Capacity  ${capacityLine(plan)}`);
  out.push(
    `Cost      ${budgetBar(plan.cost.monthlyUsd, plan.cost.budgetUsd)} (${plan.cost.region} rates, oldest as of ${plan.cost.pricesAsOf})`,
  );
  const top = [...plan.cost.items].sort((a, b) => b.monthlyUsd - a.monthlyUsd).slice(0, 4);
  out.push(`          largest: ${top.map((i) => `${i.name} ${money(i.monthlyUsd)}`).join(", ")}`);
  if (plan.cost.excluded.length)
    out.push(
      `          not built here, not counted: ${plan.cost.excluded.map((e) => `${e.name} ~${money(e.monthlyUsd)}`).join(", ")}`,
    );
  const controls = controlSummary(plan);
  if (controls.length) out.push(`Controls  ${controls.join("; ")}`);
  // the defaults that follow other fields; the schema's plain defaults are in --format json
  const assumed = plan.defaults.filter((d) => d.because);
  assumed.forEach((d, i) => {
    out.push(`${i === 0 ? "Defaults  " : "          "}${d.path} = ${JSON.stringify(d.value)} (${d.because})`);
  });
  if (plan.warnings.length) {
    out.push("");
    for (const w of plan.warnings) {
      out.push(`${w.severity} ${w.code}${w.path ? ` at ${w.path}` : ""}: ${w.message}`);
      if (w.suggestion) out.push(`  suggestion: ${w.suggestion}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** Escapes text for a Markdown table cell: pipes, newlines and HTML cannot break the table. */
export function mdCell(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r?\n/g, " ");
}

export function formatMarkdown(plan: Plan): string {
  const out: string[] = [];
  out.push(`# Plan: ${mdCell(plan.spec.name)}`);
  out.push("");
  out.push(`Spec \`${plan.spec.hash}\`, rules \`${plan.ruleSet.version}\`.`);
  out.push("");
  out.push("| Capability | Choice | Because | Rule |");
  out.push("| --- | --- | --- | --- |");
  for (const d of plan.decisions) {
    out.push(`| ${d.capability} | **${d.choice}** | ${mdCell(d.because)} | \`${d.rule}\` |`);
  }
  out.push("");
  out.push("## Capacity");
  out.push("");
  out.push(`${mdCell(capacityLine(plan))}.`);
  out.push("");
  out.push(`_${capacityBasisLabel(plan)}:_ ${mdCell(plan.capacity.estimatedFrom)}.`);
  out.push("");
  out.push("## Cost");
  out.push("");
  out.push(
    `${mdCell(budgetBar(plan.cost.monthlyUsd, plan.cost.budgetUsd))}; prices as of ${plan.cost.pricesAsOf}.`,
  );
  out.push("");
  out.push("| Item | USD/month | Detail |");
  out.push("| --- | ---: | --- |");
  for (const item of plan.cost.items) {
    out.push(`| ${mdCell(item.name)} | ${item.monthlyUsd.toFixed(2)} | ${mdCell(item.detail)} |`);
  }
  if (plan.controls.length) {
    out.push("");
    out.push("## Compliance controls");
    out.push("");
    out.push("| Framework | Control | Title | Satisfied by |");
    out.push("| --- | --- | --- | --- |");
    for (const c of plan.controls) {
      out.push(
        `| ${c.framework} | ${mdCell(c.id)} | ${mdCell(c.title)} | ${c.satisfiedBy.map((s) => `\`${s}\``).join(", ")} |`,
      );
    }
  }
  if (plan.warnings.length) {
    out.push("");
    out.push("## Warnings");
    out.push("");
    for (const w of plan.warnings) {
      out.push(
        `- **${w.severity} ${w.code}**${w.path ? ` (\`${w.path}\`)` : ""}: ${mdCell(w.message)}${w.suggestion ? ` Suggestion: ${mdCell(w.suggestion)}` : ""}`,
      );
    }
  }
  return `${out.join("\n")}\n`;
}

/**
 * The examples' costs side by side: each item's monthly USD per example, the rates behind them (each
 * distinct price row with its source, date, provenance and region), and what is estimated but not
 * built. Written to docs/cost-audit.md by `npm run examples`; the line-level tables are each
 * example's docs/architecture.md.
 */
export function formatCostAudit(plans: Plan[]): string {
  const names = plans.map((p) => p.spec.name);
  const items = [...new Set(plans.flatMap((p) => p.cost.items.map((i) => i.name)))];
  const usd = (n: number) =>
    n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const out = [
    "<!-- generated by `npm run examples` from the example specs; do not edit -->",
    "# Cost audit: the examples side by side",
    "",
    "Monthly USD of each example's plan by cost item. Every item prices the Terraform resources it",
    "names (see each example's `generated-examples/<name>/docs/architecture.md` for every line: quantity,",
    "rate, source, date, provenance, assumption). The rates are the price rows below, as cited.",
    "",
    `| Item | ${names.map(mdCell).join(" | ")} |`,
    `| --- | ${names.map(() => "---:").join(" | ")} |`,
  ];
  for (const item of items)
    out.push(
      `| ${mdCell(item)} | ${plans
        .map((p) => {
          const found = p.cost.items.find((i) => i.name === item);
          return found ? usd(found.monthlyUsd) : "—";
        })
        .join(" | ")} |`,
    );
  out.push(`| **Total** | ${plans.map((p) => `**${usd(p.cost.monthlyUsd)}**`).join(" | ")} |`);
  out.push(
    `| Region | ${plans.map((p) => mdCell(p.cost.region)).join(" | ")} |`,
    `| Not built, estimated apart | ${plans.map((p) => usd(p.cost.excluded.reduce((sum, e) => sum + e.monthlyUsd, 0))).join(" | ")} |`,
  );
  out.push(
    "",
    "## The price rows used",
    "",
    "| Cloud | Row | Region | Rate (USD) | As of | Provenance | Source |",
    "| --- | --- | --- | ---: | --- | --- | --- |",
  );
  const rows = new Map<string, string>();
  for (const p of plans)
    for (const item of p.cost.items)
      for (const line of item.lines) {
        const key = `${p.requirements.cloud.provider}|${line.price}|${line.region}`;
        if (!rows.has(key))
          rows.set(
            key,
            `| ${p.requirements.cloud.provider} | ${mdCell(line.price)} | ${line.region} | ${line.unitUsd} | ${line.asOf} | ${line.provenance} | ${mdCell(line.source)} |`,
          );
      }
  out.push(...[...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row));
  out.push(
    "",
    "## Estimated, not built by the generated Terraform",
    "",
    "| Example | What | USD/month | Why |",
    "| --- | --- | ---: | --- |",
  );
  for (const p of plans)
    for (const e of p.cost.excluded)
      out.push(`| ${mdCell(p.spec.name)} | ${mdCell(e.name)} | ${usd(e.monthlyUsd)} | ${mdCell(e.reason)} |`);
  return `${out.join("\n")}\n`;
}
