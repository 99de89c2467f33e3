/**
 * Spec -> Plan: the rules decide every capability, the capacity model sizes the replicas, the cost
 * model prices them, controls are mapped and contradictions surfaced. Pure given the rule set.
 */
import { dirname, join } from "node:path";
import {
  type DecisionTrace,
  decide,
  defaultRulesDir,
  loadRuleSet,
  type ModelCatalog,
  type Resolver,
  type RuleSet,
  type Value,
} from "../engine/index.js";
import {
  addonsFor,
  ageInDays,
  buildsRegions,
  deploysOtherRegions,
  expiredPins,
  MULTI_REGION_CLOUDS,
  regionalPrices,
  STALE_PRICES_DAYS,
} from "../infra/index.js";
import { type Calibration, calibrationMachine } from "../requirements/calibration.js";
import {
  loadSpecFile,
  type Problem,
  parseSpecValue,
  type ResolvedSpec,
  type Spec,
} from "../requirements/index.js";
import { hashValue } from "../util/canonical.js";
import { type Availability, availabilityOf } from "./availability.js";
import { estimateWorkload, resolveAverageQps, sizeCapacity, type Workload } from "./capacity.js";
import { findContradictions } from "./contradictions.js";
import { mapControls } from "./controls.js";
import { budgetWarnings, estimateCost, inventoryFor, logWarnings } from "./cost.js";
import { resolveDefaults } from "./defaults.js";
import { computeFacts, inputResolver, knownInputs } from "./facts.js";
import { CADENCE_HOURS, estimateTraining, type TrainingPlan } from "./training.js";
import type { Capability, Cost, CostLine, Decision, Plan, PlanWarning } from "./types.js";

export {
  CALIBRATION_FILE,
  type Calibration,
  calibrationMachine,
  calibrationSchema,
} from "../requirements/calibration.js";
export { FACT_DESCRIPTIONS } from "./facts.js";
export * from "./types.js";

let cached: RuleSet | undefined;

/** Input paths rules may read: every spec field (from a fully defaulted spec) and every fact. */
export function specInputs(): string[] {
  const minimal = parseSpecValue({ metadata: { name: "inputs" } });
  // the devices section is null unless the mode runs on devices: its fields come from a spec that has one
  const onDevice = parseSpecValue({
    metadata: { name: "inputs" },
    inference: { mode: "edge" },
    edge: { devices: 1, hardware: "cpu-x86", memoryMb: 1 },
  });
  if (!minimal.ok || !onDevice.ok) throw new Error("the minimal spec does not parse");
  return [...new Set([...knownInputs(minimal.spec), ...knownInputs(onDevice.spec)])].sort();
}

/** The rule set shipped in rules/, loaded and checked once per process. */
export function loadDefaultRuleSet(): RuleSet {
  const rulesDir = defaultRulesDir();
  cached ??= loadRuleSet({
    dir: rulesDir,
    knownInputs: specInputs,
    snapshot: join(dirname(rulesDir), "dist", "rules.snapshot.json"),
  });
  return cached;
}

export function loadRuleSetFrom(dir: string): RuleSet {
  return loadRuleSet({ dir, knownInputs: specInputs() });
}

export interface PlanOptions {
  ruleSet?: RuleSet;
  /** advisor picks among a rule's openChoices (capability -> choice) */
  picks?: ReadonlyMap<string, string>;
  /** the advisor's reason per pick */
  reasons?: ReadonlyMap<string, string>;
  /** the model's measured throughput (stackwright calibrate): sizes replicas instead of the estimate */
  calibration?: Calibration | null;
}

export interface PlanTrace {
  plan: Plan;
  traces: Map<string, DecisionTrace>;
  /** value of any input a rule may read (spec paths, facts.*, decision.*) */
  inputValue: Resolver;
  workload: Workload;
}

export function createPlan(spec: Spec, options: PlanOptions = {}): Plan {
  return planWithTrace(spec, options).plan;
}

export function planWithTrace(parsed: Spec, options: PlanOptions = {}): PlanTrace {
  const ruleSet = options.ruleSet ?? loadDefaultRuleSet();
  const { spec, defaults, isProvided } = resolveDefaults(parsed, ruleSet);
  const baseTable = ruleSet.prices.get(spec.cloud.provider);
  if (!baseTable) throw new Error(`the rule set has no price table for ${spec.cloud.provider}`);
  // the team's own cluster has no regions: its node-equivalent prices are the table's own
  const regional = regionalPrices(
    baseTable,
    spec.cloud.provider === "kubernetes" ? baseTable.region : spec.cloud.region,
  );
  const prices = regional.table;
  const calibration = options.calibration ?? null;
  const workload = estimateWorkload(spec, prices, ruleSet.models, calibration);
  const facts = computeFacts(spec, workload);
  const inputs = inputResolver(spec, facts);
  const result = decide(ruleSet, inputs, { picks: options.picks, reasons: options.reasons });

  const choices: Record<string, string> = {};
  for (const [capability, decision] of result.decisions) choices[capability] = decision.choice;
  const inputValue: Resolver = (path) =>
    path.startsWith("decision.") ? (choices[path.slice("decision.".length)] ?? null) : inputs(path);

  const decisions: Decision[] = ruleSet.capabilities.map((capability) => {
    const d = result.decisions.get(capability)!;
    const decision: Decision = {
      capability: capability as Capability,
      choice: d.choice,
      rule: d.rule.id,
      because: d.because,
      inputs: [...d.rule.inputs],
      alternatives: d.alternatives,
      params: d.params,
      decidedBy: d.decidedBy,
    };
    if (d.rule.openChoices) decision.openChoices = [...d.rule.openChoices];
    return decision;
  });

  const averageQps = resolveAverageQps(spec);
  const { capacity, rowsPerSecond } = sizeCapacity({
    spec,
    workload,
    prices,
    mode: choices["serving.mode"],
    hardware: choices["serving.hardware"],
    runtime: choices["serving.runtime"],
    averageQps,
  });
  const training = estimateTraining(spec, workload, ruleSet.models, prices);
  const costContext = {
    spec,
    prices: regional,
    capacity,
    choices,
    averageQps,
    batchRowsPerSecond: rowsPerSecond,
    spotForBatch: false,
    singleNatGateway: false,
    training,
    // the dual-region location a Google Cloud plan's regions share (the data bucket's)
    dualRegion: ruleSet.regions.clouds[spec.cloud.provider]?.[spec.cloud.region]?.dualRegion ?? null,
  };
  const inventory = inventoryFor(costContext);
  const addons = addonsFor(costContext);
  const cost = estimateCost(costContext, inventory);
  const { controls, warnings: controlWarnings } = mapControls(spec, ruleSet.controls, choices, inventory);
  const availability = availabilityOf(spec, ruleSet.regions, choices);
  const warnings: PlanWarning[] = [
    ...findContradictions(spec, workload, ruleSet.regions, choices, isProvided, availability),
    ...controlWarnings,
    ...budgetWarnings(costContext, cost),
    ...logWarnings(cost),
    ...regionalPriceWarnings(cost, spec.cloud.provider),
    ...contactWarnings(spec),
    ...toolWarnings(spec, ruleSet.knownTools),
    ...architectureWarnings(spec, ruleSet.models),
    ...calibrationWarnings(spec, calibration, workload, capacity),
    ...grpcWarnings(spec, choices),
    ...llmWarnings(workload, capacity),
    ...trainingWarnings(spec, training),
    ...multiRegionWarnings({ inventory }, spec, choices, availability),
  ].sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      ((a.path ?? "") < (b.path ?? "") ? -1 : 1),
  );

  const plan: Plan = {
    spec: { name: spec.metadata.name, hash: hashValue(spec) },
    ruleSet: { hash: ruleSet.hash, version: ruleSet.version },
    decisions,
    controls,
    capacity,
    availability,
    cost,
    inventory,
    addons,
    warnings,
    defaults,
    requirements: spec,
  };
  return { plan, traces: result.traces, inputValue, workload };
}

/**
 * A multi-region plan whose other regions the Terraform does not build yet: said once, so nothing
 * (the capacity line, the availability section) reads as built.
 */
function multiRegionWarnings(
  plan: Pick<Plan, "inventory">,
  spec: ResolvedSpec,
  choices: Record<string, string>,
  availability: Availability | null,
): PlanWarning[] {
  if (availability === null) return [];
  const others = availability.regions.filter((r) => r.role === "secondary").map((r) => r.name);
  const all = availability.regions.map((r) => r.name).join(" and ");
  if (!buildsRegions({ spec, choices }))
    return [
      {
        code: "MULTI_REGION_NOT_BUILT",
        severity: "warning",
        path: "availability.regions",
        message: `the plan serves from ${all} (${availability.failover}), but the generated Terraform builds ${spec.cloud.region} only${MULTI_REGION_CLOUDS.has(spec.cloud.provider) ? ` (on ${spec.cloud.provider} it builds other regions for the kubernetes runtime, not ${choices["serving.runtime"]})` : ""}: ${others.join(", ")}, the ${availability.routing.mechanism} and the stores' replication are not generated, and the cost prices ${spec.cloud.region} alone`,
        suggestion: MULTI_REGION_CLOUDS.has(spec.cloud.provider)
          ? "run on the kubernetes runtime (serving.runtime) to build every region, or serve from one region"
          : "build the other regions from the same stack, or serve from one region",
      },
    ];
  // the global routing's resources are priced as one item, on every cloud
  const routed = (plan.inventory?.resources ?? []).some((r) => r.item === "Global routing");
  const runtime = choices["serving.runtime"] ?? "";
  const gitops = choices["deployment.access"] === "gitops";
  const deployed = deploysOtherRegions(spec.cloud.provider, runtime, choices["deployment.access"] ?? "");
  const cluster = runtime === "kubernetes";
  const missing: Array<{ what: string; instead: string }> = [];
  // only an endpoint is routed: batch runs and stream consumers have no entry point
  if (!routed && choices["serving.mode"] === "realtime")
    missing.push(
      cluster
        ? {
            what: `the ${availability.routing.mechanism} (the chart has no Ingress to route to: it renders one behind a WAF, security.network private-with-waf)`,
            instead:
              "serve behind a WAF (security.network private-with-waf) so each region has an entry point to route to",
          }
        : {
            what: "the routing between the regions' serverless endpoints",
            instead: "route between each region's load balancer yourself (its stack's outputs)",
          },
    );
  if (!deployed)
    missing.push(
      cluster && gitops
        ? {
            what: `the release to ${others.join(", ")} (under GitOps each region's controller must sync it)`,
            instead: `point a GitOps controller in ${others.map((r) => `${r}'s cluster`).join(", ")} at deploy/gitops, adding values-region-<region>.yaml`,
          }
        : {
            what: `the release to ${others.join(", ")} (deploy.yml updates ${spec.cloud.region}'s services and jobs only)`,
            instead: `update the services and jobs of ${others.map((r) => `infra/terraform/${spec.cloud.provider}/regions/${r}`).join(", ")} with each released image`,
          },
    );
  if (missing.length === 0) return [];
  return [
    {
      code: "MULTI_REGION_NOT_BUILT",
      severity: "warning",
      path: "availability.regions",
      message: `the plan serves from ${all} (${availability.failover}): every region's stack, its cost and the data bucket's replication are built, but not ${missing.map((m) => m.what).join(", nor ")}`,
      suggestion: missing.map((m) => m.instead).join("; "),
    },
  ];
}

/** A training run longer than the time between runs overlaps the next: the cheapest fix, named. */
function trainingWarnings(spec: ResolvedSpec, training: TrainingPlan): PlanWarning[] {
  if (training.cadenceHours === null || training.hoursPerRun <= training.cadenceHours) return [];
  const cadences = (["daily", "weekly", "monthly"] as const).filter(
    (c) => (CADENCE_HOURS[c] ?? 0) >= training.hoursPerRun,
  );
  return [
    {
      code: "TRAINING_EXCEEDS_CADENCE",
      severity: "error",
      path: "training.cadence",
      message: `a ${spec.training.cadence} training run takes an estimated ${training.hoursPerRun} h even on the fastest option (${training.instances > 1 ? `${training.instances} x ` : ""}${training.instance}), longer than the ${training.cadenceHours} h between runs: ${training.basis}`,
      suggestion: cadences.length
        ? `train ${cadences[0]} (a run fits in ${CADENCE_HOURS[cadences[0]]} h), or train on less data (training.datasetGb)`
        : "train on less data (training.datasetGb), or fine-tune fewer parameters",
    },
  ];
}

/** An LLM no GPU instance of the price table can serve within its targets is said so. */
function llmWarnings(workload: Workload, capacity: Plan["capacity"]): PlanWarning[] {
  if (!workload.llm || workload.classical || workload.llmSizing || capacity.hardware !== "gpu") return [];
  return [
    {
      code: "LLM_TARGETS_UNMET",
      severity: "warning",
      path: "inference.llm",
      message: `no GPU instance in the price table serves this model's sessions within inference.latencyP99Ms and the inference.llm targets (weights and every session's KV cache in memory, decode within the inter-token budget): the capacity shown serves one session at a time on ${capacity.instanceType}`,
      suggestion:
        "relax the latency targets, shorten inference.llm.contextTokens or outputTokens, or allow quantization (budget.priority balanced or cost)",
    },
  ];
}

/** model.architecture names an architecture of rules/models.yaml, whose figures size the replicas. */
function architectureWarnings(spec: ResolvedSpec, models: ModelCatalog): PlanWarning[] {
  const name = spec.model.architecture;
  if (name === null || Object.hasOwn(models.architectures, name)) return [];
  return [
    {
      code: "UNKNOWN_ARCHITECTURE",
      severity: "error",
      path: "model.architecture",
      message: `model.architecture ${name} is not in the model catalog (rules/models.yaml): its compute is unknown, so the capacity falls back to an estimate from the parameter count`,
      suggestion: `use one of ${Object.keys(models.architectures).join(", ")}, or leave it out and give model.gflopsPerRow`,
    },
  ];
}

/**
 * Tools the team runs that no rule tells apart: nothing in the plan reuses them, which the team
 * should hear rather than find out (the known ones are read from the rules, rules/decisions/).
 */
function toolWarnings(spec: ResolvedSpec, known: readonly string[]): PlanWarning[] {
  const unknown = spec.team.existingTools.filter((tool) => !known.includes(tool.toLowerCase()));
  if (unknown.length === 0) return [];
  return [
    {
      code: "UNKNOWN_TOOL",
      severity: "warning",
      path: "team.existingTools",
      message: `no rule reuses ${unknown.join(", ")}: the plan is the same as without ${unknown.length === 1 ? "it" : "them"}`,
      suggestion: `the tools the rules can reuse: ${known.join(", ")}; a rule in rules/decisions/ that reads facts.tools adds one`,
    },
  ];
}

/**
 * A calibration the plan was given but could not size from (an LLM, a GPU it was not measured on, a
 * CPU measurement for a GPU plan), or one that looks like another model: said, never silently used.
 */
function calibrationWarnings(
  spec: ResolvedSpec,
  calibration: Calibration | null,
  workload: Workload,
  capacity: Plan["capacity"],
): PlanWarning[] {
  if (!calibration) return [];
  const warnings: PlanWarning[] = [];
  const on = calibrationMachine(calibration);
  if (!capacity.measured) {
    const why = workload.llm
      ? "an LLM is sized from its architecture (rules/models.yaml): one forward pass's timing does not give its tokens per second"
      : calibration.device === "cpu"
        ? `it was measured on CPU and the plan serves on ${capacity.gpuType ?? "a GPU"}${workload.gpuRecommended ? " (the measured CPU latency is what chose the GPU)" : ""}`
        : `it was measured on ${calibration.machine.gpu ?? calibration.device} and the plan serves on ${capacity.gpuType ?? "CPU"}`;
    warnings.push({
      code: "CALIBRATION_NOT_USED",
      severity: "warning",
      path: "model",
      message: `the calibration (${on}) does not size this plan: ${why}; the per-replica figure is estimated`,
      suggestion:
        calibration.device === "cpu"
          ? "run stackwright calibrate --device cuda on the plan's GPU to size it from a measurement"
          : "run stackwright calibrate on the hardware the plan serves on",
    });
  }
  const specBytes = spec.model.sizeMb * 1e6;
  const ratio = calibration.model.bytes / Math.max(1, specBytes);
  if (ratio > 2 || ratio < 0.5)
    warnings.push({
      code: "CALIBRATION_MODEL_SIZE",
      severity: "warning",
      path: "model.sizeMb",
      message: `the calibrated ${calibration.model.file} is ${Math.round(calibration.model.bytes / 1e5) / 10} MB but model.sizeMb is ${spec.model.sizeMb}: is it the model this spec describes?`,
      suggestion: "calibrate the model the spec describes, or correct model.sizeMb",
    });
  return warnings;
}

/**
 * Whether the platform serves the Open Inference Protocol over gRPC as well: the spec asks
 * (inference.grpc) and the endpoint is realtime on Kubernetes, where the chart exposes the port (a
 * serverless container takes one port). The chart, the serve command line and GRPC_NOT_SERVED read it.
 */
export function servesGrpc(
  spec: ResolvedSpec,
  choices: Readonly<Record<string, string | undefined>>,
): boolean {
  return (
    spec.inference.grpc &&
    choices["serving.mode"] === "realtime" &&
    choices["serving.runtime"] === "kubernetes"
  );
}

function grpcWarnings(spec: ResolvedSpec, choices: Record<string, string>): PlanWarning[] {
  if (!spec.inference.grpc || servesGrpc(spec, choices)) return [];
  return [
    {
      code: "GRPC_NOT_SERVED",
      severity: "warning",
      path: "inference.grpc",
      message: `gRPC is served on a realtime endpoint on Kubernetes; this plan's is ${choices["serving.mode"]} on ${choices["serving.runtime"]}, so only REST is served`,
      suggestion: "set inference.mode realtime on a Kubernetes runtime, or call the endpoint over REST",
    },
  ];
}

/** Budget, anomaly and alert notifications need someone to reach. */
function contactWarnings(spec: ResolvedSpec): PlanWarning[] {
  if (spec.metadata.contacts.length > 0) return [];
  return [
    {
      code: "NO_CONTACTS",
      severity: "warning",
      path: "metadata.contacts",
      message: "no contacts: budget, cost-anomaly and alert notifications are sent to nobody",
      suggestion: "add metadata.contacts: [team@example.com]",
    },
  ];
}

/** Lines the plan's region lists no rate for are priced at the table's base region: say which. */
function regionalPriceWarnings(cost: Cost, provider: string): PlanWarning[] {
  // each item at its own region's rates: the primary's, or a secondary region's
  const byRegion = new Map<string, CostLine[]>();
  for (const item of cost.items) {
    const region = item.region ?? cost.region;
    const fallbacks = item.lines.filter((l) => l.region !== region);
    if (fallbacks.length > 0) byRegion.set(region, [...(byRegion.get(region) ?? []), ...fallbacks]);
  }
  return [...byRegion].map(([region, fallbacks]) => ({
    code: "PRICES_FROM_OTHER_REGION",
    severity: "warning" as const,
    path: region === cost.region ? "cloud.region" : "availability.regions",
    message: `the ${provider} price table has no ${region} rate for ${[...new Set(fallbacks.map((l) => l.price))].sort().join(", ")}: priced at ${fallbacks[0].region} rates`,
    suggestion: `add ${region} to regions: in rules/prices/${provider}.yaml, each row with its source and date`,
  }));
}

/**
 * What the clock decides: PRICES_STALE when the oldest price row the cost used is older than
 * STALE_PRICES_DAYS at `now`, KUBERNETES_VERSION_EXPIRED when the cluster's pin left support. The
 * clock is an input: `plan` adds this to what it prints (stderr and the JSON), never to the Plan that
 * generators read, so generated files do not change with the calendar.
 */
export function datedWarnings(plan: Plan, now: Date): PlanWarning[] {
  return [...priceAgeWarnings(plan, now), ...expiredVersionWarnings(plan, now)];
}

/** KUBERNETES_VERSION_EXPIRED: the cluster's pinned version is past its end of standard support at `now`. */
function expiredVersionWarnings(plan: Plan, now: Date): PlanWarning[] {
  const pinned = plan.inventory?.vars.kubernetesVersion;
  if (!pinned) return [];
  return expiredPins(now)
    .filter((pin) => pin.cloud === plan.inventory?.cloud && pin.version === pinned)
    .map((pin) => ({
      code: "KUBERNETES_VERSION_EXPIRED",
      severity: "warning" as const,
      path: "cloud.provider",
      message: `${pin.what} ${pin.version} left standard support on ${pin.endOfStandardSupport} (${pin.source}): the cluster costs the extended-support rate and stops getting fixes`,
      suggestion:
        "upgrade stackwright (its next release pins a supported version), or raise kubernetes_version in the generated cluster.tf",
    }));
}

function priceAgeWarnings(plan: Plan, now: Date): PlanWarning[] {
  const age = ageInDays(plan.cost.pricesAsOf, now);
  if (age <= STALE_PRICES_DAYS) return [];
  return [
    {
      code: "PRICES_STALE",
      severity: "warning",
      path: "cost.pricesAsOf",
      message: `the oldest price the cost uses is from ${plan.cost.pricesAsOf}, ${age} days before ${now.toISOString().slice(0, 10)} (more than ${STALE_PRICES_DAYS}): list prices may have changed`,
      suggestion: `re-check the rows' sources (cost.items[].lines[].source) and update rules/prices/${plan.requirements.cloud.provider}.yaml with their date and provenance`,
    },
  ];
}

/** A spec that failed to load or validate: every problem at once. */
export class SpecError extends Error {
  override readonly name = "SpecError";
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
  }
}

export async function loadSpecOrThrow(path: string): Promise<Spec> {
  const loaded = await loadSpecFile(path);
  if (!loaded.ok) throw new SpecError(path, loaded.problems);
  return loaded.spec;
}

export async function planSpecFile(
  path: string,
  options: PlanOptions = {},
): Promise<{ spec: Spec; plan: Plan }> {
  const spec = await loadSpecOrThrow(path);
  return { spec, plan: createPlan(spec, options) };
}

export function decisionOf(plan: Plan, capability: Capability): Decision {
  const found = plan.decisions.find((d) => d.capability === capability);
  if (!found) throw new Error(`the plan has no decision for ${capability}`);
  return found;
}

/** The plan's choices by capability, as the inventory stage reads them. */
export function choicesOf(plan: Plan): Record<string, string> {
  return Object.fromEntries(plan.decisions.map((d) => [d.capability, d.choice]));
}

export function choiceOf(plan: Plan, capability: Capability): string {
  return decisionOf(plan, capability).choice;
}

export function planErrors(plan: Plan): PlanWarning[] {
  return plan.warnings.filter((w) => w.severity === "error");
}

export type { Value };
