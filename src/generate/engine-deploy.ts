/**
 * How a plan's LLM engine runs in the chart: its image and command line (engines.ts, with the
 * figures the capacity model sized), the checkpoint copied from the data bucket the inventory creates
 * by an init container under the pod's workload identity, and the health paths the kubelet, the load
 * balancer and NOTES.txt ask. The values the chart renders (values.yaml `engine`), the platform
 * README's `docker run` and the generated CI's GPU smoke job all come from engineArgs().
 */

import { azureStorageNameIn, dns1123 } from "../infra/names.js";
import { weightsVolumeGb } from "../infra/usage.js";
import type { Plan } from "../plan/types.js";
import { AZURE_DATA_CONTAINER, dataLocation } from "./commands.js";
import { type EngineRun, engineRun, type LlmEngine, llmEngineOf, WEIGHTS_MOUNT } from "./engines.js";

/** The images that copy a checkpoint from the cloud's object storage, each pinned with its source. */
export const WEIGHTS_SYNC_IMAGES = {
  // ENTRYPOINT aws; EKS Pod Identity's credentials since CLI 2.15.0
  aws: {
    image: "public.ecr.aws/aws-cli/aws-cli:2.36.7",
    source: "https://github.com/aws/aws-cli/blob/v2/CHANGELOG.rst (2.36.7, 2026-07-23)",
  },
  // uses GKE's metadata server (Workload Identity Federation) with no login step
  gcp: {
    image: "gcr.io/google.com/cloudsdktool/google-cloud-cli:573.0.0-slim",
    source: "https://github.com/GoogleCloudPlatform/cloud-sdk-docker (573.0.0, 2026-06-17)",
  },
  // no entrypoint: the command is a shell's
  azure: {
    image: "mcr.microsoft.com/azure-cli:2.89.1-azurelinux3.0",
    source:
      "https://learn.microsoft.com/en-us/cli/azure/release-notes-azure-cli (2.89.1, 2026-08-11; the -azurelinux3.0 tag by the documented pattern)",
  },
} as const;

/**
 * What a replica's start is assumed to take once the checkpoint is on its disk, for the startup
 * probe's patience: reading it at 1 GB/s and 10 minutes of compiling and CUDA-graph capture. An
 * assumption, not a measurement: the kubelet waits this long before it restarts a pod still loading.
 */
export const ENGINE_LOAD_GB_PER_SECOND = 1;
export const ENGINE_WARMUP_SECONDS = 600;

/** Shared memory for the tensor-parallel workers' NCCL buffers (vLLM's Kubernetes example: 2 GiB). */
export const ENGINE_SHM_GI = 2;

export interface EngineDeployment {
  engine: LlmEngine;
  run: EngineRun;
  args: string[];
  env: Record<string, string>;
  image: string;
}

/** The plan's engine and its command line, or null when the serving core serves the model. */
export function engineArgs(plan: Plan): EngineDeployment | null {
  const engine = llmEngineOf(plan);
  if (!engine) return null;
  const run = engineRun(plan, engine);
  return {
    engine,
    run,
    args: engine.args(run),
    env: engine.env(run),
    image: `${engine.image.repository}:${engine.image.tag}`,
  };
}

/** Where the published checkpoint of the plan's model is: models/<name>/ in the data bucket. */
export function weightsLocation(plan: Plan): string {
  return `${dataLocation(plan)}models/${dns1123(plan.requirements.metadata.name)}/`;
}

/**
 * The init container's command that copies the checkpoint into the pod's weights volume, under the
 * pod's workload identity (EKS Pod Identity, GKE Workload Identity Federation, AKS workload identity);
 * null on the team's own cluster, where a PersistentVolumeClaim holds it.
 */
function weightsSync(plan: Plan, run: EngineRun): { image: string; command: string[] } | null {
  const source = weightsLocation(plan);
  switch (plan.requirements.cloud.provider) {
    case "aws":
      return {
        image: WEIGHTS_SYNC_IMAGES.aws.image,
        command: ["aws", "s3", "sync", "--only-show-errors", source, run.modelDir],
      };
    case "gcp":
      // the metadata server may refuse a pod's first requests for a few seconds: retried
      return {
        image: WEIGHTS_SYNC_IMAGES.gcp.image,
        command: [
          "/bin/sh",
          "-c",
          `for attempt in 1 2 3 4 5; do gcloud storage rsync --recursive ${source} ${run.modelDir} && exit 0; sleep 10; done; exit 1`,
        ],
      };
    case "azure": {
      const account = azureStorageNameIn(plan.requirements);
      const prefix = source.slice(`az://${account}/${AZURE_DATA_CONTAINER}/`.length);
      // the federated token the AKS webhook mounts, then the blobs under the prefix: download-batch
      // keeps their paths (models/<name>/...) under the destination, which is where run.modelDir is
      const script = [
        'az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions --output none',
        `az storage blob download-batch --auth-mode login --account-name ${account} --source ${AZURE_DATA_CONTAINER} --pattern '${prefix}*' --destination ${WEIGHTS_MOUNT} --overwrite true --output none`,
      ].join(" && ");
      return { image: WEIGHTS_SYNC_IMAGES.azure.image, command: ["/bin/sh", "-c", script] };
    }
    default:
      return null;
  }
}

/** values.yaml `engine`: `kind: onnx-core` alone, or the LLM engine's container and checkpoint. */
export function engineValues(plan: Plan): Record<string, unknown> & { port?: number } {
  const deployment = engineArgs(plan);
  if (!deployment) return { kind: "onnx-core" };
  const { engine, run } = deployment;
  const checkpointGb = plan.capacity.llm?.checkpointGb ?? 0;
  const sync = weightsSync(plan, run);
  return {
    kind: engine.id,
    image: { repository: engine.image.repository, tag: engine.image.tag },
    port: engine.port,
    args: deployment.args,
    env: Object.entries(deployment.env).map(([name, value]) => ({ name, value })),
    // the bearer token the engine requires on its API, from the serving tokens' Secret (key token);
    // empty: the engine takes none (put it behind the gateway's authentication)
    apiKeyEnv: engine.apiKeyEnv ?? "",
    metricsPath: engine.metricsPath,
    // assumed, not measured (ENGINE_LOAD_GB_PER_SECOND, ENGINE_WARMUP_SECONDS)
    startupSeconds: Math.ceil(checkpointGb / ENGINE_LOAD_GB_PER_SECOND + ENGINE_WARMUP_SECONDS),
    sharedMemory: run.tensorParallel > 1 ? `${ENGINE_SHM_GI}Gi` : "",
    weights: {
      source: sync ? weightsLocation(plan) : "",
      mountPath: WEIGHTS_MOUNT,
      // the checkpoint and a tenth more, on the node's disk (the inventory sizes the disk for it)
      sizeLimit: `${weightsVolumeGb(checkpointGb)}Gi`,
      // the team's own cluster: a PersistentVolumeClaim the operator fills with the checkpoint
      existingClaim: sync ? "" : `${dns1123(plan.requirements.metadata.name)}-weights`,
      sync: sync ?? { image: "", command: [] },
    },
  };
}

/** Where the kubelet, the load balancer and NOTES.txt ask whether a serving pod is alive and ready. */
export function healthPaths(plan: Plan): { live: string; ready: string } {
  const engine = llmEngineOf(plan);
  if (engine) return { live: engine.healthPath, ready: engine.healthPath };
  const mode = plan.decisions.find((d) => d.capability === "serving.mode")?.choice;
  return mode === "streaming"
    ? { live: "/healthz", ready: "/healthz" }
    : { live: "/v2/health/live", ready: "/v2/health/ready" };
}

/**
 * The deploy's smoke test of a pre-production release (deploy.yml): through the Service, the engine
 * answers a chat completion, and its /metrics holds every series the chart's canary gates, alerts,
 * dashboard and autoscaling triggers read (a healthy engine's: failure counters appear only on a
 * failure). The one place the engine itself runs before production, on the environment's GPU nodes.
 */
export function engineSmokeScript(plan: Plan, namespace: string, service: string): string {
  const deployment = engineArgs(plan);
  if (!deployment) throw new Error("engineSmokeScript: the plan runs no LLM engine");
  const { engine, run } = deployment;
  const m = engine.metrics;
  const names = [
    m.waiting.name,
    m.running.name,
    ...(m.kvCacheUsage ? [m.kvCacheUsage.name] : []),
    ...(m.timeToFirstToken ? [`${m.timeToFirstToken.name}_bucket`] : []),
    `${m.interToken.name}_bucket`,
    `${m.requestLatency.name}_bucket`,
    m.requests.metric.name,
  ];
  const request = JSON.stringify({
    model: run.servedName,
    messages: [{ role: "user", content: "Reply with the word ready." }],
    max_tokens: 8,
  });
  const base = `http://127.0.0.1:$LOCAL_PORT`;
  return [
    `kubectl port-forward --namespace ${namespace} service/${service} "$LOCAL_PORT:80" >/dev/null 2>&1 &`,
    "trap 'kill %1 2>/dev/null || true' EXIT",
    `for attempt in $(seq 1 30); do curl -sf "${base}${engine.healthPath}" >/dev/null && break; sleep 2; done`,
    `curl -sf -H "Authorization: Bearer $SERVE_TOKEN" -H 'Content-Type: application/json' "${base}${engine.chatPath}" \\`,
    `  -d '${request}' | jq -e '.choices[0].message.content | length > 0'`,
    `metrics=$(curl -sf "${base}${engine.metricsPath}")`,
    `for metric in ${names.join(" ")}; do`,
    `  if ! printf '%s\\n' "$metrics" | grep -q "^$metric[{ ]"; then`,
    `    echo "::error::${engine.title} exports no $metric, which the chart's gates, alerts or autoscaling read: check the engine's version against src/generate/engines.ts"`,
    "    exit 1",
    "  fi",
    "done",
  ].join("\n");
}
