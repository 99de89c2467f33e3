/**
 * The metrics contract: every metric `serve`, `consume` and `score` export, declared once (name,
 * type, help, label names, buckets). The exporters instantiate prom-client metrics from these
 * declarations, and every generated query (alert rules, dashboards, canary gates, KEDA triggers) is
 * built from them by src/generate/platform/promql.ts, which refuses a label a metric does not carry.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricSpec {
  name: string;
  help: string;
  type: MetricType;
  labels: readonly string[];
  buckets?: readonly number[];
}

export type LabelOf<S extends MetricSpec> = S["labels"][number];

type Instance<S extends MetricSpec> = S["type"] extends "counter"
  ? Counter<LabelOf<S>>
  : S["type"] extends "gauge"
    ? Gauge<LabelOf<S>>
    : Histogram<LabelOf<S>>;

/**
 * Latency buckets up to a minute: histogram_quantile cannot report past the largest finite bucket, so
 * a latency SLO above it could never fire (an 8 s LLM SLO did not, with 5 s the largest). The alert
 * generator refuses an SLO at or above the largest bucket.
 */
export const SECONDS_BUCKETS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60,
] as const;

/** Shared by serve and consume: both watch the live inputs of the model they run. */
const FEATURE_PSI = {
  name: "stackwright_feature_psi",
  help: "Population stability index per input feature over the sliding window",
  type: "gauge",
  labels: ["model", "feature"],
} as const satisfies MetricSpec;

/** What `stackwright serve` exports on /metrics. */
export const SERVE_METRICS = {
  requests: {
    name: "stackwright_requests_total",
    help: "Inference requests by model, version and HTTP status",
    type: "counter",
    labels: ["model", "version", "code"],
  },
  latency: {
    name: "stackwright_request_duration_seconds",
    help: "Inference request latency",
    type: "histogram",
    labels: ["model"],
    buckets: SECONDS_BUCKETS,
  },
  batchSize: {
    name: "stackwright_batch_size",
    help: "Rows per executed batch",
    type: "histogram",
    labels: ["model", "version"],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
  },
  queueDepth: {
    name: "stackwright_queue_depth",
    help: "Rows waiting to be batched",
    type: "gauge",
    labels: ["model", "version"],
  },
  breaker: {
    name: "stackwright_breaker_state",
    help: "Circuit breaker of the primary: 0 closed, 1 half-open, 2 open",
    type: "gauge",
    labels: ["model"],
  },
  cacheHits: {
    name: "stackwright_cache_hits_total",
    help: "Exact-match cache hits",
    type: "counter",
    labels: ["model"],
  },
  cacheMisses: {
    name: "stackwright_cache_misses_total",
    help: "Exact-match cache misses",
    type: "counter",
    labels: ["model"],
  },
  fallbacks: {
    name: "stackwright_fallbacks_total",
    help: "Requests answered by the fallback chain",
    type: "counter",
    labels: ["model", "via"],
  },
  provider: {
    name: "stackwright_execution_provider",
    help: "Execution provider in use per model version (1)",
    type: "gauge",
    labels: ["model", "version", "provider"],
  },
  shadowRequests: {
    name: "stackwright_shadow_requests_total",
    help: "Requests mirrored to a shadow version: compared, failed (the shadow errored) or dropped (its queue was full)",
    type: "counter",
    labels: ["model", "version", "outcome"],
  },
  shadowAgreement: {
    name: "stackwright_shadow_agreement_ratio",
    help: "Share of compared rows where the shadow's label equals the primary's",
    type: "gauge",
    labels: ["model", "version"],
  },
  shadowDiff: {
    name: "stackwright_shadow_abs_diff",
    help: "Absolute difference between the shadow's and the primary's score per compared row",
    type: "histogram",
    labels: ["model", "version"],
    buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
  },
  shadowLatency: {
    name: "stackwright_shadow_duration_seconds",
    help: "Time the shadow version took per mirrored request",
    type: "histogram",
    labels: ["model", "version"],
    buckets: SECONDS_BUCKETS,
  },
  psi: FEATURE_PSI,
} as const satisfies Record<string, MetricSpec>;

/** A consumer's series carry its model and its consumer group. */
function streamMetric<T extends MetricType>(
  name: string,
  help: string,
  type: T,
  buckets?: readonly number[],
) {
  return { name, help, type, labels: ["model", "group"] as const, ...(buckets ? { buckets } : {}) };
}

/** What `stackwright consume` exports on --metrics-port at /metrics. */
export const CONSUME_METRICS = {
  consumed: streamMetric("stackwright_stream_consumed_total", "Events read from the source", "counter"),
  produced: streamMetric("stackwright_stream_produced_total", "Results written to the sink", "counter"),
  dead: streamMetric(
    "stackwright_stream_dead_lettered_total",
    "Events sent to the dead-letter destination",
    "counter",
  ),
  lag: streamMetric(
    "stackwright_stream_lag",
    "Events not yet consumed or acknowledged by this group (each consumer reports the group's)",
    "gauge",
  ),
  batch: streamMetric(
    "stackwright_stream_batch_size",
    "Events per micro-batch",
    "histogram",
    [1, 8, 32, 64, 128, 256, 512, 1024],
  ),
  psi: FEATURE_PSI,
} as const satisfies Record<string, MetricSpec>;

/**
 * What `stackwright score` pushes to a Pushgateway at the end of a run (--metrics-push): the run's
 * rows, duration and input drift, one group per model and shard, so a batch plan's alerts have data.
 */
export const SCORE_METRICS = {
  rows: {
    name: "stackwright_score_rows",
    help: "Rows of the last run by outcome (scored, rejected)",
    type: "gauge",
    labels: ["model", "version", "outcome"],
  },
  duration: {
    name: "stackwright_score_duration_seconds",
    help: "Wall time of the last run",
    type: "gauge",
    labels: ["model", "version"],
  },
  lastSuccess: {
    name: "stackwright_score_last_success_timestamp_seconds",
    help: "When a run last finished (Unix time), rejected rows or not",
    type: "gauge",
    labels: ["model", "version"],
  },
  psi: {
    name: "stackwright_score_feature_psi",
    help: "Population stability index of the run's input per feature, against the model's reference",
    type: "gauge",
    labels: ["model", "feature"],
  },
} as const satisfies Record<string, MetricSpec>;

/** Every declared metric, by name (a metric two exporters share appears once). */
export function declaredMetrics(): Map<string, MetricSpec> {
  const out = new Map<string, MetricSpec>();
  for (const set of [SERVE_METRICS, CONSUME_METRICS, SCORE_METRICS])
    for (const spec of Object.values(set)) out.set(spec.name, spec);
  return out;
}

/** prom-client metrics for a set of declarations, in one registry; `collect` hooks per key. */
export function instantiate<T extends Record<string, MetricSpec>>(
  specs: T,
  registry: Registry,
  collect: Partial<Record<keyof T, () => void>> = {},
): { [K in keyof T]: Instance<T[K]> } {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const hook = collect[key as keyof T];
    const common = {
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labels],
      registers: [registry],
      ...(hook ? { collect: hook } : {}),
    };
    out[key] =
      spec.type === "counter"
        ? new Counter(common)
        : spec.type === "gauge"
          ? new Gauge(common)
          : new Histogram({ ...common, buckets: [...(spec.buckets ?? SECONDS_BUCKETS)] });
  }
  return out as { [K in keyof T]: Instance<T[K]> };
}

/**
 * A histogram over one label whose observations are plain array increments, exposed through a
 * prom-client registry in the same text as prom-client's own. For the per-request latency:
 * prom-client validates and hashes the label set on every observe (0.28 us here,
 * bench/serve/pipeline-micro.js), which a request of a microsecond model cannot afford.
 */
export class CountedHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  private readonly label: string;
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, { buckets: Float64Array; sum: number; count: number }>();

  constructor(spec: MetricSpec & { labels: readonly [string] }, registry: Registry) {
    this.name = spec.name;
    this.help = spec.help;
    this.label = spec.labels[0];
    this.bounds = spec.buckets ?? SECONDS_BUCKETS;
    registry.registerMetric(this as unknown as Histogram);
  }

  /** One observation `v` in the series of label value `value` (created at its first). */
  observe(value: string, v: number): void {
    let series = this.series.get(value);
    if (!series) {
      series = { buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.series.set(value, series);
    }
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]) i++;
    if (i < this.bounds.length) series.buckets[i]++;
    series.sum += v;
    series.count++;
  }

  /** What a prom-client registry formats: cumulative buckets, +Inf, sum and count per series. */
  get(): { name: string; help: string; type: string; aggregator: string; values: object[] } {
    const values: object[] = [];
    for (const [value, series] of this.series) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.buckets[i];
        values.push({
          labels: { le: this.bounds[i], [this.label]: value },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      const labels = { [this.label]: value };
      values.push(
        { labels: { le: "+Inf", ...labels }, value: series.count, metricName: `${this.name}_bucket` },
        { labels, value: series.sum, metricName: `${this.name}_sum` },
        { labels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}

/** The serving core's metrics. `beforeScrape` runs before each exposition: counts kept outside prom-client are folded in then. */
export function createMetrics(hooks: { beforeScrape?: () => void } = {}) {
  const registry = new Registry();
  const { latency, ...rest } = SERVE_METRICS;
  return {
    registry,
    ...instantiate(rest, registry, { requests: () => hooks.beforeScrape?.() }),
    latency: new CountedHistogram(latency, registry),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** The consumer's metrics (its own registry, served on --metrics-port at /metrics). */
export function createConsumeMetrics() {
  const registry = new Registry();
  return { registry, ...instantiate(CONSUME_METRICS, registry) };
}

/** The batch scorer's run-level metrics (pushed once per run). */
export function createScoreMetrics() {
  const registry = new Registry();
  return { registry, ...instantiate(SCORE_METRICS, registry) };
}
