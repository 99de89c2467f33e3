/**
 * The serving core's configuration (serve.yaml) derived from the Plan: models, batching, routing,
 * fallback, cache, features and drift bands. The Helm chart mounts the same document.
 */
import type { Plan } from "../../plan/types.js";
import { dns1123 } from "../names.js";

function decision(plan: Plan, capability: string) {
  return plan.decisions.find((d) => d.capability === capability)!;
}

export interface FeatureField {
  name: string;
  type: string;
  min: number | null;
  max: number | null;
}

/** The spec's features, or f0..f7 (floats) when it declares none. */
export function defaultFeatures(plan: Plan): FeatureField[] {
  const fields = plan.requirements.features.fields;
  if (fields.length > 0) return fields.map((f) => ({ name: f.name, type: f.type, min: f.min, max: f.max }));
  return Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, type: "float", min: null, max: null }));
}

export function serveConfigFromPlan(plan: Plan): Record<string, unknown> {
  const spec = plan.requirements;
  const name = dns1123(spec.metadata.name);
  const batching = decision(plan, "serving.batching");
  const caching = decision(plan, "serving.caching");
  const fallback = decision(plan, "reliability.fallback");
  const deploy = decision(plan, "deployment.strategy");
  const drift = decision(plan, "monitoring.drift");
  const store = decision(plan, "features.store");
  const p = (d: { params: Record<string, unknown> }, key: string, fallbackValue: unknown) =>
    d.params[key] ?? fallbackValue;
  return {
    models: [{ name, path: `/models/${name}`, versionPolicy: "production" }],
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
    routing: {
      strategy: deploy.choice,
      canaryWeight: deploy.choice === "canary" ? 0 : 0,
      shadow: deploy.choice === "shadow",
      stickyKey: spec.features.entityKey,
    },
    fallback: {
      kind: fallback.choice,
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
    features:
      store.choice === "online"
        ? {
            store: "redis",
            url: "redis://redis:6379",
            entityKey: spec.features.entityKey,
            fields: defaultFeatures(plan),
          }
        : { store: "none", entityKey: spec.features.entityKey, fields: defaultFeatures(plan) },
    drift:
      drift.choice === "none"
        ? { enabled: false }
        : {
            enabled: true,
            bins: Number(p(drift, "bins", 10)),
            warn: Number(p(drift, "warn", 0.1)),
            alert: Number(p(drift, "alert", 0.25)),
            window: Number(p(drift, "windowSize", 1000)),
          },
    latencySloMs: spec.inference.latencyP99Ms,
  };
}
