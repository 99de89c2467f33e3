/**
 * ADRs (MADR) for every decision that had alternatives, and docs/architecture.md: a Mermaid diagram
 * of the chosen platform, the decisions, cost, and the compliance control matrix (control -> decision
 * -> the generated files that implement it, found by the resources those files declare).
 */
import type { RuleSet } from "../../engine/index.js";
import { GENERATED_HEADER, type TextFileSet } from "../../fileset/index.js";
import type { Addon } from "../../infra/index.js";
import { chartNameOf } from "../../infra/names.js";
import { budgetBar, capacityBasisLabel, capacityLine } from "../../plan/format.js";
import { loadDefaultRuleSet } from "../../plan/index.js";
import type { Plan } from "../../plan/types.js";
import { getPath } from "../../util/paths.js";
import { prometheusRules } from "../platform/monitoring.js";
import { render } from "../render.js";

export interface Narrative {
  context: string;
  consequences: string;
}

export interface AdrOptions {
  /** LLM-written context/consequences per capability (recorded in the lock file) */
  narratives?: ReadonlyMap<string, Narrative>;
  /** catalog texts and rule provenance; the shipped rules by default */
  ruleSet?: RuleSet;
}

/** Text for a quoted Mermaid label. */
export function mermaidLabel(value: unknown): string {
  return String(value ?? "")
    .replace(/\s+/g, " ")
    .replace(/[`{}[\]|;#]/g, " ")
    .replace(/"/g, "#quot;")
    .replace(/</g, "#lt;")
    .replace(/>/g, "#gt;")
    .trim();
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

function show(value: unknown): string {
  if (value === undefined) return "(derived)";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  if (value === null) return "not set";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Resources and keywords that show a file implements a decision. */
const quantityText = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 });

export function diagram(plan: Plan): string {
  const c = (capability: string) => plan.decisions.find((d) => d.capability === capability)?.choice ?? "none";
  const spec = plan.requirements;
  const lines = ["flowchart LR"];
  const node = (id: string, label: string) => lines.push(`  ${id}["${mermaidLabel(label)}"]`);
  node("sources", `Sources: ${spec.data.sources.join(", ") || "files and APIs"}`);
  node("ingest", `Ingestion: ${c("data.ingestion")}`);
  node("offline", `Offline store: ${c("features.offline")} (${c("data.versioning")})`);
  if (c("features.store") !== "none") node("features", `Feature store: ${c("features.store")}`);
  node("train", `Training: ${c("orchestration")}, tracking ${c("tracking")}`);
  node("registry", `Registry: ${c("registry")}`);
  node(
    "serve",
    `Serving ${c("serving.mode")} on ${c("serving.runtime")} (${plan.capacity.replicasMin}-${plan.capacity.replicasMax} x ${plan.capacity.instanceType}, ${c("serving.hardware")}), batching ${c("serving.batching")}, ${c("deployment.strategy")}`,
  );
  node(
    "monitor",
    `Monitoring: ${c("monitoring.metrics")}, drift ${c("monitoring.drift")}, quality ${c("monitoring.performance")}`,
  );
  node("retrain", `Retraining: ${c("retraining.trigger")}`);
  node(
    "callers",
    c("serving.mode") === "batch"
      ? "Results tables"
      : c("serving.mode") === "streaming"
        ? "Output stream"
        : "Callers",
  );
  lines.push("  sources --> ingest --> offline --> train --> registry --> serve");
  if (c("features.store") !== "none") lines.push("  ingest --> features --> serve", "  features --> train");
  lines.push(c("serving.mode") === "realtime" ? "  callers --> serve" : "  serve --> callers");
  lines.push("  serve --> monitor --> retrain --> train");
  lines.push(
    `  subgraph security["${mermaidLabel(`Security: ${c("security.network")}, ${c("security.encryption")}, ${c("security.identity")}`)}"]`,
  );
  lines.push("    serve");
  lines.push("  end");
  // what the Terraform builds, from the inventory, with its relations (what encrypts, fronts, protects
  // what): the primary's stack, then every other region's, each as its own box
  const inventory = plan.inventory;
  // an on-device plan off AWS builds nothing in the cloud: no box for it
  if (inventory && inventory.resources.length > 0) {
    // what joins the regions (global/) is a root of its own, applied after every region's
    const joins = (r: { file: string }) => r.file.includes(`/${inventory.cloud}/global/`);
    const stacks = [
      {
        id: "built",
        prefix: "r",
        title: `Built by infra/terraform/${inventory.cloud} in ${inventory.region}`,
        resources: inventory.resources.filter((r) => !joins(r)),
      },
      ...(inventory.resources.some(joins)
        ? [
            {
              id: "joined",
              prefix: "g",
              title: `Built by infra/terraform/${inventory.cloud}/global: what joins the regions`,
              resources: inventory.resources.filter(joins),
            },
          ]
        : []),
      ...inventory.secondaries.map((stack, s) => ({
        id: `built${s + 1}`,
        prefix: `s${s}r`,
        title: `Built by infra/terraform/${inventory.cloud}/${stack.dir} in ${stack.region} (${stack.role})`,
        resources: stack.resources,
      })),
    ];
    // the primary's stack and global/ are one inventory: their relations cross the two boxes
    const primaryIds = new Map<string, string>();
    for (const stack of stacks.filter((s) => s.id === "built" || s.id === "joined"))
      for (const [i, r] of stack.resources.entries()) primaryIds.set(r.address, `${stack.prefix}${i}`);
    for (const stack of stacks) {
      const ids =
        stack.id === "built" || stack.id === "joined"
          ? primaryIds
          : new Map(stack.resources.map((r, i) => [r.address, `${stack.prefix}${i}`]));
      lines.push(`  subgraph ${stack.id}["${mermaidLabel(stack.title)}"]`);
      for (const r of stack.resources) lines.push(`    ${ids.get(r.address)}["${mermaidLabel(r.title)}"]`);
      lines.push("  end");
      for (const r of stack.resources)
        for (const rel of r.relations) {
          const target = ids.get(rel.target);
          if (target)
            lines.push(
              rel.kind === "encrypts"
                ? `  ${ids.get(r.address)} -.->|encrypts| ${target}`
                : `  ${ids.get(r.address)} -->|${rel.kind}| ${target}`,
            );
        }
    }
  }
  return lines.join("\n");
}

/** ADR file names per capability: numbered in capability order, one per decision with alternatives. */
export function adrFileNames(plan: Plan): Map<string, string> {
  const names = new Map<string, string>();
  let number = 0;
  for (const decision of plan.decisions) {
    if (decision.alternatives.length === 0) continue;
    number++;
    names.set(
      decision.capability,
      `${String(number).padStart(4, "0")}-${slug(decision.capability)}-${slug(decision.choice)}.md`,
    );
  }
  return names;
}

export function generateAdrs(plan: Plan, options: AdrOptions = {}): TextFileSet {
  const adr = (context: object) => render("adr/adr.md.hbs", context);
  const architecture = (context: object) => render("adr/architecture.md.hbs", context);
  const ruleSet = options.ruleSet ?? loadDefaultRuleSet();
  const catalog = ruleSet.catalog.capabilities;
  const rules = new Map([...ruleSet.rules.values()].flat().map((r) => [r.id, r]));
  const files: TextFileSet = {};
  const spec = plan.requirements;
  const adrNames = new Map<string, string>();
  let number = 0;
  for (const decision of plan.decisions) {
    if (decision.alternatives.length === 0) continue;
    number++;
    const num = String(number).padStart(4, "0");
    const name = `${num}-${slug(decision.capability)}-${slug(decision.choice)}.md`;
    adrNames.set(decision.capability, name);
    const capability = decision.capability;
    const capabilityTitle = catalog[capability]?.title ?? capability;
    const patterns = (choice: string) =>
      catalog[capability]?.patterns[choice] ?? { title: choice, description: "" };
    const rule = rules.get(decision.rule);
    const controls = plan.controls.filter((ctl) =>
      ctl.satisfiedBy.some((s) => s.startsWith(`${capability}=`)),
    );
    files[`docs/adr/${name}`] = adr({
      header: GENERATED_HEADER,
      number: num,
      title: `${capabilityTitle}: ${decision.choice}`,
      capability,
      capabilityTitle,
      specName: spec.metadata.name,
      specHash: plan.spec.hash,
      ruleSetVersion: plan.ruleSet.version,
      choice: decision.choice,
      because: decision.because,
      byAdvisor: decision.decidedBy === "advisor",
      chosenPattern: patterns(decision.choice),
      inputs: decision.inputs.map((path) => ({ path, value: show(getPath(spec, path)) })),
      drivers: [
        rule?.description ?? decision.because,
        ...controls.map((ctl) => `${ctl.framework} ${ctl.id}: ${ctl.title}`),
        ...(decision.openChoices ? [`a judgement call between ${decision.openChoices.join(" and ")}`] : []),
      ],
      alternatives: decision.alternatives.map((alt) => ({ ...alt, ...patterns(alt.choice) })),
      params: Object.entries(decision.params).map(([k, v]) => ({ name: k, value: JSON.stringify(v) })),
      controls,
      notes: implementationNotes(plan, capability),
      alerts:
        capability === "monitoring.metrics" || capability === "monitoring.drift"
          ? prometheusRules(plan)
              .groups[0].rules.filter(
                (r) => (capability === "monitoring.drift") === r.alert.includes("Drift"),
              )
              .map((r) => ({ name: r.alert, expr: r.expr, for: r.for, summary: r.annotations.summary }))
          : [],
      rule: {
        id: decision.rule,
        file: rule?.file ?? "decisions/",
        priority: rule?.priority ?? 0,
        when: rule?.when,
      },
      narrative: options.narratives?.get(capability),
    });
  }
  files["docs/architecture.md"] = architecture({
    header: GENERATED_HEADER,
    specName: spec.metadata.name,
    summary: `${spec.useCase.kind} on ${spec.cloud.provider} (${spec.cloud.region}): ${plan.decisions.length} decisions by rule set ${plan.ruleSet.version}.`,
    diagram: diagram(plan),
    decisions: plan.decisions.map((d) => ({ ...d, adr: adrNames.get(d.capability) })),
    capacityLine: capacityLine(plan),
    estimatedFrom: plan.capacity.estimatedFrom,
    basisLabel: capacityBasisLabel(plan),
    costLine: budgetBar(plan.cost.monthlyUsd, plan.cost.budgetUsd),
    pricesAsOf: plan.cost.pricesAsOf,
    region: plan.cost.region,
    costItems: plan.cost.items.map((i) => ({
      ...i,
      usd: i.monthlyUsd.toFixed(2),
      lines: i.lines.map((l) => ({
        ...l,
        usd: l.monthlyUsd.toFixed(2),
        quantityText: quantityText(l.quantity),
      })),
    })),
    excluded: plan.cost.excluded.map((e) => ({ ...e, usd: e.monthlyUsd.toFixed(2) })),
    availability: plan.availability,
    addons: plan.addons.map((a) => ({
      title: a.title,
      because: a.because,
      installedBy: installedBy(a),
      chart: a.install.via === "cloud" ? "" : `${a.install.chart.repository} ${a.install.chart.chart}`,
      version: a.install.via === "cloud" ? "" : a.install.chart.version,
    })),
    customerAddons: plan.addons.some((a) => a.install.via === "customer"),
    // status and evidence come from the plan (src/plan/evidence.ts), resolved against this tree by the tests
    controls: plan.controls,
    warnings: plan.warnings,
  });
  return files;
}

/** Where and how an add-on is installed, in words. */
function installedBy(addon: Addon): string {
  const { install } = addon;
  if (install.via === "cloud") return `the cloud: ${install.how} on ${install.address} (${install.file})`;
  if (install.via === "terraform") return `Terraform: ${install.address} (${install.file})`;
  if (install.via === "gitops") return `the GitOps controller: ${install.file}`;
  return "the team (a prerequisite of the chart)";
}

/** How the generated files carry a decision out: the cluster add-ons it relies on, and its wiring. */
function implementationNotes(plan: Plan, capability: string): string[] {
  const addons = plan.addons
    .filter((a) => a.because.startsWith(`${capability}=`))
    .map((a) => `Relies on the cluster add-on ${a.title}, installed by ${installedBy(a)}.`);
  return [...addons, ...wiringNotes(plan, capability)];
}

function wiringNotes(plan: Plan, capability: string): string[] {
  const choice = plan.decisions.find((d) => d.capability === capability)?.choice;
  if (capability === "deployment.strategy") {
    return [
      `Two traffic splits, kept apart: the deployment (${choice === "canary" ? "the Argo Rollout's canary steps" : choice}) moves traffic between image revisions; serve.yaml's routing.canaryWeight splits traffic between a model's production and staging versions inside one revision, and is generated as 0, so a staging version takes traffic only when someone sets a weight (POST /v2/repository/models/{name}/routing, or canaryWeight in its model.yaml).`,
    ];
  }
  if (capability === "reliability.fallback" && choice === "fallback-chain") {
    return [
      "The chain in platform/models/<name>/<version>/model.yaml: the previous version, then the generated fallback model <name>-fallback (same inputs), then a default answer; the circuit breaker and the deadline are serve.yaml's fallback block.",
    ];
  }
  const inventory = plan.inventory;
  if (capability === "security.encryption" && choice === "customer-managed-keys" && inventory) {
    const grants = (inventory.vars.keyGrants ?? []) as Array<{ id: string; targets: string[] }>;
    return [
      `The key grants every service that uses it (infra/terraform/${inventory.cloud}/kms.tf, from the inventory's grants): ${grants.map((g) => `${g.id} for ${g.targets.join(", ")}`).join("; ")}.`,
    ];
  }
  if (capability === "security.identity" && inventory?.vars.workloadServiceAccount) {
    const chart = `deploy/helm/${chartNameOf(plan.requirements.metadata.name)}/templates`;
    const ingress = plan.addons.some((a) => a.provides.ingressClasses?.length);
    return [
      `The chart's pods run as the service account ${inventory.vars.workloadServiceAccount}, bound in each environment's namespace to a cloud identity that may read score's input and write its predictions in the data bucket, and nothing else (infra/terraform/${inventory.cloud}/workload.tf).`,
      ...(choice === "workload-identity-mtls"
        ? [
            `mTLS between services: the pods carry istio.io/dataplane-mode=ambient, and the PeerAuthentication (${chart}/peerauthentication.yaml) makes it STRICT: ztunnel refuses a connection that is not mTLS from a workload of the mesh${ingress ? ", except on the serving port, where the Ingress's load balancer (outside the mesh) sends plain text and the NetworkPolicy admits it there only from the load balancer's addresses and the kubelet's probes" : ""}. Prometheus joins the mesh to scrape the pods; a client inside the cluster joins it too (its namespace labelled istio.io/dataplane-mode=ambient) or is refused.`,
          ]
        : []),
    ];
  }
  return [];
}
