/**
 * The command contract: how the generated platform invokes stackwright. One builder per command a
 * job runs (serve, score, consume, generate --check); every generator that writes a stackwright
 * command line calls it: the chart's container args (templates/_args.tpl is written from these
 * builders), the Dockerfile's CMD, the Argo and Airflow score jobs, the serverless jobs in Terraform
 * and the CI drift check. test/generate/command-contract.test.ts collects every command line from
 * every generated tree (the chart rendered by real helm) and runs it through the CLI's own parser.
 *
 * It also owns where a batch plan's data lives: the data bucket the Terraform creates (one name,
 * used by the Terraform and by every job that reads or writes it) and score's input and output in
 * the cloud's own scheme (s3://, gs://, az://account/container).
 */
import { createHash } from "node:crypto";
import { azureStorageNameIn, dns1123 } from "../infra/names.js";
import { choicesOf, servesGrpc } from "../plan/index.js";
import type { Plan } from "../plan/types.js";
import { SERVE_ENV } from "../serve/config.js";
import { clusterSecrets, SERVE_CONFIG_IN_IMAGE } from "./platform/serve-config.js";

/** The port the serving core listens on and exports /metrics from (serve and consume alike). */
export const CONTAINER_PORT = 8080;
/** The port serve takes gRPC calls on, where the plan serves gRPC (grpcServed). */
export const GRPC_PORT = 8081;

/** Whether the generated platform serves gRPC (the plan's rule: servesGrpc). */
export function grpcServed(plan: Plan): boolean {
  return servesGrpc(plan.requirements, choicesOf(plan));
}
/** The address a container binds: every interface of the pod or task. */
const POD_HOST = "0.0.0.0";

export interface ServeCommand {
  config?: string;
  port?: string;
  device?: string;
  /** also serve gRPC on this port */
  grpcPort?: string;
}

export function serveArgs(o: ServeCommand = {}): string[] {
  return [
    "serve",
    "--config",
    o.config ?? SERVE_CONFIG_IN_IMAGE,
    "--host",
    POD_HOST,
    "--port",
    o.port ?? String(CONTAINER_PORT),
    ...(o.grpcPort ? ["--grpc-port", o.grpcPort] : []),
    ...device(o.device),
  ];
}

/**
 * serve's options as its environment (SERVE_ENV), for a platform that starts the image with a fixed
 * command: Amazon SageMaker runs it as `serve` alone, on CONTAINER_PORT (serve's default port).
 */
export function serveEnvironment(o: Pick<ServeCommand, "config" | "device"> = {}): Record<string, string> {
  return {
    [SERVE_ENV.config]: o.config ?? SERVE_CONFIG_IN_IMAGE,
    [SERVE_ENV.host]: POD_HOST,
    ...(o.device ? { [SERVE_ENV.device]: o.device } : {}),
  };
}

export interface ScoreCommand {
  config?: string;
  input: string;
  output: string;
  /** a Pushgateway for the run's metrics (the plan's alerts read them) */
  metricsPush?: string;
  device?: string;
}

export function scoreArgs(o: ScoreCommand): string[] {
  return [
    "score",
    "--config",
    o.config ?? SERVE_CONFIG_IN_IMAGE,
    "--input",
    o.input,
    "--output",
    o.output,
    ...(o.metricsPush ? ["--metrics-push", o.metricsPush] : []),
    ...device(o.device),
  ];
}

export interface ConsumeCommand {
  config?: string;
  source: string;
  sink: string;
  deadLetter: string;
  group: string;
  port?: string;
  device?: string;
}

export function consumeArgs(o: ConsumeCommand): string[] {
  return [
    "consume",
    "--config",
    o.config ?? SERVE_CONFIG_IN_IMAGE,
    "--source",
    o.source,
    "--sink",
    o.sink,
    "--dead-letter",
    o.deadLetter,
    "--group",
    o.group,
    "--metrics-port",
    o.port ?? String(CONTAINER_PORT),
    "--metrics-host",
    POD_HOST,
    ...device(o.device),
  ];
}

/** The CI drift check: regenerate from the spec and fail on any difference. */
export function checkArgs(o: { spec: string; out: string }): string[] {
  return ["generate", "--spec", o.spec, "--out", o.out, "--check"];
}

function device(name: string | undefined): string[] {
  return name ? ["--device", name] : [];
}

/**
 * The chart's `stackwright.args` helper, written from the builders above: the values a release can
 * change (the config path, the batch locations, the stream endpoints, the device) are Go template
 * variables, the rest are the builders' own literals. An argument starting with `$` or `(` is a
 * template expression; every other one is a quoted string.
 */
export function helmArgsTemplate(plan: Plan): string {
  const list = (args: string[]) =>
    `(list ${args.map((a) => (a.startsWith("$") || a.startsWith("(") ? a : JSON.stringify(a))).join(" ")})`;
  const config = "$config";
  const dev = "$device";
  const port = "(toString $v.containerPort)";
  return [
    "{{/* The container's command line for a component: serve, consume (streaming) or score (batch). Written by stackwright from its command builders. */}}",
    '{{- define "stackwright.args" -}}',
    "{{- $v := .root.Values -}}",
    '{{- $config := printf "%s/serve.yaml" $v.platformDir -}}',
    '{{- $device := include "stackwright.device" .root -}}',
    '{{- if eq .component "score" -}}',
    `{{- toJson ${list(scoreArgs({ config, input: "$v.batch.input", output: "$v.batch.output", metricsPush: pushgateway(plan) && "$v.batch.metricsPush", device: dev }))} -}}`,
    '{{- else if eq $v.mode "streaming" -}}',
    `{{- toJson ${list(consumeArgs({ config, source: "$v.stream.source", sink: "$v.stream.sink", deadLetter: "$v.stream.deadLetter", group: "$v.stream.group", port, device: dev }))} -}}`,
    "{{- else if $v.grpcPort -}}",
    `{{- toJson ${list(serveArgs({ config, port, device: dev, grpcPort: "(toString $v.grpcPort)" }))} -}}`,
    "{{- else -}}",
    `{{- toJson ${list(serveArgs({ config, port, device: dev }))} -}}`,
    "{{- end -}}",
    "{{- end -}}",
    "",
  ].join("\n");
}

/**
 * The data bucket's name on AWS and GCP: bucket names are global, so the name carries a short hash
 * of who and where (provider, region, owner, name) — stable across spec edits, unlike the spec hash.
 * The Terraform creates the bucket with this name (variable data_bucket's default) and every job
 * reads and writes it by this name.
 */
export function dataBucketName(plan: Plan): string {
  const spec = plan.requirements;
  // Google Cloud's multi-region plans share the primary's dual-region bucket; AWS has one per region
  const home = spec.cloud.provider === "gcp" ? spec.availability.regions[0] : spec.cloud.region;
  const id = createHash("sha256")
    .update(`${spec.cloud.provider}/${home}/${spec.metadata.owner}/${spec.metadata.name}`)
    .digest("hex")
    .slice(0, 8);
  return `${dns1123(spec.metadata.name, 40)}-data-${id}`;
}

/** Azure keeps the data in the storage account's `data` container (azure/storage.tf). */
export const AZURE_DATA_CONTAINER = "data";

/** Where the data bucket is, in the cloud's own URL scheme, with a trailing slash. */
export function dataLocation(plan: Plan): string {
  const spec = plan.requirements;
  switch (spec.cloud.provider) {
    case "gcp":
      return `gs://${dataBucketName(plan)}/`;
    case "azure":
      return `az://${azureStorageNameIn(spec)}/${AZURE_DATA_CONTAINER}/`;
    default:
      return `s3://${dataBucketName(plan)}/`;
  }
}

/**
 * score's input (every file under input/) and output (predictions/) in the data bucket. A
 * pre-production environment reads the same input and writes under its own prefix
 * (<environment>/predictions/), so it never overwrites production's predictions.
 */
export function batchLocations(plan: Plan, environment?: string): { input: string; output: string } {
  const root = dataLocation(plan);
  return { input: `${root}input/*`, output: `${root}${environment ? `${environment}/` : ""}predictions/` };
}

/** An environment variable a job reads from a key of a Kubernetes Secret. */
export interface SecretEnv {
  name: string;
  secretName: string;
  key: string;
}

/**
 * What a score job in the cluster needs to reach the data bucket beyond its workload identity, from a
 * Secret the operator creates (clusterSecrets().objectStore): on GCP the service account's HMAC key
 * (gs:// goes through the XML API); on the team's own cluster the S3-compatible store's endpoint and
 * key. AWS (IRSA) and Azure (workload identity) need none. The chart's CronJob and the Argo and
 * Airflow score jobs all take it from here.
 */
export function objectStoreSecretEnv(plan: Plan): SecretEnv[] {
  const secretName = clusterSecrets(plan).objectStore;
  const env = (pairs: Array<[string, string]>) => pairs.map(([name, key]) => ({ name, secretName, key }));
  switch (plan.requirements.cloud.provider) {
    case "gcp":
      return env([
        ["GCS_HMAC_ACCESS_ID", "access-id"],
        ["GCS_HMAC_SECRET", "secret"],
      ]);
    case "kubernetes":
      return env([
        ["AWS_ENDPOINT_URL_S3", "endpoint"],
        ["AWS_ACCESS_KEY_ID", "access-key-id"],
        ["AWS_SECRET_ACCESS_KEY", "secret-access-key"],
      ]);
    default:
      return [];
  }
}

/** Who starts a batch plan's score job in a cluster: the chart's CronJob, or the plan's orchestrator. */
export const SCORE_SCHEDULERS = ["cronjob", "airflow", "argo-workflows"] as const;

export function scoreScheduler(plan: Plan): (typeof SCORE_SCHEDULERS)[number] {
  // the orchestrator has a score job only for a batch plan (platform/pipelines); a chart switched to
  // batch by its values keeps its own CronJob running
  const batch = plan.decisions.find((d) => d.capability === "serving.mode")?.choice === "batch";
  const orchestration = plan.decisions.find((d) => d.capability === "orchestration")?.choice;
  return batch && (orchestration === "airflow" || orchestration === "argo-workflows")
    ? orchestration
    : "cronjob";
}

/** When a batch plan's score job runs (cron, UTC): the serving.mode decision's, else the spec's. */
export function scoreSchedule(plan: Plan): string {
  return String(
    plan.decisions.find((d) => d.capability === "serving.mode")?.params.schedule ??
      plan.requirements.inference.batch.schedule ??
      "0 2 * * *",
  );
}

/**
 * The in-cluster addresses of the monitoring stack the chart assumes (the Prometheus operator's
 * prometheus-operated Service and a Pushgateway in the monitoring namespace): values the team changes
 * to match its own stack.
 */
export const PROMETHEUS_ADDRESS = "http://prometheus-operated.monitoring:9090";
export const PUSHGATEWAY_ADDRESS = "http://prometheus-pushgateway.monitoring:9091";

/** Where a score job pushes its run's metrics: the Pushgateway, on plans that run Prometheus. */
export function pushgateway(plan: Plan): string | undefined {
  const metrics = plan.decisions.find((d) => d.capability === "monitoring.metrics")?.choice;
  return metrics === "prometheus" ? PUSHGATEWAY_ADDRESS : undefined;
}

/**
 * The plan's scheduled score job with its values filled in (the Argo and Airflow jobs, the serverless
 * jobs in Terraform): the data bucket's locations and, on plans that run Prometheus, the Pushgateway.
 */
export function scoreJobArgs(plan: Plan, environment?: string): string[] {
  return scoreArgs({ ...batchLocations(plan, environment), metricsPush: pushgateway(plan) });
}

/** `stackwright edge bundle`: a signed bundle of platform/edge/ (the release workflow, the edge README). */
export function edgeBundleArgs(o: {
  from: string;
  out: string;
  name: string;
  version: string;
  sequence: string;
  key: string;
}): string[] {
  return [
    "edge",
    "bundle",
    "--from",
    o.from,
    "--out",
    o.out,
    "--name",
    o.name,
    "--bundle-version",
    o.version,
    "--sequence",
    o.sequence,
    "--key",
    o.key,
  ];
}

/** `stackwright edge publish`: a verified bundle into the bundle store. */
export function edgePublishArgs(o: { bundle: string; store: string; key: string }): string[] {
  return ["edge", "publish", o.bundle, "--store", o.store, "--key", o.key];
}

/** `stackwright edge promote`: a ring moved as asked (`ring` and `version`), or the next one that passed its gate. */
export function edgePromoteArgs(o: {
  rollout: string;
  store: string;
  telemetry: string;
  key: string;
  ring?: string;
  version?: string;
}): string[] {
  return [
    "edge",
    "promote",
    "--rollout",
    o.rollout,
    "--store",
    o.store,
    "--telemetry",
    o.telemetry,
    "--key",
    o.key,
    ...(o.ring && o.version ? ["--ring", o.ring, "--bundle-version", o.version] : []),
  ];
}
