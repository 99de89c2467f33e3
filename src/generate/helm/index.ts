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
import {
  azureSecretsVaultName,
  cloudSecretKeys,
  clusterNeeds,
  ENTRY_POINT_TAG,
  gkeIngressAddressName,
  INGRESS_CLASS,
  INGRESS_SOURCES,
  MESH_DATAPLANE_LABEL,
  MESH_PORTS,
  syncsExternalSecrets,
} from "../../infra/index.js";
import { azureStorageNameIn, chartNameOf, cloudName } from "../../infra/names.js";
import { choicesOf, loadDefaultRuleSet } from "../../plan/index.js";
import type { Plan } from "../../plan/types.js";
import {
  batchLocations,
  CONTAINER_PORT,
  GRPC_PORT,
  grpcServed,
  helmArgsTemplate,
  objectStoreSecretEnv,
  PROMETHEUS_ADDRESS,
  PUSHGATEWAY_ADDRESS,
  SCORE_SCHEDULERS,
  scoreSchedule,
  scoreScheduler,
} from "../commands.js";
import {
  bindsAzureWorkloadIdentity,
  chartName,
  deliveryOf,
  WORKLOAD_IDENTITY_POD_LABEL,
} from "../delivery.js";
import { engineArgs, engineValues, healthPaths } from "../engine-deploy.js";
import { chartQueriesTemplate, prometheusRules, streamLagThreshold } from "../platform/monitoring.js";
import {
  clusterSecrets,
  PLATFORM_DIR_IN_IMAGE,
  REDIS_URL_ENV,
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

/** The GPU image is the CPU image's repository and tag plus this suffix (platform/Dockerfile.gpu). */
export const GPU_IMAGE_TAG_SUFFIX = "-cuda";

export { chartName };

/**
 * The Deployment / Rollout / CronJob name the chart renders for a release: Helm's `fullname`
 * convention, as templates/_helpers.tpl writes it (the release name alone when it contains the
 * chart's name). The tests render the chart with real helm and check these names against it.
 */
export function workloadName(release: string, chart: string): string {
  const full = release.includes(chart) ? release : `${release}-${chart}`;
  return full.slice(0, 63).replace(/-+$/, "");
}

function streamEndpoints(plan: Plan, name: string): Record<string, string> {
  const sources = plan.requirements.data.sources;
  const scheme = ["kafka", "pubsub", "kinesis", "eventhubs"].some((s) => sources.includes(s as never))
    ? "kafka"
    : "redis";
  const host = scheme === "kafka" ? "kafka:9092" : "redis:6379";
  return {
    source: `${scheme}://${host}/${name}-events`,
    sink: `${scheme}://${host}/${name}-scores`,
    deadLetter: `${scheme}://${host}/${name}-dead-letter`,
    group: name,
  };
}

/**
 * values.yaml. Every mode's block is present (serve, stream, batch) and `mode` picks one, so each
 * combination the values offer renders; the templates build the command lines from these blocks.
 */
export function helmValues(plan: Plan): Record<string, unknown> {
  const spec = plan.requirements;
  const name = chartName(plan);
  const secrets = clusterSecrets(plan);
  const mode = choice(plan, "serving.mode");
  const scaling = choice(plan, "scaling.strategy");
  const scalingParams = params(plan, "scaling.strategy");
  const gpu = plan.capacity.hardware === "gpu";
  const node = instance(plan);
  const vcpu = node?.vcpu ?? 1;
  const memoryGb = node?.memoryGb ?? 2;
  const cpuRequest = `${Math.max(250, Math.floor(vcpu * 1000 * 0.8))}m`;
  const memRequest = `${Math.max(512, Math.floor(memoryGb * 1024 * 0.7))}Mi`;
  const strategy = choice(plan, "deployment.strategy");
  const canary = strategy === "canary";
  const deployParams = params(plan, "deployment.strategy");
  // which objects need which add-on is decided once (src/infra/addons.ts): the Terraform installs
  // the add-ons for exactly the objects rendered here
  const needs = clusterNeeds(choicesOf(plan), plan.capacity.hardware, spec.cloud.provider);
  const keda = needs.keda;
  const ingress = plan.addons.find((a) => a.provides.ingressClasses?.length);
  const kafka = spec.data.sources.includes("kafka");
  const batchParams = params(plan, "serving.mode");
  const engine = engineValues(plan);
  return {
    modelName: name,
    mode,
    platformDir: PLATFORM_DIR_IN_IMAGE,
    // the serving container's HTTP port: serve's (and consume's /metrics), or the LLM engine's
    containerPort: engine.port ?? CONTAINER_PORT,
    // where the kubelet, the load balancer and NOTES.txt ask whether a pod is alive and ready
    healthPaths: healthPaths(plan),
    // what executes the model: the serving core (onnx-core) or an LLM engine's own image and flags
    engine,
    // serve's gRPC port (inference.GRPCInferenceService) where the plan serves gRPC, else null
    grpcPort: grpcServed(plan) ? GRPC_PORT : null,
    replicaCount: Math.max(1, plan.capacity.replicasMin),
    image: { repository: `ghcr.io/your-org/${name}`, tag: INITIAL_CHART_VERSION, pullPolicy: "IfNotPresent" },
    // the execution provider on CPU nodes; GPU pods take gpu.device
    device: "cpu",
    gpu: {
      enabled: gpu,
      // platform/Dockerfile.gpu: onnxruntime-node with its CUDA 12 provider on a CUDA + cuDNN base
      image: { repository: "", tagSuffix: GPU_IMAGE_TAG_SUFFIX },
      device: "cuda",
      resourceName: "nvidia.com/gpu",
      // an LLM replica holds every GPU of its tensor-parallel group
      count: engineArgs(plan)?.run.tensorParallel ?? plan.capacity.llm?.tensorParallel ?? 1,
      nodeSelector: { "stackwright.dev/pool": "gpu" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    },
    // neg: on Google Cloud in several regions, the pods are the global load balancer's endpoints
    service: {
      type: "ClusterIP",
      port: 80,
      neg: globallyRouted(plan, ingress?.provides.ingressClasses?.[0]),
    },
    // the entry point the WAF protects, where an ingress controller is installed (plan.addons): an
    // internal ALB sending to the pods' IPs, health-checked on the serving core's readiness
    ingress: ingressValues(plan, ingress?.provides.ingressClasses?.[0]),
    // on AKS the deploy annotates the service account with the workload identity's client ID
    // (delivery.workloadClientIdVariable) and the pods ask the webhook for its token
    serviceAccount: { name: "", annotations: {} },
    podLabels: {
      ...(bindsAzureWorkloadIdentity(plan) ? { [WORKLOAD_IDENTITY_POD_LABEL]: "true" } : {}),
      // mTLS between services (security.identity=workload-identity-mtls): the pods join Istio's ambient
      // mesh, which plan.addons installs
      ...(needs.mesh ? MESH_DATAPLANE_LABEL : {}),
    },
    // the PeerAuthentication that makes mTLS STRICT for the pods, and what the NetworkPolicy admits
    // in the mesh: other pods only through ztunnel's port, the load balancer (outside the mesh) and
    // the kubelet's probes on the serving port
    mesh: { enabled: needs.mesh, hbonePort: MESH_PORTS.hbone, probeSource: MESH_PORTS.probeSource },
    // Secrets the operator creates (the chart renders none): the serving core's bearer tokens
    // (absent: the repository API stays disabled and inference open) and the online store's
    // rediss:// URL, password included, synced from the cloud secret (Terraform output online_store_secret)
    serveTokens: { secretName: secrets.serveTokens },
    onlineStore: {
      enabled: choice(plan, "features.store") === "online",
      secretName: secrets.onlineStore,
      key: "url",
      env: REDIS_URL_ENV,
    },
    // the Secrets above, synced by External Secrets from the cloud's secret store where the plan
    // chose it (src/infra/addons.ts): production's serving tokens here, each environment's in its
    // values file
    externalSecrets: externalSecretsValues(
      plan,
      needs.externalSecrets,
      deliveryOf(plan).environments.at(-1)!.name,
    ),
    resources: {
      requests: { cpu: cpuRequest, memory: memRequest },
      limits: { memory: memRequest },
    },
    nodeSelector: {},
    tolerations: [],
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
      targetCPUUtilizationPercentage: Number(scalingParams.targetCpuUtilization ?? 65),
      // KEDA scales realtime serving on the batcher's queue depth (stackwright_queue_depth, summed over
      // pods) and streaming on the consumer group's lag: Kafka's own, else stackwright_stream_lag, which
      // each consumer reports for the whole group (max, not sum)
      keda: {
        prometheusAddress: PROMETHEUS_ADDRESS,
        queueDepthTarget: Number(scalingParams.queueDepthTarget ?? 8),
        // an LLM engine's replicas also scale when its KV cache is this full (null: not watched)
        kvCacheUsageTarget:
          engineArgs(plan)?.engine.metrics.kvCacheUsage && scalingParams.kvCacheUsageTarget !== undefined
            ? Number(scalingParams.kvCacheUsageTarget)
            : null,
        lagThreshold: streamLagThreshold(plan),
        kafka: kafka ? { bootstrapServers: "kafka:9092", topic: `${name}-events` } : null,
      },
    },
    podDisruptionBudget: { minAvailable: plan.capacity.replicasMin > 1 ? plan.capacity.replicasMin - 1 : 0 },
    networkPolicy: {
      enabled: true,
      // the clients inside the cluster
      allowFrom: [
        { namespaceSelector: { matchLabels: { "stackwright.dev/clients": "true" } } },
        { podSelector: {} },
      ],
      // the Ingress's load balancer, from where its cloud sends it
      loadBalancerFrom: (INGRESS_SOURCES[ingress?.provides.ingressClasses?.[0] ?? ""] ?? []).map((cidr) => ({
        ipBlock: { cidr },
      })),
      // Prometheus scrapes /metrics on the serving port from this namespace
      monitoringNamespace: "monitoring",
      egressTo: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
    },
    serviceMonitor: {
      enabled: needs.prometheusRules,
      interval: "15s",
      path: engineArgs(plan)?.engine.metricsPath ?? "/metrics",
    },
    prometheusRule: {
      enabled: needs.prometheusRules,
      groups: prometheusRules(plan).groups,
    },
    canary: {
      enabled: needs.rollouts && canary,
      steps: (deployParams.steps as number[] | undefined) ?? [5, 25, 100],
      stepMinutes: Number(deployParams.stepMinutes ?? 10),
      maxErrorRate: Number(deployParams.maxErrorRate ?? 0.01),
      maxP99Ms: Number(deployParams.maxP99Ms ?? spec.inference.latencyP99Ms),
      prometheusAddress: PROMETHEUS_ADDRESS,
    },
    blueGreen: {
      enabled: needs.rollouts && strategy === "blue-green",
      scaleDownDelaySeconds: Number(deployParams.scaleDownDelaySeconds ?? 600),
      maxErrorRate: Number(deployParams.maxErrorRate ?? 0.01),
      maxP99Ms: Number(deployParams.maxP99Ms ?? spec.inference.latencyP99Ms),
      prometheusAddress: PROMETHEUS_ADDRESS,
    },
    stream: streamEndpoints(plan, name),
    batch: {
      schedule: scoreSchedule(plan),
      parallelism: Math.max(1, plan.capacity.replicasMax),
      maxRetries: 3,
      deadlineSeconds: Math.round(
        Number(batchParams.deadlineHours ?? spec.inference.batch.deadlineHours ?? 4) * 3600,
      ),
      // the data bucket the Terraform creates, in the cloud's own scheme
      ...batchLocations(plan),
      // what the job needs beyond its workload identity to reach the bucket, from a Secret
      secretEnv: objectStoreSecretEnv(plan),
      // one scheduler: where Airflow or Argo Workflows runs the score job, the CronJob is suspended
      // (kept for manual runs: kubectl create job --from=cronjob/...)
      scheduledBy: scoreScheduler(plan),
      // the run's metrics (the batch alerts read them); an assumed address: change it to your own
      metricsPush: PUSHGATEWAY_ADDRESS,
    },
    // the serving core's serve.yaml (the ConfigMap); an LLM engine takes its flags instead
    ...(engine.port === undefined ? { serveConfig: serveConfigFromPlan(plan) } : {}),
  };
}

/**
 * The chart's Ingress, where an ingress controller is installed (plan.addons): on AWS an internal ALB
 * of the controller's class sending to the pods' IPs; on AKS the Application Gateway the controller
 * add-on programs; on GKE an external load balancer named by the
 * class annotation (GKE does not read ingressClassName), on the Terraform's global address, with the
 * Cloud Armor policy on its backend. Both health-check the serving core's readiness.
 */
/**
 * The chart's pods are the endpoints of the one global load balancer over every region (Google Cloud,
 * multi-region, with an entry point): no Ingress per region, a standalone NEG instead.
 */
function globallyRouted(plan: Plan, className: string | undefined): boolean {
  return className === INGRESS_CLASS.gcp && (plan.inventory?.secondaries.length ?? 0) > 0;
}

function ingressValues(plan: Plan, className: string | undefined): Record<string, unknown> {
  const off = {
    enabled: false,
    className: "",
    annotations: {},
    // the tag the load balancer gets (<tag>=<release>.<namespace>): how the multi-region routing finds it
    entryPointTag: "",
    backendConfig: { enabled: false, securityPolicy: "" },
  };
  if (className === INGRESS_CLASS.aws)
    return {
      ...off,
      enabled: true,
      className,
      entryPointTag: ENTRY_POINT_TAG,
      annotations: {
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/healthcheck-path": healthPaths(plan).ready,
      },
    };
  if (className === INGRESS_CLASS.azure)
    return {
      ...off,
      enabled: true,
      className,
      annotations: { "appgw.ingress.kubernetes.io/health-probe-path": healthPaths(plan).ready },
    };
  if (className === INGRESS_CLASS.gcp && !globallyRouted(plan, className)) {
    const name = cloudName(plan.requirements.metadata.name, 40);
    return {
      ...off,
      enabled: true,
      annotations: {
        "kubernetes.io/ingress.class": className,
        "kubernetes.io/ingress.global-static-ip-name": gkeIngressAddressName(name),
      },
      // the Cloud Armor policy's name in waf.tf (var.name)
      backendConfig: { enabled: true, securityPolicy: name },
    };
  }
  return off;
}

/**
 * The SecretStore and ExternalSecrets of a plan whose Secrets come from the cloud's store: the
 * serving tokens of `environment` (keys admin-token and token, each environment its own) and the
 * online store's URL, under the names the Terraform writes them (cloudSecretKeys).
 */
function externalSecretsValues(plan: Plan, enabled: boolean, environment: string): Record<string, unknown> {
  if (!enabled) return { enabled: false, provider: {}, secrets: [] };
  const secrets = clusterSecrets(plan);
  const cloud = plan.requirements.cloud.provider;
  const keys = cloudSecretKeys(cloudName(plan.requirements.metadata.name, 40), cloud, {
    region: plan.requirements.cloud.region,
    primaryRegion: plan.requirements.availability.regions[0],
  });
  return {
    enabled: true,
    provider: secretStoreProvider(plan),
    secrets: [
      { name: secrets.serveTokens, remoteKey: keys.serveTokens(environment), key: "" },
      ...(choice(plan, "features.store") === "online"
        ? [{ name: secrets.onlineStore, remoteKey: keys.onlineStore, key: "url" }]
        : []),
    ],
  };
}

/**
 * The SecretStore's provider, and whose identity reads the store: on AWS and GCP the operator's own
 * (its Pod Identity role; its Kubernetes service account as a Workload Identity Federation principal),
 * on Azure the chart's workload identity, through its service account. What only the deploy knows
 * (the GCP project, the Azure tenant) is set by the deploy jobs (delivery.deployValues).
 */
function secretStoreProvider(plan: Plan): Record<string, unknown> {
  const cloud = plan.requirements.cloud.provider;
  if (cloud === "gcp") return { gcpsm: { projectID: "" } };
  if (cloud === "azure")
    return {
      azurekv: {
        authType: "WorkloadIdentity",
        vaultUrl: `https://${azureSecretsVaultName(azureStorageNameIn(plan.requirements))}.vault.azure.net/`,
        tenantId: "",
        serviceAccountRef: { name: chartNameOf(plan.requirements.metadata.name) },
      },
    };
  return { aws: { service: "SecretsManager", region: plan.requirements.cloud.region } };
}

/**
 * What a pre-production environment changes over values.yaml (values-<env>.yaml, given to helm after
 * it): one replica and no autoscaler or disruption budget, a plain Deployment (its job is to run the
 * image, not to gate traffic), no paging alerts, and batch output under the environment's own prefix
 * so it never overwrites production's predictions.
 */
export function environmentValues(plan: Plan, environment: string): Record<string, unknown> {
  const { output } = batchLocations(plan, environment);
  return {
    replicaCount: 1,
    autoscaling: { enabled: false },
    podDisruptionBudget: { minAvailable: 0 },
    canary: { enabled: false },
    blueGreen: { enabled: false },
    prometheusRule: { enabled: false },
    batch: { output },
    // the environment's own serving tokens
    ...(syncsExternalSecrets(choicesOf(plan), plan.requirements.cloud.provider)
      ? { externalSecrets: externalSecretsValues(plan, true, environment) }
      : {}),
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
  // an LLM engine serves requests only: its chart offers no batch or streaming mode
  schema.properties.mode = {
    type: "string",
    enum:
      (values.engine as { kind: string }).kind === "onnx-core"
        ? ["realtime", "batch", "streaming"]
        : ["realtime"],
  };
  schema.properties.replicaCount = { type: "integer", minimum: 1 };
  schema.properties.grpcPort = { type: ["integer", "null"], minimum: 1, maximum: 65535 };
  const autoscaling = schema.properties.autoscaling as { properties: Record<string, any> };
  autoscaling.properties.kind = { type: "string", enum: ["hpa", "keda"] };
  // Kafka's bootstrap servers and topic, or null to scale on stackwright's own metrics
  autoscaling.properties.keda.properties.kafka = {
    type: ["object", "null"],
    properties: { bootstrapServers: { type: "string" }, topic: { type: "string" } },
  };
  (schema.properties.gpu as { properties: Record<string, unknown> }).properties.device = {
    type: "string",
    enum: ["cuda", "webgpu"],
  };
  schema.properties.device = { type: "string", enum: ["cpu", "auto"] };
  (schema.properties.engine as { properties: Record<string, unknown> }).properties.kind = {
    type: "string",
    enum: [(values.engine as { kind: string }).kind],
  };
  (schema.properties.batch as { properties: Record<string, unknown> }).properties.scheduledBy = {
    type: "string",
    enum: [...SCORE_SCHEDULERS],
  };
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "values of the stackwright serving chart",
    required: [
      "mode",
      "image",
      "resources",
      "autoscaling",
      ...("serveConfig" in values ? ["serveConfig"] : []),
    ],
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
  files[`${base}/templates/_args.tpl`] = `{{/* ${GENERATED_HEADER} */}}\n${helmArgsTemplate(plan)}`;
  files[`${base}/templates/_queries.tpl`] = `{{/* ${GENERATED_HEADER} */}}\n${chartQueriesTemplate(plan)}`;
  files[`${base}/values.yaml`] =
    `# ${GENERATED_HEADER}\n${stringify(values, { lineWidth: 0, sortMapEntries: false })}`;
  files[`${base}/values.schema.json`] = `${JSON.stringify(valuesSchema(values), null, 2)}\n`;
  for (const env of deliveryOf(plan).environments)
    if (env.valuesFile)
      files[`${base}/${env.valuesFile}`] =
        `# ${GENERATED_HEADER}\n${stringify(environmentValues(plan, env.name), { lineWidth: 0, sortMapEntries: false })}`;
  // each other region of a multi-region plan: what its release changes over values.yaml (its data
  // bucket, the region its secrets are read in), given to helm there after the environment's file
  for (const stack of plan.inventory?.secondaries ?? [])
    files[`${base}/${regionValuesFile(stack.region)}`] =
      `# ${GENERATED_HEADER}\n${stringify(regionValues(plan, stack.region), { lineWidth: 0, sortMapEntries: false })}`;
  files[`${base}/.helmignore`] = `# ${GENERATED_HEADER}\n.git/\n*.tmp\n*.swp\n`;
  return files;
}

/** The values file of a secondary region, beside values.yaml. */
export function regionValuesFile(region: string): string {
  return `values-region-${region}.yaml`;
}

/**
 * What a secondary region's release changes over values.yaml: the values the plan would give in that
 * region, where they differ from the primary's (derived, so nothing region-specific is kept by hand).
 */
export function regionValues(plan: Plan, region: string): Record<string, unknown> {
  const regional: Plan = {
    ...plan,
    requirements: { ...plan.requirements, cloud: { ...plan.requirements.cloud, region } },
  };
  return (changed(helmValues(plan), helmValues(regional)) ?? {}) as Record<string, unknown>;
}

/** What `after` changes over `before` (maps key by key, anything else whole); undefined when nothing. */
function changed(before: unknown, after: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  if (isMap(before) && isMap(after)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(after)) {
      const diff = changed(before[key], value);
      if (diff !== undefined) out[key] = diff;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? undefined : after;
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
