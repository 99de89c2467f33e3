/**
 * docs/report.html: one self-contained file for people who would rather look than read — the
 * architecture diagram (an SVG drawn here, no script), the decisions with their reasons and links to
 * the ADRs, a cost chart against the budget, and the compliance matrix. No network at view time.
 */

import { GENERATED_HEADER, type TextFileSet } from "../../fileset/index.js";
import { capacityBasisLabel, capacityLine } from "../../plan/format.js";
import type { Plan } from "../../plan/types.js";

export function html(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const choice = (plan: Plan, capability: string) =>
  plan.decisions.find((d) => d.capability === capability)?.choice ?? "none";

function wrapWords(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length > maxLines ? [...lines.slice(0, maxLines - 1), `${lines[maxLines - 1]}…`] : lines;
}

/** The platform as boxes and arrows: data on the top row, serving and monitoring below. */
export function architectureSvg(plan: Plan): string {
  const spec = plan.requirements;
  const W = 190;
  const H = 64;
  type Node = { id: string; x: number; y: number; title: string; detail: string };
  const nodes: Node[] = [
    {
      id: "sources",
      x: 20,
      y: 30,
      title: "Sources",
      detail: spec.data.sources.join(", ") || "files and APIs",
    },
    { id: "ingest", x: 240, y: 30, title: "Ingestion", detail: choice(plan, "data.ingestion") },
    {
      id: "offline",
      x: 460,
      y: 30,
      title: "Offline store",
      detail: `${choice(plan, "features.offline")}, ${choice(plan, "data.versioning")}`,
    },
    {
      id: "train",
      x: 680,
      y: 30,
      title: "Training",
      detail: `${choice(plan, "orchestration")}, ${choice(plan, "tracking")}`,
    },
    { id: "registry", x: 680, y: 150, title: "Registry", detail: choice(plan, "registry") },
    {
      id: "serve",
      x: 460,
      y: 150,
      title: `Serving (${choice(plan, "serving.mode")})`,
      detail: `${choice(plan, "serving.runtime")}, ${plan.capacity.replicasMin}-${plan.capacity.replicasMax} x ${plan.capacity.instanceType}`,
    },
    {
      id: "callers",
      x: 240,
      y: 150,
      title: choice(plan, "serving.mode") === "realtime" ? "Callers" : "Results",
      detail: `${choice(plan, "security.network")}`,
    },
    {
      id: "monitor",
      x: 460,
      y: 270,
      title: "Monitoring",
      detail: `${choice(plan, "monitoring.metrics")}, drift ${choice(plan, "monitoring.drift")}`,
    },
    { id: "retrain", x: 680, y: 270, title: "Retraining", detail: choice(plan, "retraining.trigger") },
  ];
  if (choice(plan, "features.store") !== "none")
    nodes.push({
      id: "features",
      x: 240,
      y: 270,
      title: "Feature store",
      detail: choice(plan, "features.store"),
    });
  const at = (id: string) => nodes.find((n) => n.id === id)!;
  const edges: Array<[string, string]> = [
    ["sources", "ingest"],
    ["ingest", "offline"],
    ["offline", "train"],
    ["train", "registry"],
    ["registry", "serve"],
    choice(plan, "serving.mode") === "realtime" ? ["callers", "serve"] : ["serve", "callers"],
    ["serve", "monitor"],
    ["monitor", "retrain"],
    ["retrain", "train"],
  ];
  if (nodes.some((n) => n.id === "features")) edges.push(["features", "serve"]);
  const anchor = (from: Node, to: Node): [number, number, number, number] => {
    const cx = (n: Node) => n.x + W / 2;
    const cy = (n: Node) => n.y + H / 2;
    if (Math.abs(from.y - to.y) < 1)
      return from.x < to.x ? [from.x + W, cy(from), to.x, cy(to)] : [from.x, cy(from), to.x + W, cy(to)];
    if (Math.abs(from.x - to.x) < 1)
      return from.y < to.y ? [cx(from), from.y + H, cx(to), to.y] : [cx(from), from.y, cx(to), to.y + H];
    return [cx(from), from.y < to.y ? from.y + H : from.y, cx(to), from.y < to.y ? to.y : to.y + H];
  };
  const out: string[] = [];
  out.push(
    '<svg id="architecture" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 900 360" role="img" aria-label="architecture diagram">',
  );
  out.push(
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
  );
  for (const [a, b] of edges) {
    // the retraining loop runs down the right-hand side, clear of training -> registry
    if (a === "retrain" && b === "train") {
      const r = at(a);
      const t = at(b);
      out.push(
        `<path class="edge" d="M${r.x + W},${r.y + H / 2} H${r.x + W + 14} V${t.y + H / 2} H${t.x + W + 2}" fill="none" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>`,
      );
      continue;
    }
    const [x1, y1, x2, y2] = anchor(at(a), at(b));
    out.push(
      `<line class="edge" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>`,
    );
  }
  for (const n of nodes) {
    const lines = wrapWords(n.detail, 30, 2);
    out.push(
      `<g class="node" data-id="${n.id}"><rect x="${n.x}" y="${n.y}" width="${W}" height="${H}" rx="8" fill="${n.id === "serve" ? "#e8f0fe" : "#f6f8fa"}" stroke="#8898aa"/>`,
    );
    out.push(
      `<text x="${n.x + 10}" y="${n.y + 20}" font-weight="600" font-size="13">${html(n.title)}</text>`,
    );
    for (const [i, line] of lines.entries()) {
      out.push(
        `<text x="${n.x + 10}" y="${n.y + 38 + i * 15}" font-size="11" fill="#333">${html(line)}</text>`,
      );
    }
    out.push("</g>");
  }
  out.push("</svg>");
  return out.join("\n");
}

/** Horizontal bars per cost item, with the budget as a line when there is one. */
export function costSvg(plan: Plan): string {
  const items = [...plan.cost.items].sort((a, b) => b.monthlyUsd - a.monthlyUsd);
  const max = Math.max(plan.cost.monthlyUsd, plan.cost.budgetUsd ?? 0, 1);
  const width = 560;
  const rowH = 22;
  const top = 30;
  const total = top + (items.length + 1) * rowH + 20;
  const scale = (usd: number) => Math.max(1, Math.round((usd / max) * width));
  const out = [
    `<svg id="cost" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 900 ${total}" role="img" aria-label="monthly cost by item">`,
  ];
  let y = top;
  out.push(
    `<rect class="total" x="220" y="${y}" width="${scale(plan.cost.monthlyUsd)}" height="16" fill="${plan.cost.budgetUsd !== null && plan.cost.monthlyUsd > plan.cost.budgetUsd ? "#d9534f" : "#5b8def"}"/>`,
  );
  out.push(
    `<text x="210" y="${y + 12}" text-anchor="end" font-size="12" font-weight="600">Total</text><text x="${226 + scale(plan.cost.monthlyUsd)}" y="${y + 12}" font-size="12">$${Math.round(plan.cost.monthlyUsd).toLocaleString("en-US")}</text>`,
  );
  for (const item of items) {
    y += rowH;
    out.push(
      `<rect class="bar" x="220" y="${y}" width="${scale(item.monthlyUsd)}" height="14" fill="#9ab6f5"/>`,
    );
    out.push(
      `<text x="210" y="${y + 11}" text-anchor="end" font-size="11">${html(item.name)}</text><text x="${226 + scale(item.monthlyUsd)}" y="${y + 11}" font-size="11">$${Math.round(item.monthlyUsd).toLocaleString("en-US")}</text>`,
    );
  }
  if (plan.cost.budgetUsd !== null) {
    const x = 220 + scale(plan.cost.budgetUsd);
    out.push(
      `<line class="budget" x1="${x}" y1="${top - 10}" x2="${x}" y2="${y + 20}" stroke="#c0392b" stroke-dasharray="4 3"/><text x="${x + 4}" y="${top - 14}" font-size="11" fill="#c0392b">budget $${Math.round(plan.cost.budgetUsd).toLocaleString("en-US")}</text>`,
    );
  }
  out.push("</svg>");
  return out.join("\n");
}

export function generateReport(plan: Plan, adrNames: ReadonlyMap<string, string>): TextFileSet {
  const spec = plan.requirements;
  const rows = plan.decisions
    .map((d) => {
      const adr = adrNames.get(d.capability);
      return `<tr><td><code>${html(d.capability)}</code></td><td><strong>${html(d.choice)}</strong></td><td>${html(d.because)}</td><td>${adr ? `<a href="adr/${html(adr)}">${html(adr.slice(0, 4))}</a>` : "—"}</td></tr>`;
    })
    .join("\n");
  const controls = plan.controls
    .map(
      (c) =>
        `<tr class="${c.status}"><td>${html(c.framework)}</td><td>${html(c.id)}</td><td>${html(c.title)}</td><td>${c.satisfiedBy.map((s) => `<code>${html(s)}</code>`).join(" ")}</td><td>${html(c.status)}</td><td>${c.evidence.map((e) => `<code>${html(e.file)}</code>: <code>${html(e.locator)}</code>`).join("<br>") || "—"}</td><td>${html(c.customer ?? "—")}</td></tr>`,
    )
    .join("\n");
  const costLines = plan.cost.items
    .flatMap((item) =>
      item.lines.map(
        (l) =>
          `<tr><td>${html(item.name)}</td><td><code>${html(l.resource)}</code></td><td>${html(l.quantity.toLocaleString("en-US", { maximumFractionDigits: 2 }))} ${html(l.unit)}</td><td>${html(String(l.unitUsd))}</td><td>${l.monthlyUsd.toFixed(2)}</td><td>${html(l.source)} (${html(l.asOf)}, ${html(l.provenance)}${l.region !== plan.cost.region ? `, ${html(l.region)} rate` : ""})</td><td>${html(l.assumption ?? "—")}</td></tr>`,
      ),
    )
    .join("\n");
  const excluded = plan.cost.excluded
    .map(
      (e) => `<tr><td>${html(e.name)}</td><td>${e.monthlyUsd.toFixed(2)}</td><td>${html(e.reason)}</td></tr>`,
    )
    .join("\n");
  const warnings = plan.warnings
    .map(
      (w) =>
        `<li class="${w.severity}"><strong>${html(w.code)}</strong>: ${html(w.message)}${w.suggestion ? ` <em>${html(w.suggestion)}</em>` : ""}</li>`,
    )
    .join("\n");
  const page = `<!DOCTYPE html>
<!-- ${GENERATED_HEADER} -->
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>stackwright report: ${html(spec.metadata.name)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1f2328; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #d0d7de; padding: .35rem .5rem; vertical-align: top; text-align: left; }
th { background: #f6f8fa; } code { font-size: 12px; } svg { width: 100%; height: auto; }
li.error { color: #b42318; } .meta { color: #57606a; } tr.customer td:nth-child(5) { color: #9a6700; }
</style>
</head>
<body>
<h1>${html(spec.metadata.name)}</h1>
<p class="meta">${html(spec.useCase.kind)} on ${html(spec.cloud.provider)} (${html(spec.cloud.region)}) · spec <code>${html(plan.spec.hash.slice(0, 19))}</code> · rules <code>${html(plan.ruleSet.version)}</code></p>
<h2>Architecture</h2>
${architectureSvg(plan)}
<p>${html(capacityLine(plan))}. <span class="meta">${html(capacityBasisLabel(plan))}: ${html(plan.capacity.estimatedFrom)}</span></p>
<h2>Decisions</h2>
<table><thead><tr><th>Capability</th><th>Choice</th><th>Because</th><th>ADR</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Cost</h2>
<p>$${Math.round(plan.cost.monthlyUsd).toLocaleString("en-US")} per month${plan.cost.budgetUsd !== null ? ` against a budget of $${Math.round(plan.cost.budgetUsd).toLocaleString("en-US")}` : ""}; ${html(plan.cost.region)} rates, oldest price as of ${html(plan.cost.pricesAsOf)}.</p>
${costSvg(plan)}
${costLines ? `<table><thead><tr><th>Item</th><th>Resource</th><th>Quantity</th><th>Rate (USD)</th><th>USD/month</th><th>Source (as of, provenance)</th><th>Assumption</th></tr></thead>\n<tbody>\n${costLines}\n</tbody></table>` : ""}
${excluded ? `<p>Not built by this Terraform, so not in the total (estimated):</p>\n<table><thead><tr><th>What</th><th>USD/month</th><th>Why</th></tr></thead>\n<tbody>\n${excluded}\n</tbody></table>` : ""}
${plan.controls.length ? `<h2>Compliance</h2>\n<table><thead><tr><th>Framework</th><th>Control</th><th>Title</th><th>Satisfied by</th><th>Status</th><th>Evidence</th><th>Customer's part</th></tr></thead>\n<tbody>\n${controls}\n</tbody></table>` : ""}
${warnings ? `<h2>Warnings</h2>\n<ul>\n${warnings}\n</ul>` : ""}
</body>
</html>
`;
  return { "docs/report.html": page };
}
