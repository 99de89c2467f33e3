/** Prometheus metrics of the serving core (prom-client, its own registry). */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** `beforeScrape` runs before each exposition: counts kept outside prom-client are folded in then. */
export function createMetrics(hooks: { beforeScrape?: () => void } = {}) {
  const registry = new Registry();
  const m = {
    registry,
    requests: new Counter({
      name: "stackwright_requests_total",
      help: "Inference requests by model, version and HTTP status",
      labelNames: ["model", "version", "code"],
      registers: [registry],
      collect() {
        hooks.beforeScrape?.();
      },
    }),
    latency: new Histogram({
      name: "stackwright_request_duration_seconds",
      help: "Inference request latency",
      labelNames: ["model"],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "stackwright_batch_size",
      help: "Rows per executed batch",
      labelNames: ["model", "version"],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "stackwright_queue_depth",
      help: "Rows waiting to be batched",
      labelNames: ["model", "version"],
      registers: [registry],
    }),
    breaker: new Gauge({
      name: "stackwright_breaker_state",
      help: "Circuit breaker of the primary: 0 closed, 1 half-open, 2 open",
      labelNames: ["model"],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: "stackwright_cache_hits_total",
      help: "Exact-match cache hits",
      labelNames: ["model"],
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: "stackwright_cache_misses_total",
      help: "Exact-match cache misses",
      labelNames: ["model"],
      registers: [registry],
    }),
    fallbacks: new Counter({
      name: "stackwright_fallbacks_total",
      help: "Requests answered by the fallback chain",
      labelNames: ["model", "via"],
      registers: [registry],
    }),
    provider: new Gauge({
      name: "stackwright_execution_provider",
      help: "Execution provider in use per model version (1)",
      labelNames: ["model", "version", "provider"],
      registers: [registry],
    }),
    shadowRequests: new Counter({
      name: "stackwright_shadow_requests_total",
      help: "Requests mirrored to a shadow version: compared, failed (the shadow errored) or dropped (its queue was full)",
      labelNames: ["model", "version", "outcome"],
      registers: [registry],
    }),
    shadowAgreement: new Gauge({
      name: "stackwright_shadow_agreement_ratio",
      help: "Share of compared rows where the shadow's label equals the primary's",
      labelNames: ["model", "version"],
      registers: [registry],
    }),
    shadowDiff: new Histogram({
      name: "stackwright_shadow_abs_diff",
      help: "Absolute difference between the shadow's and the primary's score per compared row",
      labelNames: ["model", "version"],
      buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
      registers: [registry],
    }),
    shadowLatency: new Histogram({
      name: "stackwright_shadow_duration_seconds",
      help: "Time the shadow version took per mirrored request",
      labelNames: ["model", "version"],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    psi: new Gauge({
      name: "stackwright_feature_psi",
      help: "Population stability index per input feature over the sliding window",
      labelNames: ["model", "feature"],
      registers: [registry],
    }),
  };
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;
