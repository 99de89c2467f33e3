/**
 * The Helm chart for the serving platform, laid out as `helm create` does. Templates are fixed Go
 * templates (templates/helm/chart/templates) that read .Values; everything the Plan decides lands in
 * values.yaml (written with a YAML serializer, so spec text cannot break it) and values.schema.json.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { InstancePrice } from "../../engine/index.js";
import type { TextFileSet } from "../../fileset/index.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import { loadDefaultRuleSet } from "../../plan/index.js";
import type { Plan } from "../../plan/types.js";
import { dns1123 } from "../names.js";
import {
  clusterSecrets,
  PLATFORM_DIR_IN_IMAGE,
  REDIS_URL_ENV,
  SERVE_CONFIG_IN_IMAGE,
  serveConfigFromPlan,
} from "../platform/serve-config.js";
import { templatesRoot } from "../render.js";

/**
 * The first version of the generated chart and of the team's serving image: the team's own release
 * numbers from here on (bumped in their repository), not stackwright's version.
 */
export const INITIAL_CHART_VERSION = "0.1.0";

function choice(plan: Plan, capability: string): string {
  return plan.decisions.find((d) => d.capability === capability)!.choice;
}

function params(plan: Plan, capability: string): Record<string, unknown> {
  return plan.decisions.find((d) => d.capability === capability)!.params;
}

function instance(plan: Plan): InstancePrice | undefined {
  const prices = loadDefaultRuleSet().prices.get(plan.requirements.cloud.provider);
  return [...(prices?.cpuInstances ?? []), ...(prices?.gpuInstances ?? [])].find(
    (i) => i.name === plan.capacity.instanceType,
  );
}

export function chartName(plan: Plan): string {
  return dns1123(plan.requirements.metadata.name, 53);
}

export function helmValues(plan: Plan): Record<string, unknown> {
  const spec = plan.requirements;
  const name = chartName(plan);
  const secrets = clusterSecrets(plan);
  const mode = choice(plan, "serving.mode");
  const scaling = choice(plan, "scaling.strategy");
  const gpu = plan.capacity.hardware === "gpu";
  const node = instance(plan);
  const vcpu = node?.vcpu ?? 1;
  const memoryGb = node?.memoryGb ?? 2;
  const cpuRequest = `${Math.max(250, Math.floor(vcpu * 1000 * 0.8))}m`;
  const memRequest = `${Math.max(512, Math.floor(memoryGb * 1024 * 0.7))}Mi`;
  const canary = choice(plan, "deployment.strategy") === "canary";
  const deployParams = params(plan, "deployment.strategy");
  const keda = scaling === "hpa-queue-depth" || scaling === "keda-consumer-lag";
  const kedaTriggers =
    scaling === "keda-consumer-lag"
      ? [
          {
            type: spec.data.sources.includes("kafka") ? "kafka" : "prometheus",
            metadata: spec.data.sources.includes("kafka")
              ? {
                  bootstrapServers: "kafka:9092",
                  consumerGroup: name,
                  topic: `${name}-events`,
                  lagThreshold: String(params(plan, "scaling.strategy").lagThreshold ?? 1000),
                }
              : {
                  serverAddress: "http://prometheus-operated.monitoring:9090",
                  query: "sum(stackwright_consumer_lag)",
                  threshold: "1000",
                },
          },
        ]
      : [
          {
            type: "prometheus",
            metadata: {
              serverAddress: "http://prometheus-operated.monitoring:9090",
              query: `sum(stackwright_queue_depth{service="${name}"})`,
              threshold: String(params(plan, "scaling.strategy").queueDepthTarget ?? 8),
            },
          },
        ];
  const batchParams = params(plan, "serving.mode");
  const streamScheme = spec.data.sources.includes("kafka")
    ? "kafka"
    : spec.data.sources.includes("pubsub") ||
        spec.data.sources.includes("kinesis") ||
        spec.data.sources.includes("eventhubs")
      ? "kafka"
      : "redis";
  const streamHost = streamScheme === "kafka" ? "kafka:9092" : "redis:6379";
  return {
    modelName: name,
    mode,
    platformDir: PLATFORM_DIR_IN_IMAGE,
    replicaCount: Math.max(1, plan.capacity.replicasMin),
    image: { repository: `ghcr.io/your-org/${name}`, tag: INITIAL_CHART_VERSION, pullPolicy: "IfNotPresent" },
    args:
      mode === "streaming"
        ? [
            "consume",
            "--config",
            SERVE_CONFIG_IN_IMAGE,
            "--source",
            `${streamScheme}://${streamHost}/${name}-events`,
            "--sink",
            `${streamScheme}://${streamHost}/${name}-scores`,
            "--dead-letter",
            `${streamScheme}://${streamHost}/${name}-dead-letter`,
            "--group",
            name,
            "--metrics-port",
            "8080",
            "--metrics-host",
            "0.0.0.0",
          ]
        : ["serve", "--config", SERVE_CONFIG_IN_IMAGE, "--host", "0.0.0.0", "--port", "8080"],
    probes:
      mode === "streaming"
        ? { live: "/healthz", ready: "/healthz" }
        : { live: "/v2/health/live", ready: "/v2/health/ready" },
    service: { type: "ClusterIP", port: 80 },
    serviceAccount: { name: "", annotations: {} },
    // the serving core's bearer tokens, from a Secret the operator creates (absent: the repository
    // API stays disabled and inference open); and the online store's rediss:// URL, password included,
    // synced from the cloud's secret (the Terraform output online_store_secret)
    envFromSecrets: [
      ...(mode === "streaming"
        ? []
        : [
            {
              name: "STACKWRIGHT_ADMIN_TOKEN",
              secretName: `${name}-serve-tokens`,
              key: "admin-token",
              optional: true,
            },
            { name: "STACKWRIGHT_TOKEN", secretName: `${name}-serve-tokens`, key: "token", optional: true },
          ]),
      ...(choice(plan, "features.store") === "online"
        ? [{ name: REDIS_URL_ENV, secretName: secrets.onlineStore, key: "url", optional: false }]
        : []),
    ],
    resources: {
      requests: { cpu: cpuRequest, memory: memRequest },
      limits: { memory: memRequest, ...(gpu ? { "nvidia.com/gpu": 1 } : {}) },
    },
    nodeSelector: gpu ? { "stackwright.dev/pool": "gpu" } : {},
    tolerations: gpu ? [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] : [],
    topologySpreadConstraints:
      plan.capacity.zones > 1
        ? [
            {
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { "app.kubernetes.io/name": name } },
            },
          ]
        : [],
    autoscaling: {
      enabled: mode !== "batch" && scaling !== "fixed",
      kind: keda ? "keda" : "hpa",
      minReplicas: Math.max(1, plan.capacity.replicasMin),
      maxReplicas: Math.max(1, plan.capacity.replicasMax, plan.capacity.replicasMin),
      targetCPUUtilizationPercentage: Number(params(plan, "scaling.strategy").targetCpuUtilization ?? 65),
      kedaTriggers,
    },
    podDisruptionBudget: { minAvailable: plan.capacity.replicasMin > 1 ? plan.capacity.replicasMin - 1 : 0 },
    networkPolicy: {
      enabled: true,
      allowFrom: [
        { namespaceSelector: { matchLabels: { "stackwright.dev/clients": "true" } } },
        { podSelector: {} },
      ],
      egressTo: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
    },
    serviceMonitor: { enabled: choice(plan, "monitoring.metrics") === "prometheus", interval: "15s" },
    canary: {
      enabled: canary && mode !== "batch",
      steps: (deployParams.steps as number[] | undefined) ?? [5, 25, 100],
      stepMinutes: Number(deployParams.stepMinutes ?? 10),
      maxErrorRate: Number(deployParams.maxErrorRate ?? 0.01),
      maxP99Ms: Number(deployParams.maxP99Ms ?? spec.inference.latencyP99Ms),
      prometheusAddress: "http://prometheus-operated.monitoring:9090",
    },
    batch: {
      schedule: String(batchParams.schedule ?? spec.inference.batch.schedule ?? "0 2 * * *"),
      parallelism: Math.max(1, plan.capacity.replicasMax),
      maxRetries: 3,
      deadlineSeconds: Math.round(
        Number(batchParams.deadlineHours ?? spec.inference.batch.deadlineHours ?? 4) * 3600,
      ),
      input: `s3://${name}-data/input/`,
      output: `s3://${name}-data/predictions/`,
    },
    serveConfig: serveConfigFromPlan(plan),
  };
}

/** JSON Schema of values.yaml (draft-07, as Helm reads it). */
export function valuesSchema(values: Record<string, unknown>): Record<string, unknown> {
  const infer = (value: unknown): Record<string, unknown> => {
    if (Array.isArray(value)) return { type: "array" };
    if (value === null) return { type: "null" };
    if (typeof value === "object") {
      const props = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, infer(v)]),
      );
      return { type: "object", properties: props };
    }
    if (typeof value === "number") return { type: Number.isInteger(value) ? "integer" : "number" };
    return { type: typeof value };
  };
  const schema = infer(values) as { properties: Record<string, Record<string, unknown>> };
  schema.properties.mode = { type: "string", enum: ["realtime", "batch", "streaming"] };
  schema.properties.replicaCount = { type: "integer", minimum: 1 };
  (schema.properties.autoscaling as { properties: Record<string, unknown> }).properties.kind = {
    type: "string",
    enum: ["hpa", "keda"],
  };
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "values of the stackwright serving chart",
    required: ["mode", "image", "resources", "autoscaling", "serveConfig"],
    ...schema,
  };
}

export function generateHelm(plan: Plan): TextFileSet {
  // serverless runtimes run the serving core without a cluster: no chart
  if (choice(plan, "serving.runtime") !== "kubernetes") return {};
  const name = chartName(plan);
  const base = `deploy/helm/${name}`;
  const files: TextFileSet = {};
  const root = join(templatesRoot(), "helm", "chart");
  for (const file of templateFilesRaw(root))
    files[`${base}/${file}`] = `${headerFor(file)}${readFileSync(join(root, file), "utf8")}`;
  const values = helmValues(plan);
  files[`${base}/Chart.yaml`] = `# ${GENERATED_HEADER}\n${stringify(
    {
      apiVersion: "v2",
      name,
      description: `Serving platform for ${plan.requirements.metadata.name} (${plan.requirements.useCase.kind}), generated by stackwright`,
      type: "application",
      version: INITIAL_CHART_VERSION,
      appVersion: INITIAL_CHART_VERSION,
      kubeVersion: ">=1.27.0-0",
      keywords: ["ml", "inference", "onnx", "stackwright"],
      annotations: {
        "stackwright.dev/spec-hash": plan.spec.hash,
        "stackwright.dev/rule-set": plan.ruleSet.version,
      },
    },
    { lineWidth: 0 },
  )}`;
  files[`${base}/values.yaml`] =
    `# ${GENERATED_HEADER}\n${stringify(values, { lineWidth: 0, sortMapEntries: false })}`;
  files[`${base}/values.schema.json`] = `${JSON.stringify(valuesSchema(values), null, 2)}\n`;
  files[`${base}/.helmignore`] = `# ${GENERATED_HEADER}\n.git/\n*.tmp\n*.swp\n`;
  return files;
}

function templateFilesRaw(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else out.push(`${prefix}${entry.name}`);
    }
  };
  walk(root, "");
  return out;
}

/** The generated-file header in each chart file's own comment syntax (NOTES.txt is shown to users as is). */
function headerFor(file: string): string {
  if (file.endsWith(".tpl")) return `{{/* ${GENERATED_HEADER} */}}\n`;
  if (file.endsWith(".yaml")) return `# ${GENERATED_HEADER}\n`;
  return "";
}
