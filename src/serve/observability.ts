/**
 * What the serving core tells operators: request counts and latency per loaded model (kept in plain
 * numbers, since prom-client's label lookup per request costs more than a small model's request),
 * batch sizes, breaker state, the provider in use, drift per feature, and the gauges refreshed at
 * each scrape.
 */
import type { BatchInput } from "./batcher.js";
import type { BreakerState } from "./breaker.js";
import type { DriftMonitor } from "./drift.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { fromHalfBits } from "./tensors.js";

/** What observability reads of a loaded version. */
export interface Observed {
  version: string;
  batcher: { depth: number };
  drift?: DriftMonitor;
  source: { meta: { features?: string[] } };
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

/** One answered inference request, as Observability.onAnswer hears of it. */
export interface Answer {
  model: string;
  version: string;
  status: number;
  latencyMs: number;
}

export class Observability {
  readonly metrics: Metrics = createMetrics({ beforeScrape: () => this.foldCounts() });
  /**
   * Request counts by model, version and status as plain numbers, folded into prom-client at each
   * scrape: prom-client hashes the label set on every inc (bench/serve/pipeline-micro.js)
   */
  private readonly counts = new Map<string, Map<string, Map<number, { n: number }>>>();

  /** Told of every answered inference request of a loaded model (a device's telemetry: src/edge/). */
  onAnswer: ((answer: Answer) => void) | undefined = undefined;

  /** One answered inference request (callers count only loaded models: a URL must not mint a series). */
  count(model: string, version: string, status: number): void {
    this.counterOf(model, version, status).n++;
  }

  /**
   * A loaded version's request series at zero for the answers an error-ratio alert compares (200 and
   * the server's own failures, 500 and 503): Prometheus counts no increase for a series' first sample,
   * so errors that arrive in a series born with them would never show in rate().
   */
  private zeroRequests(model: string, version: string): void {
    for (const code of [200, 500, 503]) this.counterOf(model, version, code);
  }

  private counterOf(model: string, version: string, status: number): { n: number } {
    let versions = this.counts.get(model);
    if (!versions) {
      versions = new Map();
      this.counts.set(model, versions);
    }
    let statuses = versions.get(version);
    if (!statuses) {
      statuses = new Map();
      versions.set(version, statuses);
    }
    let counter = statuses.get(status);
    if (!counter) {
      counter = { n: 0 };
      statuses.set(status, counter);
    }
    return counter;
  }

  private foldCounts(): void {
    for (const [model, versions] of this.counts)
      for (const [version, statuses] of versions)
        for (const [code, counter] of statuses) {
          // a series once counted stays exposed (at its total) even when nothing new arrived
          this.metrics.requests.inc({ model, version, code: String(code) }, counter.n);
          counter.n = 0;
        }
  }

  latency(model: string, seconds: number): void {
    this.metrics.latency.observe(model, seconds);
  }

  batch(model: string, version: string, rows: number): void {
    this.metrics.batchSize.observe({ model, version }, rows);
  }

  /** A model's breaker state (its breaker reports each change: CircuitBreaker's onChange). */
  breaker(model: string, state: BreakerState): void {
    this.metrics.breaker.set({ model }, BREAKER_VALUE[state]);
  }

  /**
   * The fallback counter's series for each step of a version's chain, at zero, so a dashboard or an
   * alert over it has data before the first fallback (Prometheus cannot rate a series that is absent).
   */
  private zeroFallbacks(
    model: string,
    chain: { previousVersion?: boolean; model?: string; default?: unknown } | undefined,
  ): void {
    const vias = [
      chain?.previousVersion ? "previous-version" : "",
      chain?.model ? "fallback-model" : "",
      chain?.default ? "default-response" : "",
    ].filter(Boolean);
    for (const via of vias) this.metrics.fallbacks.inc({ model, via }, 0);
  }

  /**
   * A version started serving: its provider, and its request and fallback series at zero (see
   * zeroRequests and zeroFallbacks).
   */
  versionLoaded(
    source: {
      name: string;
      version: string;
      meta: { fallback?: Parameters<Observability["zeroFallbacks"]>[1] };
    },
    provider: string,
  ): void {
    this.metrics.provider.set({ model: source.name, version: source.version, provider }, 1);
    this.zeroRequests(source.name, source.version);
    this.zeroFallbacks(source.name, source.meta.fallback);
  }

  /** Feeds a version's drift monitor with the rows of its (single, named-feature) input. */
  observeDrift(loaded: Observed, feeds: Record<string, BatchInput>): void {
    if (!loaded.drift) return;
    const names = loaded.source.meta.features;
    const input = Object.values(feeds)[0];
    // PSI bins numbers: a string (BYTES) input has no numeric distribution to watch
    if (!names || !input || input.type === "string") return;
    const values = input.data as unknown as ArrayLike<number>;
    // half precision arrives as its bit patterns
    const value =
      input.type === "float16" ? (i: number) => fromHalfBits(values[i]) : (i: number) => Number(values[i]);
    const width = names.length;
    for (let r = 0; r * width < values.length; r++)
      for (let c = 0; c < width; c++) loaded.drift.observe(names[c], value(r * width + c));
  }

  /** The exposition text, with queue depth and PSI gauges brought up to date first. */
  async scrape(
    models: Iterable<[string, { versions: Map<string, Observed> }]>,
  ): Promise<{ contentType: string; body: string }> {
    for (const [name, state] of models) {
      for (const v of state.versions.values()) {
        this.metrics.queueDepth.set({ model: name, version: v.version }, v.batcher.depth);
        for (const [feature, score] of Object.entries(v.drift?.scores() ?? {}))
          this.metrics.psi.set({ model: name, feature }, score.psi);
      }
    }
    return { contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
  }
}
