/**
 * What rules may read: every spec field by its dotted path, plus derived `facts.*` computed here in
 * plain code (so rule files stay declarative). The list of names is passed to the rule loader, which
 * refuses a rule that reads anything else.
 */
import type { Resolver, Value } from "../engine/index.js";
import { EVENT_LOG_SOURCES, type ModeInputSpec } from "../requirements/index.js";
import { resolveAverageQps, type Workload } from "./capacity.js";

const WAREHOUSES = ["bigquery", "snowflake", "redshift", "databricks"];

/** Each cloud's managed model endpoint, as the rules' reasons name it (src/generate/managed-endpoint.ts builds them). */
const MANAGED_ENDPOINT_SERVICE: Record<string, string> = {
  aws: "a SageMaker real-time endpoint",
  gcp: "a Vertex AI endpoint",
  azure: "an Azure ML managed online endpoint",
};

const CLOUD_METRICS: Record<string, string> = {
  aws: "CloudWatch",
  gcp: "Cloud Monitoring",
  azure: "Azure Monitor",
};

export const FACT_DESCRIPTIONS = {
  averageQps: "average QPS, given or estimated from the peak and traffic pattern",
  eventLogSource: "a data source is an event log (kafka, kinesis, pubsub, eventhubs)",
  warehouseSource: "a data source is a warehouse (bigquery, snowflake, redshift, databricks)",
  classicalModel: "the model is a tree or linear model (sklearn, xgboost, lightgbm)",
  llm: "the model is an LLM (llm-generation or >= 1B parameters)",
  parametersMillions: "parameters in millions, given or estimated from the size (fp32)",
  cpuRowLatencyMs: "estimated model latency of one request (all its rows) on a 4-vCPU replica",
  gpuRecommended: "the capacity model wants a GPU (deep model over 100M parameters or too slow on CPU)",
  gpuRequired: "an LLM of 1B+ parameters: CPU serving is not viable",
  gpuCheaper:
    "a deep model's peak costs fewer node-hours on its GPU option than on the cheapest CPU instance",
  cpuPeakUsdPerHour:
    "node-hours per hour to serve the peak on the cheapest CPU instance (0 when not compared)",
  gpuPeakUsdPerHour: "node-hours per hour to serve the peak on the GPU option (0 when not compared)",
  gpuPrecision: "precision of the cheapest GPU option that fits (fp16, fp8, int8, int4), or none",
  gpuMemoryGb: "GPU memory the model needs at that precision, with headroom",
  llmTensorParallel: "an LLM's GPUs per replica, in one tensor-parallel group (0 when not an LLM on GPUs)",
  llmContextTokens: "tokens one LLM session holds, prompt and answer (0 when not an LLM on GPUs)",
  llmSessionsPerReplica: "LLM sessions one replica decodes at once (0 when not an LLM on GPUs)",
  managedEndpointInstance:
    "the managed endpoint's instance type (SageMaker's ml.*, a Vertex AI prediction node) mirroring the GPU option, when the price table has one; else empty",
  managedEndpointPremiumPercent:
    "how much more the managed endpoint's instance costs per hour than the virtual machine it mirrors, percent (0 when none)",
  managedEndpointService:
    "the cloud's managed model endpoint: a SageMaker real-time endpoint (aws), a Vertex AI endpoint (gcp), an Azure ML managed online endpoint (azure); else empty",
  cloudMetrics: "the cloud's monitoring service: CloudWatch, Cloud Monitoring, Azure Monitor (else empty)",
  deviceLatencyMs: "an edge or embedded plan's request time on one device at FP32, ms (0 otherwise)",
  deviceMemoryMbFp32: "the serving core's memory on one device with the model at FP32, MB (0 otherwise)",
  deviceMemoryMbInt8: "the same with the model quantized to int8, MB (0 otherwise)",
  deviceFitsFp32: "the model at FP32 fits the device's memory (edge.memoryMb)",
  deviceFitsInt8: "the model quantized to int8 fits the device's memory",
  tools: "team.existingTools in lower case",
  regulated: "any compliance framework applies",
  strictCompliance: "PCI DSS or HIPAA applies",
  existingCluster: "cloud.provider is kubernetes (the team's own cluster)",
  smallTeam: "team of two or fewer",
  lowLoad: "peak under 50 QPS",
  highTraffic: "peak of 500 QPS or more",
  highAvailability: "availability target of 99.95% or more",
  hasSchedule: "a batch schedule is given",
  freshFeatures: "feature freshness is realtime or minutes",
  labelsDelayed: "labels arrive a day or more after the prediction",
} as const;
export type FactName = keyof typeof FACT_DESCRIPTIONS;

export function computeFacts(spec: ModeInputSpec, workload: Workload): Record<FactName, Value> {
  const tools = spec.team.existingTools.map((t) => t.toLowerCase());
  return {
    averageQps: resolveAverageQps(spec),
    eventLogSource: spec.data.sources.some((s) => (EVENT_LOG_SOURCES as readonly string[]).includes(s)),
    warehouseSource: spec.data.sources.some((s) => WAREHOUSES.includes(s)),
    classicalModel: workload.classical,
    llm: workload.llm,
    parametersMillions: Math.round(workload.parametersMillions * 100) / 100,
    cpuRowLatencyMs: Math.round(workload.cpuRowLatencyMs * 1000) / 1000,
    gpuRecommended: workload.gpuRecommended,
    gpuRequired: workload.gpuRequired,
    gpuCheaper:
      workload.peakCost !== null && workload.peakCost.gpuUsdPerHour < workload.peakCost.cpuUsdPerHour,
    cpuPeakUsdPerHour: workload.peakCost?.cpuUsdPerHour ?? 0,
    gpuPeakUsdPerHour: workload.peakCost?.gpuUsdPerHour ?? 0,
    gpuPrecision: workload.gpu?.precision ?? "none",
    gpuMemoryGb: workload.gpu?.memoryNeededGb ?? 0,
    llmTensorParallel: workload.llmSizing?.tensorParallel ?? 0,
    llmContextTokens: workload.llmSizing?.contextTokens ?? 0,
    llmSessionsPerReplica: workload.llmSizing?.sessionsPerReplica ?? 0,
    managedEndpointInstance: workload.managedEndpointInstance ?? "",
    managedEndpointPremiumPercent: workload.managedEndpointPremiumPercent ?? 0,
    managedEndpointService: MANAGED_ENDPOINT_SERVICE[spec.cloud.provider] ?? "",
    cloudMetrics: CLOUD_METRICS[spec.cloud.provider] ?? "",
    deviceLatencyMs: workload.device?.latencyMs ?? 0,
    deviceMemoryMbFp32: workload.device?.memoryMbFp32 ?? 0,
    deviceMemoryMbInt8: workload.device?.memoryMbInt8 ?? 0,
    deviceFitsFp32: workload.device?.fitsFp32 ?? false,
    deviceFitsInt8: workload.device?.fitsInt8 ?? false,
    tools,
    regulated: spec.compliance.length > 0,
    strictCompliance: spec.compliance.includes("pci-dss") || spec.compliance.includes("hipaa"),
    existingCluster: spec.cloud.provider === "kubernetes",
    smallTeam: spec.team.size <= 2,
    lowLoad: spec.inference.peakQps < 50,
    highTraffic: spec.inference.peakQps >= 500,
    highAvailability: spec.availability.targetPercent >= 99.95,
    hasSchedule: spec.inference.batch.schedule !== null,
    freshFeatures: spec.data.featureFreshness === "realtime" || spec.data.featureFreshness === "minutes",
    labelsDelayed: spec.data.labelDelayDays >= 1,
  };
}

/** Flattens a spec to dotted paths (objects only; lists and scalars are leaves). */
export function flattenSpec(
  value: unknown,
  prefix = "",
  out: Map<string, Value> = new Map(),
): Map<string, Value> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value))
      flattenSpec(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, toValue(value));
  }
  return out;
}

function toValue(value: unknown): Value {
  if (Array.isArray(value)) return value.map(toValue);
  if (value === undefined) return null;
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return value as Value;
}

export function inputResolver(spec: ModeInputSpec, facts: Record<string, Value>): Resolver {
  const paths = flattenSpec(spec);
  for (const [name, value] of Object.entries(facts)) paths.set(`facts.${name}`, value);
  return (path) => paths.get(path);
}

/** Every input a rule may read, for the loader's check. */
export function knownInputs(spec: object): string[] {
  return [...flattenSpec(spec).keys(), ...Object.keys(FACT_DESCRIPTIONS).map((name) => `facts.${name}`)];
}
