/**
 * One decision in full: the rule that won (file, priority, condition), every input it read with its
 * value and whether that value was a default, its parameters, the alternatives and why they lost,
 * and the rules that also matched or were set aside. The CLI's `explain` and the MCP tool
 * `explain_decision` both print this.
 */
import { z } from "zod";
import type { RuleSet, Value } from "../engine/index.js";
import type { Spec } from "../requirements/index.js";
import type { Calibration } from "./calibration.js";
import { CAPACITY_CONSTANTS } from "./capacity.js";
import { FACT_DESCRIPTIONS } from "./facts.js";
import { loadDefaultRuleSet, planWithTrace } from "./index.js";
import { type Capability, defaultValueSchema } from "./types.js";

export const explanationSchema = z.object({
  capability: z.string(),
  choice: z.string(),
  rule: z.object({
    id: z.string(),
    file: z.string(),
    priority: z.number(),
    description: z.string(),
    when: z.string().nullable(),
  }),
  because: z.string(),
  /** every input the rule names or its condition reads, with the value the plan used */
  inputs: z.record(z.string(), z.unknown()),
  /** the inputs whose value the user did not give */
  defaults: z.array(defaultValueSchema),
  params: z.record(z.string(), z.unknown()),
  alternatives: z.array(z.object({ choice: z.string(), rejectedBecause: z.string() })),
  alsoMatched: z.array(z.string()),
  setAside: z.array(z.object({ rule: z.string(), reason: z.string() })),
  openChoices: z.array(z.string()).nullable(),
  decidedBy: z.enum(["rules", "advisor"]),
});
export type Explanation = z.infer<typeof explanationSchema>;

/** Paths a condition reads (spec fields, facts.*, decision.*). */
function referenced(when: string | undefined): string[] {
  if (!when) return [];
  return [...when.matchAll(/\b(?:facts|decision|[a-zA-Z]+)\.[A-Za-z0-9_.-]+/g)]
    .map((m) => m[0])
    .filter((p) => !/^\d/.test(p));
}

export function explainDecision(
  spec: Spec,
  capability: Capability,
  ruleSet: RuleSet = loadDefaultRuleSet(),
  calibration: Calibration | null = null,
): Explanation {
  const { plan, traces, inputValue } = planWithTrace(spec, { ruleSet, calibration });
  const decision = plan.decisions.find((d) => d.capability === capability);
  if (!decision) throw new Error(`the plan has no decision for ${capability}`);
  const rule = (ruleSet.rules.get(capability) ?? []).find((r) => r.id === decision.rule);
  if (!rule) throw new Error(`rule ${decision.rule} is not in the rule set`);
  const trace = traces.get(capability) ?? { matched: [], setAside: [] };
  const paths = [...new Set([...decision.inputs, ...referenced(rule.when)])].sort();
  const defaulted = new Map(plan.defaults.map((d) => [d.path, d]));
  return {
    capability,
    choice: decision.choice,
    rule: {
      id: rule.id,
      file: rule.file,
      priority: rule.priority,
      description: rule.description,
      when: rule.when ?? null,
    },
    because: decision.because,
    inputs: Object.fromEntries(paths.map((path) => [path, inputValue(path) ?? null])),
    defaults: paths.flatMap((path) => (defaulted.has(path) ? [defaulted.get(path)!] : [])),
    params: decision.params,
    alternatives: decision.alternatives,
    alsoMatched: trace.matched.filter((id) => id !== rule.id),
    setAside: trace.setAside,
    openChoices: decision.openChoices ?? null,
    decidedBy: decision.decidedBy,
  };
}

/** The explanation as a person reads it. */
export function formatExplanation(e: Explanation): string {
  const out: string[] = [];
  out.push(`${e.capability} = ${e.choice}`, "", `Because ${e.because}.`, "");
  out.push(
    `Rule     ${e.rule.id} (rules/${e.rule.file}, priority ${e.rule.priority}${e.rule.when ? "" : ", the default"})`,
  );
  out.push(`         ${e.rule.description}`);
  if (e.rule.when) out.push(`When     ${e.rule.when}`);
  out.push("", "Inputs");
  const defaulted = new Map(e.defaults.map((d) => [d.path, d]));
  for (const [path, value] of Object.entries(e.inputs)) {
    const fact = path.startsWith("facts.")
      ? FACT_DESCRIPTIONS[path.slice(6) as keyof typeof FACT_DESCRIPTIONS]
      : undefined;
    const given = defaulted.get(path);
    const note =
      fact ?? (given ? `default${given.because ? `: ${given.because}` : ", not in the spec"}` : undefined);
    out.push(`  ${path} = ${JSON.stringify(value as Value)}${note ? `  (${note})` : ""}`);
  }
  if (Object.keys(e.params).length) {
    out.push("", "Parameters");
    for (const [key, value] of Object.entries(e.params)) out.push(`  ${key} = ${JSON.stringify(value)}`);
  }
  out.push("", "Alternatives");
  if (e.alternatives.length === 0) out.push("  (none considered)");
  for (const alt of e.alternatives) out.push(`  ${alt.choice}: rejected because ${alt.rejectedBecause}`);
  if (e.alsoMatched.length) out.push("", `Also matched, lower priority: ${e.alsoMatched.join(", ")}`);
  for (const aside of e.setAside) out.push(`Set aside: ${aside.rule} (${aside.reason})`);
  if (e.openChoices) out.push(`Open choices for the advisor: ${e.openChoices.join(", ")}`);
  return `${out.join("\n")}\n`;
}

export const capacityExplanationSchema = z.object({
  capacity: z.record(z.string(), z.unknown()),
  /** the arithmetic in order: each step's result and what it rests on (a source, or "estimated") */
  steps: z.array(z.object({ step: z.string(), value: z.string(), basis: z.string() })),
});
export type CapacityExplanation = z.infer<typeof capacityExplanationSchema>;

/** The capacity arithmetic step by step, each constant with its source or labelled an estimate. */
export function explainCapacity(
  spec: Spec,
  ruleSet: RuleSet = loadDefaultRuleSet(),
  calibration: Calibration | null = null,
): CapacityExplanation {
  const { plan, workload } = planWithTrace(spec, { ruleSet, calibration });
  const c = plan.capacity;
  const steps: CapacityExplanation["steps"] = [];
  steps.push({
    step: "FLOPs per row",
    value: `${(workload.flopsPerRow / 1e9).toPrecision(4)} GFLOP`,
    basis: workload.flopsBasis,
  });
  if (workload.rowsPerRequest > 1)
    steps.push({
      step: "Rows per request",
      value: String(workload.rowsPerRequest),
      basis: "inference.rowsPerRequest",
    });
  steps.push({
    step: "Parameters",
    value: `${workload.parametersMillions}M dense${workload.embeddingParametersMillions ? ` + ${workload.embeddingParametersMillions}M in embedding tables` : ""}`,
    basis:
      spec.model.parametersMillions !== null
        ? "model.parametersMillions"
        : spec.model.architecture
          ? `model.architecture (rules/models.yaml)`
          : "estimated from model.sizeMb at 4 bytes a parameter",
  });
  steps.push({
    step: "Model latency of a request on CPU",
    value: `${round3(workload.cpuRowLatencyMs)} ms`,
    basis: workload.cpuLatencyBasis,
  });
  if (c.measured)
    steps.push({
      step: "Measured throughput",
      value: `${c.measured.rowsPerSecondPerUnit} rows/s per ${c.measured.unit === "vcpu" ? "vCPU" : "GPU"} at batches of ${c.measured.batchRows} (p99 ${c.measured.p99Ms} ms)`,
      basis: `measured on ${c.measured.on} (stackwright calibrate): replaces the FLOP estimate`,
    });
  for (const [name, { value, basis }] of Object.entries(CAPACITY_CONSTANTS))
    steps.push({ step: name, value: String(value), basis });
  // the GPU's own figures, with their datasheet (rules/models.yaml gpus)
  const gpuRow = ruleSet.prices
    .get(spec.cloud.provider)
    ?.gpuInstances.find((i) => c.hardware === "gpu" && i.name === c.instanceType);
  const gpu = gpuRow ? ruleSet.models.gpus[gpuRow.gpuModel] : undefined;
  if (gpuRow && gpu)
    steps.push({
      step: "GPU",
      value: `${gpuRow.gpuCount} x ${gpu.title}: ${gpu.memoryGb} GB, ${gpu.fp16Tflops} FP16${gpu.fp8Tflops ? ` / ${gpu.fp8Tflops} FP8` : ""} TFLOPS dense, ${gpu.bandwidthGbps} GB/s`,
      basis: `${gpu.basis} (${gpu.source})`,
    });
  if (workload.llmSizing) {
    const serving = ruleSet.models.serving;
    for (const [name, figure] of Object.entries(serving))
      steps.push({
        step: `llm.${name}`,
        value: String(figure.value),
        basis: `${figure.basis} (${figure.source})`,
      });
  }
  steps.push({
    step: "Per replica",
    value: `${c.perReplicaQps} QPS on ${c.instanceType}`,
    basis: c.estimatedFrom,
  });
  steps.push({
    step: "Replicas",
    value: `${c.replicasMin}-${c.replicasMax} across ${c.zones} zone(s)${c.regions > 1 ? ` in ${c.regions} regions` : ""}`,
    basis: `peak and average load at ${c.targetUtilization} target utilisation, the availability minimum for ${plan.requirements.availability.targetPercent}%`,
  });
  const training = plan.cost.excluded.find((e) => e.name === "Training runs");
  if (training)
    steps.push({ step: "Training", value: `$${training.monthlyUsd}/month, apart`, basis: training.reason });
  return { capacity: c as unknown as Record<string, unknown>, steps };
}

export function formatCapacityExplanation(e: CapacityExplanation): string {
  const c = e.capacity as {
    replicasMin: number;
    replicasMax: number;
    instanceType: string;
    hardware: string;
  };
  const out = [`capacity = ${c.replicasMin}-${c.replicasMax} x ${c.instanceType} (${c.hardware})`, ""];
  const width = Math.max(...e.steps.map((s) => s.step.length));
  for (const s of e.steps)
    out.push(`${s.step.padEnd(width)}  ${s.value}`, `${" ".repeat(width)}  ${s.basis}`);
  return `${out.join("\n")}\n`;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
