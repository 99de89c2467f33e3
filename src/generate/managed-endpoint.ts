/**
 * A plan's managed model endpoint (serving.runtime: managed-endpoint: Amazon SageMaker real-time
 * endpoints, Vertex AI endpoints), as the Terraform creates it and the deploy workflow releases onto
 * it: the endpoint of each environment, the serving image's configuration through its environment
 * (the hosting service starts the image as `serve`: the command contract's serveEnvironment), the
 * alarms that page and roll a release back (their thresholds from the spec), the target the
 * autoscaling tracks, and the deployment configuration of a release (the plan's strategy as
 * SageMaker's guardrails, or as Vertex AI traffic splits). The Terraform templates and deploy.yml both
 * read it, so the names they share cannot drift apart.
 */
import { createHash } from "node:crypto";
import { ENDPOINT_ALARMS, ENDPOINT_VARIANT, type EndpointAlarm } from "../infra/managed-endpoint.js";
import { cloudName } from "../infra/names.js";
import { resolveAverageQps } from "../plan/capacity.js";
import { choiceOf, decisionOf, loadDefaultRuleSet } from "../plan/index.js";
import type { Plan } from "../plan/types.js";
import { CONTAINER_PORT, serveEnvironment } from "./commands.js";
import { AZUREML_ENDPOINT_VARIABLE, deliveryOf } from "./delivery.js";
import { GPU_IMAGE_TAG_SUFFIX } from "./helm/index.js";
import { fastBurn } from "./platform/monitoring.js";

export interface EndpointEnvironment {
  name: string;
  production: boolean;
  /** the endpoint's name: the environment's service name (delivery) */
  endpoint: string;
  /**
   * Vertex AI: the endpoint's resource ID, which its Terraform resource must be given (numeric, no
   * leading zero, at most 10 digits): derived from the workload's and the endpoint's names, so it is
   * the same on every run and deploy.yml addresses the endpoint the Terraform created
   */
  endpointId: string;
  alarms: Record<EndpointAlarm, string>;
}

/** Vertex AI's side of a deployed model: the node it runs on and what its autoscaling follows. */
export interface VertexDeployment {
  /** the service account the deployed models run as (vertex.tf creates it; 6-30 characters) */
  serviceAccountId: string;
  machineType: string;
  /** the accelerator as gcloud names it (the Compute Engine row's `gpu`), or null on CPU */
  accelerator: { type: string; count: number } | null;
  /** Vertex AI's autoscaling metric (gcloud --autoscaling-metric-specs) and its target, percent */
  autoscalingMetric: "gpu-duty-cycle" | "cpu-usage";
  autoscalingTargetPercent: number;
  /** the serving core's routes Vertex AI probes and forwards predictions to (rawPredict passes OIP bodies) */
  healthRoute: string;
  predictRoute: string;
  port: number;
}

/**
 * Azure Machine Learning's side of a deployment: the release's environment (the image and the routes
 * the service probes and scores on) and its instances, with the autoscale setting deploy.yml gives
 * each deployment.
 */
export interface AzureMlDeployment {
  /** the workspace and its resource group (registry.tf, main.tf) */
  workspace: string;
  resourceGroup: string;
  /** the virtual machine size of the instances */
  instanceType: string;
  livenessRoute: string;
  readinessRoute: string;
  scoringRoute: string;
  port: number;
  /** requests one instance takes at once (Azure's default is 1, which would starve the batcher) */
  maxConcurrentRequestsPerInstance: number;
  /** the deployment metric Azure Monitor autoscale follows, and its target, percent */
  autoscaleMetric: "GpuUtilizationPercentage" | "CpuUtilizationPercentage";
  autoscaleTargetPercent: number;
  /** the GitHub environment variable carrying each environment's endpoint name (Terraform's output) */
  endpointVariable: string;
  /** 5xx answers per minute the errors alert fires above: the fast-burn share of the average load */
  errorsPerMinuteThreshold: number;
}

/** Azure ML online endpoint names are 3-32 characters; Terraform appends "-" and 6 random hex digits. */
const AZUREML_ENDPOINT_BASE_MAX = 25;

export interface ManagedEndpoint {
  cloud: "aws" | "gcp" | "azure";
  /** the hosting service's name for it, in prose */
  service: string;
  instanceType: string;
  variant: string;
  environments: EndpointEnvironment[];
  /** the serving image's environment: serve's options (the image is started as `serve`) */
  environment: Record<string, string>;
  /** appended to the release's tag: GPU instances run the CUDA build */
  imageTagSuffix: string;
  /** ModelLatency's p99 above this pages and rolls back (microseconds: the SLO) */
  latencyThresholdMicroseconds: number;
  /** the 5xx share (Invocation5XXErrors' average) above this pages and rolls back */
  errorRateThreshold: number;
  /** invocations per instance per minute the autoscaling tracks */
  invocationsPerInstancePerMinute: number;
  minInstances: number;
  maxInstances: number;
  /** Vertex AI only */
  vertex: VertexDeployment | null;
  /** Azure Machine Learning only */
  azureml: AzureMlDeployment | null;
}

/** A Vertex AI endpoint ID for `name`: ten digits, no leading zero, from the name's hash. */
export function vertexEndpointId(workload: string, name: string): string {
  const digest = createHash("sha256").update(`${workload}/${name}`).digest();
  return String(1_000_000_000n + (digest.readBigUInt64BE(0) % 9_000_000_000n));
}

/** The price table's managed-endpoint row `instance` names, and the GPU row it mirrors (none on CPU). */
function managedRow(cloud: "gcp" | "azure", instance: string) {
  const table = loadDefaultRuleSet().prices.get(cloud)!;
  const row = table.managedEndpointInstances.find((m) => m.name === instance)!;
  return { row, gpu: table.gpuInstances.find((g) => g.name === row.instance) };
}

export function managedEndpointOf(plan: Plan): ManagedEndpoint | null {
  if (choiceOf(plan, "serving.runtime") !== "managed-endpoint") return null;
  const instance = plan.inventory?.vars.managedInstance;
  if (typeof instance !== "string")
    throw new Error("a managed-endpoint plan whose inventory names no instance");
  const gpu = plan.capacity.hardware === "gpu";
  const cloud = plan.requirements.cloud.provider;
  if (cloud === "kubernetes") throw new Error("no managed endpoint is generated on the team's own cluster");
  const workload = plan.requirements.metadata.name;
  return {
    cloud,
    service: MANAGED_SERVICE[cloud],
    instanceType: instance,
    variant: ENDPOINT_VARIANT,
    environments: deliveryOf(plan).environments.map((env) => ({
      name: env.name,
      production: env.production,
      endpoint: cloud === "azure" ? env.service.slice(0, AZUREML_ENDPOINT_BASE_MAX) : env.service,
      endpointId: cloud === "gcp" ? vertexEndpointId(workload, env.service) : "",
      alarms: Object.fromEntries(ENDPOINT_ALARMS.map((a) => [a, `${env.service}-${a}`])) as Record<
        EndpointAlarm,
        string
      >,
    })),
    environment: serveEnvironment({ device: gpu ? "cuda" : "cpu" }),
    imageTagSuffix: gpu ? GPU_IMAGE_TAG_SUFFIX : "",
    latencyThresholdMicroseconds: plan.requirements.inference.latencyP99Ms * 1000,
    // the availability budget burnt ten times too fast (the chart's and the alert rules' page threshold)
    errorRateThreshold: fastBurn(plan),
    // the capacity model's per-replica throughput at the target utilisation, per minute
    invocationsPerInstancePerMinute: Math.max(
      1,
      Math.round(plan.capacity.perReplicaQps * plan.capacity.targetUtilization * 60),
    ),
    minInstances: Math.max(1, plan.capacity.replicasMin),
    maxInstances: Math.max(1, plan.capacity.replicasMin, plan.capacity.replicasMax),
    vertex: cloud === "gcp" ? vertexDeployment(plan, instance) : null,
    azureml: cloud === "azure" ? azureMlDeployment(plan, instance) : null,
  };
}

const MANAGED_SERVICE = {
  aws: "SageMaker real-time endpoint",
  gcp: "Vertex AI endpoint",
  azure: "Azure Machine Learning managed online endpoint",
} as const;

function azureMlDeployment(plan: Plan, instance: string): AzureMlDeployment {
  const { row, gpu } = managedRow("azure", instance);
  const name = cloudName(plan.requirements.metadata.name, 40);
  const latencySeconds = plan.requirements.inference.latencyP99Ms / 1000;
  return {
    workspace: name,
    resourceGroup: `${name}-rg`,
    instanceType: row.machineType ?? row.name,
    livenessRoute: "/v2/health/live",
    readinessRoute: "/v2/health/ready",
    scoringRoute: `/v2/models/${plan.requirements.metadata.name}/infer`,
    port: CONTAINER_PORT,
    // Little's law at the instance's sized throughput and the latency target, twice over for bursts:
    // the requests the serving core's batcher should see at once
    maxConcurrentRequestsPerInstance: Math.max(
      2,
      Math.ceil(plan.capacity.perReplicaQps * latencySeconds * 2),
    ),
    autoscaleMetric: gpu ? "GpuUtilizationPercentage" : "CpuUtilizationPercentage",
    autoscaleTargetPercent: Math.round(plan.capacity.targetUtilization * 100),
    endpointVariable: AZUREML_ENDPOINT_VARIABLE,
    errorsPerMinuteThreshold: Math.max(
      1,
      Math.round(fastBurn(plan) * resolveAverageQps(plan.requirements) * 60 * 100) / 100,
    ),
  };
}

function vertexDeployment(plan: Plan, instance: string): VertexDeployment {
  const { row, gpu: mirrored } = managedRow("gcp", instance);
  return {
    serviceAccountId: `${cloudName(plan.requirements.metadata.name, 40).slice(0, 21)}-endpoint`,
    machineType: row.machineType ?? row.name,
    accelerator: mirrored ? { type: mirrored.gpu, count: mirrored.gpuCount } : null,
    autoscalingMetric: mirrored ? "gpu-duty-cycle" : "cpu-usage",
    autoscalingTargetPercent: Math.round(plan.capacity.targetUtilization * 100),
    healthRoute: "/v2/health/ready",
    predictRoute: `/v2/models/${plan.requirements.metadata.name}/infer`,
    port: CONTAINER_PORT,
  };
}

/**
 * SageMaker's DeploymentConfig for a release onto `env` (UpdateEndpoint): the plan's strategy as
 * its guardrails — canary (the first step's share of capacity, baked for a step, then the rest),
 * blue-green (all at once after a bake) or rolling (half the capacity at a time) — each rolled back
 * automatically when one of the endpoint's alarms fires.
 */
export function deploymentConfig(plan: Plan, env: EndpointEnvironment): Record<string, unknown> {
  const strategy = decisionOf(plan, "deployment.strategy");
  const params = strategy.params;
  const stepSeconds = Math.min(3600, Math.round(Number(params.stepMinutes ?? 10) * 60));
  const rollback = {
    AutoRollbackConfiguration: { Alarms: Object.values(env.alarms).map((name) => ({ AlarmName: name })) },
  };
  if (strategy.choice === "rolling")
    return {
      RollingUpdatePolicy: {
        MaximumBatchSize: { Type: "CAPACITY_PERCENT", Value: 50 },
        WaitIntervalInSeconds: 300,
        MaximumExecutionTimeoutInSeconds: 3600,
      },
      ...rollback,
    };
  const canary = strategy.choice === "canary";
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: canary
        ? {
            Type: "CANARY",
            CanarySize: {
              Type: "CAPACITY_PERCENT",
              Value: Math.min(50, Number((params.steps as number[] | undefined)?.[0] ?? 10)),
            },
            WaitIntervalInSeconds: stepSeconds,
          }
        : { Type: "ALL_AT_ONCE", WaitIntervalInSeconds: stepSeconds },
      TerminationWaitInSeconds: 300,
      MaximumExecutionTimeoutInSeconds: 3600,
    },
    ...rollback,
  };
}

/**
 * A release onto a Vertex AI endpoint, from the plan's strategy: the traffic shares the release takes
 * in turn (a canary's steps; all at once for blue-green and rolling, which Vertex AI does not tell
 * apart: the previous model stays deployed until the release has passed), how long each share is
 * watched, and the gate each watch must pass (the canary's own thresholds, else the alert policies').
 */
export interface ManagedRelease {
  /** traffic percentages the release takes in turn; the last is 100 */
  steps: number[];
  watchSeconds: number;
  maxErrorRate: number;
  maxP99Ms: number;
}

export function managedRelease(plan: Plan): ManagedRelease {
  const strategy = decisionOf(plan, "deployment.strategy");
  const params = strategy.params;
  const watchSeconds = Math.round(Number(params.stepMinutes ?? 5) * 60);
  if (strategy.choice === "canary") {
    const steps = ((params.steps as number[] | undefined) ?? [10, 100]).filter((s) => s > 0 && s <= 100);
    return {
      steps: steps.at(-1) === 100 ? steps : [...steps, 100],
      watchSeconds,
      maxErrorRate: Number(params.maxErrorRate ?? fastBurn(plan)),
      maxP99Ms: Number(params.maxP99Ms ?? plan.requirements.inference.latencyP99Ms),
    };
  }
  return {
    steps: [100],
    watchSeconds,
    maxErrorRate: fastBurn(plan),
    maxP99Ms: plan.requirements.inference.latencyP99Ms,
  };
}

/** The Cloud Monitoring API the release gate reads (MONITORING_API overrides it, for a stand-in). */
export const MONITORING_API = "https://monitoring.googleapis.com";

/**
 * The verdict every release gate ends in, as a shell function, `judge ERRORS TOTAL P99 WHAT WINDOW`:
 * the failed share of the answers and the p99 latency against the release's thresholds. A release
 * that took no request in the window passes with a warning, as the SageMaker alarms treat missing
 * data.
 */
function judgeScript(release: ManagedRelease): string[] {
  return [
    "judge() {",
    '  local errors="$1" total="$2" p99="$3" what="$4" window="$5"',
    '  echo "$what, last ${window}s: $errors failed of $total, p99 ${p99} ms"',
    '  if [ "$total" = "0" ]; then',
    '    echo "::warning::$what took no request in ${window}s: nothing to judge it on"',
    "    return 0",
    "  fi",
    `  if jq -en --argjson e "$errors" --argjson t "$total" '$e / $t > ${release.maxErrorRate}' >/dev/null; then`,
    `    echo "::error::$errors of $total failed: above the ${release.maxErrorRate} error share"`,
    "    return 1",
    "  fi",
    `  if jq -en --argjson p "$p99" '$p > ${release.maxP99Ms}' >/dev/null; then`,
    `    echo "::error::p99 latency $p99 ms above ${release.maxP99Ms} ms"`,
    "    return 1",
    "  fi",
    "}",
  ];
}

/** `start` and `end` of the last `$window` seconds, as the metric APIs take them. */
const WINDOW = [
  "  end=$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  '  start=$(date -u -d "@$(( $(date +%s) - window ))" +%Y-%m-%dT%H:%M:%SZ)',
];

/**
 * The release gate of a Vertex AI endpoint as a shell function, `gate DEPLOYED_MODEL_ID SECONDS`: the
 * deployed model's failed predictions, its predictions and its p99 latency over the last SECONDS
 * from Cloud Monitoring (aiplatform.googleapis.com/prediction/online/*, the series of that deployed
 * model on this endpoint), judged against the release's thresholds. Reads PROJECT and ENDPOINT.
 */
export function vertexGateScript(release: ManagedRelease): string {
  return [
    ...judgeScript(release),
    "gate() {",
    '  local model="$1" window="$2" end start token errors total p99',
    ...WINDOW,
    "  token=$(gcloud auth print-access-token)",
    "  series() { # METRIC ALIGNER REDUCER [FILTER...]",
    `    curl -sSf -G -H "Authorization: Bearer $token" "\${MONITORING_API:-${MONITORING_API}}/v3/projects/$PROJECT/timeSeries" \\`,
    '      --data-urlencode "filter=resource.type = \\"aiplatform.googleapis.com/Endpoint\\" AND resource.labels.endpoint_id = \\"$ENDPOINT\\" AND metric.labels.deployed_model_id = \\"$model\\" AND metric.type = \\"aiplatform.googleapis.com/prediction/online/$1\\"$4" \\',
    '      --data-urlencode "interval.startTime=$start" --data-urlencode "interval.endTime=$end" \\',
    '      --data-urlencode "aggregation.alignmentPeriod=${window}s" --data-urlencode "aggregation.perSeriesAligner=$2" \\',
    '      --data-urlencode "aggregation.crossSeriesReducer=$3"',
    "  }",
    `  errors=$(series error_count ALIGN_DELTA REDUCE_SUM | jq '[.timeSeries[]?.points[]?.value.int64Value // 0 | tonumber] | add // 0')`,
    `  total=$(series prediction_count ALIGN_DELTA REDUCE_SUM | jq '[.timeSeries[]?.points[]?.value.int64Value // 0 | tonumber] | add // 0')`,
    `  p99=$(series prediction_latencies ALIGN_PERCENTILE_99 REDUCE_MAX ' AND metric.labels.latency_type = "total"' | jq '[.timeSeries[]?.points[]?.value.doubleValue // 0] | max // 0')`,
    '  judge "$errors" "$total" "$p99" "deployed model $model" "$window"',
    "}",
  ].join("\n");
}

/**
 * The release gate of an Azure Machine Learning online endpoint as a shell function, `gate DEPLOYMENT
 * SECONDS`: the deployment's 5xx answers, its requests and its p99 latency over the last SECONDS from
 * the endpoint's Azure Monitor metrics (RequestsPerMinute by statusCodeClass, RequestLatency_P99, each
 * split by deployment), judged against the release's thresholds. Reads ENDPOINT_ID.
 */
export function azureMlGateScript(release: ManagedRelease): string {
  return [
    ...judgeScript(release),
    "gate() {",
    '  local deployment="$1" window="$2" end start errors total p99',
    ...WINDOW,
    "  metric() { # METRIC FILTER",
    '    az monitor metrics list --resource "$ENDPOINT_ID" --metrics "$1" --filter "$2" --aggregation Average \\',
    '      --interval PT1M --start-time "$start" --end-time "$end" --output json',
    "  }",
    `  total=$(metric RequestsPerMinute "deployment eq '$deployment'" | jq '[.value[]?.timeseries[]?.data[]?.average // 0] | add // 0')`,
    `  errors=$(metric RequestsPerMinute "deployment eq '$deployment' and statusCodeClass eq '5xx'" | jq '[.value[]?.timeseries[]?.data[]?.average // 0] | add // 0')`,
    `  p99=$(metric RequestLatency_P99 "deployment eq '$deployment'" | jq '[.value[]?.timeseries[]?.data[]?.average // 0] | max // 0')`,
    '  judge "$errors" "$total" "$p99" "deployment $deployment" "$window"',
    "}",
  ].join("\n");
}
