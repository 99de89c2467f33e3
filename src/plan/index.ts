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
  type Resolver,
  type RuleSet,
  type Value,
} from "../engine/index.js";
import { loadSpecFile, type Problem, parseSpecValue, type Spec } from "../requirements/index.js";
import { hashValue } from "../util/canonical.js";
import { estimateWorkload, resolveAverageQps, sizeCapacity, type Workload } from "./capacity.js";
import { findContradictions } from "./contradictions.js";
import { mapControls } from "./controls.js";
import { budgetWarnings, estimateCost } from "./cost.js";
import { resolveDefaults } from "./defaults.js";
import { computeFacts, inputResolver, knownInputs } from "./facts.js";
import type { Capability, Decision, Plan, PlanWarning } from "./types.js";

export { FACT_DESCRIPTIONS } from "./facts.js";
export * from "./types.js";

let cached: RuleSet | undefined;

/** Input paths rules may read: every spec field (from a fully defaulted spec) and every fact. */
export function specInputs(): string[] {
  const minimal = parseSpecValue({ metadata: { name: "inputs" } });
  if (!minimal.ok) throw new Error("the minimal spec does not parse");
  return knownInputs(minimal.spec);
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
  const prices = ruleSet.prices.get(spec.cloud.provider);
  if (!prices) throw new Error(`the rule set has no price table for ${spec.cloud.provider}`);
  const workload = estimateWorkload(spec, prices);
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
  const costContext = {
    spec,
    prices,
    capacity,
    choices,
    averageQps,
    batchRowsPerSecond: rowsPerSecond,
    spotForBatch: false,
    singleNatGateway: false,
  };
  const cost = estimateCost(costContext);
  const { controls, warnings: controlWarnings } = mapControls(spec, ruleSet.controls, choices);
  const warnings: PlanWarning[] = [
    ...findContradictions(spec, workload, ruleSet.regions, choices, isProvided),
    ...controlWarnings,
    ...budgetWarnings(costContext, cost),
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
    cost,
    warnings,
    defaults,
    requirements: spec,
  };
  return { plan, traces: result.traces, inputValue, workload };
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

export function choiceOf(plan: Plan, capability: Capability): string {
  return decisionOf(plan, capability).choice;
}

export function planErrors(plan: Plan): PlanWarning[] {
  return plan.warnings.filter((w) => w.severity === "error");
}

export type { Value };
