/**
 * serve.yaml derived from the Plan: a typed object of the serving core's own schema
 * (src/serve/config.ts), checked against it here, written once as platform/serve.yaml and embedded
 * as the same document in the Helm chart's ConfigMap. Paths in it are relative to the file, so it
 * works from the out directory, in the image and in the chart's mount alike.
 */

import { dns1123 } from "../../infra/names.js";
import type { Plan } from "../../plan/types.js";
import { type ServeConfigInput, serveConfigSchema } from "../../serve/config.js";

/** Where the image keeps the platform directory (serve.yaml, models/, features/). */
export const PLATFORM_DIR_IN_IMAGE = "/srv/platform";
/** serve.yaml in the image (the chart mounts its ConfigMap over it). */
export const SERVE_CONFIG_IN_IMAGE = `${PLATFORM_DIR_IN_IMAGE}/serve.yaml`;
/** The embedded feature store's file, relative to serve.yaml. */
export const ONLINE_FEATURES_FILE = "features/online.jsonl";
/**
 * The Kubernetes Secrets the chart reads (it creates none): the online store's URL, synced from
 * the cloud secret the Terraform writes, the serving core's bearer tokens, and on GCP the score job's
 * HMAC key for gs:// (keys access-id and secret).
 */
export function clusterSecrets(plan: Plan): {
  onlineStore: string;
  serveTokens: string;
  objectStore: string;
} {
  const base = dns1123(plan.requirements.metadata.name, 53);
  return {
    onlineStore: `${base}-redis`,
    serveTokens: `${base}-serve-tokens`,
    objectStore: `${base}-object-store`,
  };
}

/** The environment variable that carries the online store's URL in a cluster (from a Secret). */
export const REDIS_URL_ENV = "STACKWRIGHT_REDIS_URL";

function decision(plan: Plan, capability: string) {
  return plan.decisions.find((d) => d.capability === capability)!;
}

export interface FeatureField {
  name: string;
  type: "float" | "int" | "bool" | "string";
  min: number | null;
  max: number | null;
}

/** The spec's features, or f0..f7 (floats) when it declares none. */
export function defaultFeatures(plan: Plan): FeatureField[] {
  const fields = plan.requirements.features.fields;
  if (fields.length > 0) return fields.map((f) => ({ name: f.name, type: f.type, min: f.min, max: f.max }));
  return Array.from({ length: 8 }, (_, i) => ({
    name: `f${i}`,
    type: "float" as const,
    min: null,
    max: null,
  }));
}

/** The model names serve.yaml lists: the workload's, and its fallback model when the plan keeps one. */
export function servedModels(plan: Plan): { primary: string; fallback?: string } {
  const primary = dns1123(plan.requirements.metadata.name);
  return decision(plan, "reliability.fallback").choice === "fallback-chain"
    ? { primary, fallback: `${primary}-fallback` }
    : { primary };
}

export function serveConfigFromPlan(plan: Plan): ServeConfigInput {
  const spec = plan.requirements;
  const batching = decision(plan, "serving.batching");
  const caching = decision(plan, "serving.caching");
  const fallback = decision(plan, "reliability.fallback");
  const deploy = decision(plan, "deployment.strategy");
  const drift = decision(plan, "monitoring.drift");
  const online = decision(plan, "features.store").choice === "online";
  const p = (d: { params: Record<string, unknown> }, key: string, fallbackValue: unknown) =>
    d.params[key] ?? fallbackValue;
  const models = servedModels(plan);
  const fields = defaultFeatures(plan).map(({ name, type }) => ({ name, type }));
  const config: ServeConfigInput = {
    models: [models.primary, ...(models.fallback ? [models.fallback] : [])].map((name) => ({
      name,
      path: `models/${name}`,
    })),
    device: plan.capacity.hardware === "gpu" ? "auto" : "cpu",
    batching:
      batching.choice === "dynamic" || batching.choice === "micro-batch"
        ? {
            enabled: true,
            maxBatchSize: Number(p(batching, "maxBatchSize", p(batching, "maxBatchRows", 16))),
            maxQueueDelayMs: Number(p(batching, "maxQueueDelayMs", p(batching, "maxBatchDelayMs", 5))),
            maxQueue: Number(p(batching, "maxQueue", 1024)),
          }
        : { enabled: false, maxBatchSize: 1, maxQueueDelayMs: 0, maxQueue: 1024 },
    // image canaries are the deployment's (Argo Rollouts); a staging model version takes no share
    // until someone sets one (POST /v2/repository/models/{name}/routing or model.yaml canaryWeight)
    routing: { canaryWeight: 0, shadow: deploy.choice === "shadow", stickyKey: spec.features.entityKey },
    fallback: {
      timeoutMs: Number(p(fallback, "timeoutMs", spec.inference.latencyP99Ms)),
      breaker: {
        failures: Number(p(fallback, "breakerFailures", 5)),
        windowSeconds: Number(p(fallback, "breakerWindowSeconds", 10)),
        openSeconds: Number(p(fallback, "breakerOpenSeconds", 30)),
      },
    },
    cache:
      caching.choice === "exact-match"
        ? { enabled: true, maxEntries: Number(p(caching, "maxEntries", 10000)) }
        : { enabled: false, maxEntries: 0 },
    // online store: the embedded store from the shipped file locally, Redis where the cluster sets the URL
    features: online
      ? {
          store: "memory",
          file: ONLINE_FEATURES_FILE,
          urlEnv: REDIS_URL_ENV,
          entityKey: spec.features.entityKey,
          fields,
        }
      : { store: "none", entityKey: spec.features.entityKey, fields },
    drift:
      drift.choice === "none"
        ? { enabled: false }
        : {
            enabled: true,
            warn: Number(p(drift, "warn", 0.1)),
            alert: Number(p(drift, "alert", 0.25)),
            window: Number(p(drift, "windowSize", 1000)),
          },
  };
  // the generator and the server share one definition: what is written must be what is read
  const checked = serveConfigSchema.safeParse(config);
  if (!checked.success)
    throw new Error(`the generated serve.yaml breaks its own schema: ${checked.error.message}`);
  return config;
}
