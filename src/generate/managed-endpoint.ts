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
import { loadDefaultRuleSet } from "../plan/index.js";
import type { Plan } from "../plan/types.js";
import { CONTAINER_PORT, serveEnvironment } from "./commands.js";
import { deliveryOf } from "./delivery.js";
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

export interface ManagedEndpoint {
  cloud: "aws" | "gcp";
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
}

/** A Vertex AI endpoint ID for `name`: ten digits, no leading zero, from the name's hash. */
export function vertexEndpointId(workload: string, name: string): string {
  const digest = createHash("sha256").update(`${workload}/${name}`).digest();
  return String(1_000_000_000n + (digest.readBigUInt64BE(0) % 9_000_000_000n));
}

function decision(plan: Plan, capability: string) {
  return plan.decisions.find((d) => d.capability === capability)!;
}

export function managedEndpointOf(plan: Plan): ManagedEndpoint | null {
  if (decision(plan, "serving.runtime").choice !== "managed-endpoint") return null;
  const instance = plan.inventory?.vars.managedInstance;
  if (typeof instance !== "string")
    throw new Error("a managed-endpoint plan whose inventory names no instance");
  const gpu = plan.capacity.hardware === "gpu";
  const cloud = plan.requirements.cloud.provider;
  if (cloud !== "aws" && cloud !== "gcp") throw new Error(`no managed endpoint is generated on ${cloud}`);
  const workload = plan.requirements.metadata.name;
  return {
    cloud,
    service: cloud === "aws" ? "SageMaker real-time endpoint" : "Vertex AI endpoint",
    instanceType: instance,
    variant: ENDPOINT_VARIANT,
    environments: deliveryOf(plan).environments.map((env) => ({
      name: env.name,
      production: env.production,
      endpoint: env.service,
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
  };
}

function vertexDeployment(plan: Plan, instance: string): VertexDeployment {
  const table = loadDefaultRuleSet().prices.get("gcp")!;
  const row = table.managedEndpointInstances.find((m) => m.name === instance)!;
  const mirrored = table.gpuInstances.find((g) => g.name === row.instance);
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
  const strategy = decision(plan, "deployment.strategy");
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
export interface VertexRelease {
  /** traffic percentages the release takes in turn; the last is 100 */
  steps: number[];
  watchSeconds: number;
  maxErrorRate: number;
  maxP99Ms: number;
}

export function vertexRelease(plan: Plan): VertexRelease {
  const strategy = decision(plan, "deployment.strategy");
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
 * The release gate of a Vertex AI endpoint as a shell function, `gate DEPLOYED_MODEL_ID SECONDS`: the
 * deployed model's failed predictions over its predictions, and its p99 latency, over the last
 * SECONDS from Cloud Monitoring (aiplatform.googleapis.com/prediction/online/*, the series of that
 * deployed model on this endpoint); it fails when either is past the release's thresholds. A model
 * that took no prediction in the window passes with a warning, as the SageMaker alarms treat missing
 * data. Reads PROJECT and ENDPOINT from the environment.
 */
export function vertexGateScript(release: VertexRelease): string {
  return [
    "gate() {",
    '  local model="$1" window="$2" end start token',
    "  end=$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    '  start=$(date -u -d "@$(( $(date +%s) - window ))" +%Y-%m-%dT%H:%M:%SZ)',
    "  token=$(gcloud auth print-access-token)",
    "  series() { # METRIC ALIGNER REDUCER [FILTER...]",
    `    curl -sSf -G -H "Authorization: Bearer $token" "\${MONITORING_API:-${MONITORING_API}}/v3/projects/$PROJECT/timeSeries" \\`,
    '      --data-urlencode "filter=resource.type = \\"aiplatform.googleapis.com/Endpoint\\" AND resource.labels.endpoint_id = \\"$ENDPOINT\\" AND metric.labels.deployed_model_id = \\"$model\\" AND metric.type = \\"aiplatform.googleapis.com/prediction/online/$1\\"$4" \\',
    '      --data-urlencode "interval.startTime=$start" --data-urlencode "interval.endTime=$end" \\',
    '      --data-urlencode "aggregation.alignmentPeriod=${window}s" --data-urlencode "aggregation.perSeriesAligner=$2" \\',
    '      --data-urlencode "aggregation.crossSeriesReducer=$3"',
    "  }",
    "  local errors total p99",
    `  errors=$(series error_count ALIGN_DELTA REDUCE_SUM | jq '[.timeSeries[]?.points[]?.value.int64Value // 0 | tonumber] | add // 0')`,
    `  total=$(series prediction_count ALIGN_DELTA REDUCE_SUM | jq '[.timeSeries[]?.points[]?.value.int64Value // 0 | tonumber] | add // 0')`,
    `  p99=$(series prediction_latencies ALIGN_PERCENTILE_99 REDUCE_MAX ' AND metric.labels.latency_type = "total"' | jq '[.timeSeries[]?.points[]?.value.doubleValue // 0] | max // 0')`,
    '  echo "deployed model $model, last ${window}s: $errors failed of $total predictions, p99 ${p99} ms"',
    '  if [ "$total" = "0" ]; then',
    '    echo "::warning::deployed model $model took no prediction in ${window}s: nothing to judge it on"',
    "    return 0",
    "  fi",
    `  if jq -en --argjson e "$errors" --argjson t "$total" '$e / $t > ${release.maxErrorRate}' >/dev/null; then`,
    `    echo "::error::$errors of $total predictions failed: above the ${release.maxErrorRate} error share"`,
    "    return 1",
    "  fi",
    `  if jq -en --argjson p "$p99" '$p > ${release.maxP99Ms}' >/dev/null; then`,
    `    echo "::error::p99 latency $p99 ms above ${release.maxP99Ms} ms"`,
    "    return 1",
    "  fi",
    "}",
  ].join("\n");
}
