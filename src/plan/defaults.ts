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
  const regions = resolveRegions(spec, region, ruleSet, reasons);
  const multiRegion = spec.availability.multiRegion || regions.length > 1;
  if (multiRegion && !spec.availability.multiRegion)
    reasons.set("availability.multiRegion", `availability.regions lists ${regions.length} regions`);
  const failover = regions.length > 1 ? (spec.availability.failover ?? "active-passive") : null;
  if (regions.length > 1 && spec.availability.failover === null)
    reasons.set(
      "availability.failover",
      "a warm standby: the other region runs its minimum replicas and takes the traffic when the primary fails its health checks",
    );
  const partial: ModeInputSpec = {
    ...spec,
    inference: { ...spec.inference, peakQps: peak },
    cloud: { ...spec.cloud, region },
    availability: { ...spec.availability, multiRegion, regions, failover },
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
  const listed = spec.availability.regions?.[0];
  if (listed !== undefined) {
    reasons.set("cloud.region", "the first of availability.regions");
    return listed;
  }
  const provider = spec.cloud.provider;
  const fallback = DEFAULT_REGIONS[provider];
  const catalog = ruleSet.regions.clouds[provider] ?? {};
  const { fits, needs } = regionConstraints(spec, ruleSet);
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

/** Which catalogued regions may hold the workload (residency, HIPAA), and those needs in words. */
function regionConstraints(
  spec: Spec,
  ruleSet: RuleSet,
): { fits: (name: string) => boolean; needs: string[] } {
  const catalog = ruleSet.regions.clouds[spec.cloud.provider] ?? {};
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
  return { fits, needs };
}

/**
 * The regions the plan serves from, the primary first: the spec's list, or the primary alone, or
 * (multiRegion without a list) the primary and a second region that meets the same residency and
 * HIPAA needs: the primary's failover partner in the catalog, else the first other region that fits
 * in the primary's jurisdiction. A list that breaks the constraints is kept as written: the
 * contradictions say what is wrong with it.
 */
function resolveRegions(
  spec: Spec,
  primary: string,
  ruleSet: RuleSet,
  reasons: Map<string, string>,
): string[] {
  if (spec.availability.regions !== null) return spec.availability.regions;
  if (!spec.availability.multiRegion || spec.cloud.provider === "kubernetes") return [primary];
  const catalog = ruleSet.regions.clouds[spec.cloud.provider] ?? {};
  const { fits, needs } = regionConstraints(spec, ruleSet);
  const partner = catalog[primary]?.failoverTo;
  const jurisdiction = catalog[primary]?.jurisdiction;
  const second =
    partner !== undefined && fits(partner)
      ? partner
      : Object.keys(catalog).find(
          (name) => name !== primary && fits(name) && catalog[name].jurisdiction === jurisdiction,
        );
  if (second === undefined) {
    reasons.set(
      "availability.regions",
      `no other catalogued region meets ${needs.join(" and ") || "the primary's jurisdiction"}`,
    );
    return [primary];
  }
  reasons.set(
    "availability.regions",
    second === partner
      ? `${primary} and its failover partner in rules/regions.yaml${needs.length ? `, which meets ${needs.join(" and ")}` : ""}`
      : `${primary} and the first other ${jurisdiction ?? ""} region in rules/regions.yaml that meets ${needs.join(" and ") || "the same jurisdiction"}`,
  );
  return [primary, second];
}

function resolveLatency(spec: ModeInputSpec, ruleSet: RuleSet, reasons: Map<string, string>): number {
  if (spec.inference.latencyP99Ms !== null) return spec.inference.latencyP99Ms;
  const prices = ruleSet.prices.get(spec.cloud.provider);
  if (!prices) throw new Error(`the rule set has no price table for ${spec.cloud.provider}`);
  // the mode rules read the latency as null here: an unstated budget constrains nothing
  const inputs = inputResolver(spec, computeFacts(spec, estimateWorkload(spec, prices, ruleSet.models)));
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
      : mode === "streaming"
        ? `streaming plan (rule ${rule.id}): events scored within ${ms / 1000} s end to end`
        : `${mode} plan (rule ${rule.id}): the ${ms} ms a machine or an application acts within on the device`,
  );
  return ms;
}
