/**
 * Defaults that follow the rest of the spec. A parsed spec leaves three fields null when the user did
 * not give them, because the right default depends on something else: the p99 latency on the serving
 * mode the rules decide (a realtime endpoint, a stream consumer and a batch run have different
 * budgets), the peak on the average, and the region on residency and HIPAA. This stage fills them in
 * and lists every value the user did not give, so the plan can mark it `source: default` and no
 * contradiction is ever raised against a value the user never chose.
 */
import { decideCapability, evaluate, type RuleSet } from "../engine/index.js";
import {
  DEFAULT_PEAK_QPS,
  DEFAULT_REGIONS,
  MODE_LATENCY_DEFAULTS_MS,
  type ModeInputSpec,
  providedPaths,
  type ResolvedSpec,
  type Spec,
} from "../requirements/index.js";
import { AVERAGE_TO_PEAK_RATIO, estimateWorkload } from "./capacity.js";
import { computeFacts, flattenSpec, inputResolver } from "./facts.js";
import type { DefaultValue } from "./types.js";

export interface ResolvedDefaults {
  spec: ResolvedSpec;
  /** every value the user did not give, in path order; `because` where the default follows other fields */
  defaults: DefaultValue[];
  /** paths the user gave (every path when the spec was not parsed from a document) */
  isProvided: (path: string) => boolean;
}

export function resolveDefaults(spec: Spec, ruleSet: RuleSet): ResolvedDefaults {
  const provided = providedPaths(spec);
  const reasons = new Map<string, string>();

  const peak = resolvePeak(spec, reasons);
  const region = resolveRegion(spec, ruleSet, reasons);
  const partial: ModeInputSpec = {
    ...spec,
    inference: { ...spec.inference, peakQps: peak },
    cloud: { ...spec.cloud, region },
  };
  const latency = resolveLatency(partial, ruleSet, reasons);
  const resolved: ResolvedSpec = { ...partial, inference: { ...partial.inference, latencyP99Ms: latency } };

  const isProvided = (path: string) => !reasons.has(path) && (provided ? provided.has(path) : true);
  const defaults: DefaultValue[] = [];
  for (const [path, value] of flattenSpec(resolved)) {
    if (isProvided(path)) continue;
    const because = reasons.get(path);
    defaults.push(because ? { path, value, source: "default", because } : { path, value, source: "default" });
  }
  defaults.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { spec: resolved, defaults, isProvided };
}

function resolvePeak(spec: Spec, reasons: Map<string, string>): number {
  const { peakQps, averageQps, trafficPattern } = spec.inference;
  if (peakQps !== null) return peakQps;
  if (averageQps !== null) {
    const peak = Math.ceil(averageQps / AVERAGE_TO_PEAK_RATIO[trafficPattern]);
    reasons.set(
      "inference.peakQps",
      `no peak given: the ${averageQps} QPS average over the ${trafficPattern} pattern's average/peak ratio of ${AVERAGE_TO_PEAK_RATIO[trafficPattern]}`,
    );
    return peak;
  }
  reasons.set("inference.peakQps", `neither peak nor average given: ${DEFAULT_PEAK_QPS} QPS`);
  return DEFAULT_PEAK_QPS;
}

function resolveRegion(spec: Spec, ruleSet: RuleSet, reasons: Map<string, string>): string {
  if (spec.cloud.region !== null) return spec.cloud.region;
  const provider = spec.cloud.provider;
  const fallback = DEFAULT_REGIONS[provider];
  const catalog = ruleSet.regions.clouds[provider] ?? {};
  const hipaa = spec.compliance.includes("hipaa");
  const fits = (name: string) => {
    const region = catalog[name];
    if (!region) return spec.dataResidency === "any" && !hipaa;
    return (
      (spec.dataResidency === "any" || region.jurisdiction === spec.dataResidency) &&
      (!hipaa || region.hipaaEligible)
    );
  };
  const needs = [
    spec.dataResidency !== "any" ? `data residency ${spec.dataResidency}` : "",
    hipaa ? "HIPAA eligibility" : "",
  ].filter(Boolean);
  if (fits(fallback)) {
    reasons.set(
      "cloud.region",
      `${provider}'s default region${needs.length ? `, which meets ${needs.join(" and ")}` : ""}`,
    );
    return fallback;
  }
  const first = Object.keys(catalog).find(fits);
  if (!first) {
    // nothing in the catalog meets the constraints: keep the provider default and let the
    // contradiction (raised against dataResidency / compliance, which the user gave) explain why
    reasons.set(
      "cloud.region",
      `${provider}'s default region; no catalogued region meets ${needs.join(" and ")}`,
    );
    return fallback;
  }
  reasons.set(
    "cloud.region",
    `the first ${provider} region in rules/regions.yaml that meets ${needs.join(" and ")}`,
  );
  return first;
}

function resolveLatency(spec: ModeInputSpec, ruleSet: RuleSet, reasons: Map<string, string>): number {
  if (spec.inference.latencyP99Ms !== null) return spec.inference.latencyP99Ms;
  const prices = ruleSet.prices.get(spec.cloud.provider);
  if (!prices) throw new Error(`the rule set has no price table for ${spec.cloud.provider}`);
  // the mode rules read the latency as null here: an unstated budget constrains nothing
  const inputs = inputResolver(spec, computeFacts(spec, estimateWorkload(spec, prices)));
  const rule = decideCapability(ruleSet, "serving.mode", inputs);
  const mode = rule.choice;
  if (mode === "batch") {
    const deadline = rule.paramExpressions.deadlineHours;
    const hours = deadline ? Number(evaluate(deadline, inputs)) : Number.NaN;
    if (!Number.isFinite(hours) || hours <= 0) {
      throw new Error(
        `rule ${rule.id} decides batch but gives no deadlineHours parameter for the default latency`,
      );
    }
    reasons.set(
      "inference.latencyP99Ms",
      `batch plan (rule ${rule.id}): results are awaited only by the run deadline of ${hours} h`,
    );
    return hours * 3_600_000;
  }
  const ms = MODE_LATENCY_DEFAULTS_MS[mode as keyof typeof MODE_LATENCY_DEFAULTS_MS];
  if (ms === undefined) throw new Error(`no default latency for serving mode ${mode}`);
  reasons.set(
    "inference.latencyP99Ms",
    mode === "realtime"
      ? `realtime plan (rule ${rule.id}): a typical interactive budget of ${ms} ms`
      : `streaming plan (rule ${rule.id}): events scored within ${ms / 1000} s end to end`,
  );
  return ms;
}
