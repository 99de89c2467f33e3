/**
 * A plan's managed model endpoint (serving.runtime: managed-endpoint, Amazon SageMaker real-time
 * endpoints), as the Terraform creates it and the deploy workflow releases onto it: the endpoint of
 * each environment, the serving image's configuration through its environment (SageMaker starts the
 * image as `serve` with no other argument: the command contract's serveEnvironment), the alarms that
 * page and roll a release back (their thresholds from the spec), the target the autoscaling tracks,
 * and the deployment configuration of a release (the plan's strategy as SageMaker's guardrails). The
 * Terraform template and deploy.yml both read it, so the names they share cannot drift apart.
 */
import { ENDPOINT_ALARMS, ENDPOINT_VARIANT, type EndpointAlarm } from "../infra/managed-endpoint.js";
import type { Plan } from "../plan/types.js";
import { serveEnvironment } from "./commands.js";
import { deliveryOf } from "./delivery.js";
import { GPU_IMAGE_TAG_SUFFIX } from "./helm/index.js";
import { fastBurn } from "./platform/monitoring.js";

export interface EndpointEnvironment {
  name: string;
  production: boolean;
  /** the endpoint's name: the environment's service name (delivery) */
  endpoint: string;
  alarms: Record<EndpointAlarm, string>;
}

export interface ManagedEndpoint {
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
  return {
    instanceType: instance,
    variant: ENDPOINT_VARIANT,
    environments: deliveryOf(plan).environments.map((env) => ({
      name: env.name,
      production: env.production,
      endpoint: env.service,
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
