/**
 * Shadow traffic off the request path: once the primary has answered, the same request is mirrored
 * to the shadow version through its own bounded queue (a full queue drops the mirror and counts it),
 * and the two answers are compared: label agreement, the absolute difference of scores, the
 * shadow's latency. Nothing here can delay or change a primary answer.
 */
import type { RowSlice } from "./batcher.js";
import type { Metrics } from "./metrics.js";
import { predictionsOf } from "./predictions.js";

export interface ShadowStats {
  version: string;
  compared: number;
  failed: number;
  dropped: number;
  /** compared rows whose label matched the primary's, over all compared rows */
  agreement: number | null;
  meanAbsDiff: number | null;
}

export class ShadowMirror {
  private inFlight = 0;
  private readonly stats = new Map<
    string,
    { compared: number; failed: number; dropped: number; rows: number; agreed: number; diff: number }
  >();

  constructor(
    private readonly metrics: Metrics,
    private readonly maxInFlight = 64,
    private readonly log: (line: string) => void = () => {},
  ) {}

  private entry(model: string, version: string) {
    const key = `${model}\u0000${version}`;
    let e = this.stats.get(key);
    if (!e) {
      e = { compared: 0, failed: 0, dropped: 0, rows: 0, agreed: 0, diff: 0 };
      this.stats.set(key, e);
    }
    return e;
  }

  /** Mirrors one answered request; `run` asks the shadow (preparing its own inputs) and may throw. */
  mirror(
    model: string,
    version: string,
    primary: Record<string, RowSlice>,
    run: () => Promise<Record<string, RowSlice>>,
  ): void {
    const e = this.entry(model, version);
    if (this.inFlight >= this.maxInFlight) {
      e.dropped++;
      this.metrics.shadowRequests.inc({ model, version, outcome: "dropped" });
      return;
    }
    this.inFlight++;
    const started = performance.now();
    // a microtask later: the primary's response is already on its way
    void Promise.resolve()
      .then(run)
      .then(
        (shadow) => {
          this.metrics.shadowLatency.observe({ model, version }, (performance.now() - started) / 1000);
          const a = predictionsOf(primary);
          const b = predictionsOf(shadow);
          const rows = Math.min(a.length, b.length);
          for (let r = 0; r < rows; r++) {
            if (a[r].prediction === b[r].prediction) e.agreed++;
            const diff = Math.abs(a[r].probability - b[r].probability);
            e.diff += diff;
            this.metrics.shadowDiff.observe({ model, version }, diff);
          }
          e.rows += rows;
          e.compared++;
          this.metrics.shadowRequests.inc({ model, version, outcome: "compared" });
          if (e.rows > 0) this.metrics.shadowAgreement.set({ model, version }, e.agreed / e.rows);
        },
        (error: Error) => {
          e.failed++;
          this.metrics.shadowRequests.inc({ model, version, outcome: "failed" });
          if (e.failed === 1 || e.failed % 1000 === 0)
            this.log(
              `${model} v${version} (shadow): ${error.message} (${e.failed} failed so far; primary answers are unaffected)`,
            );
        },
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  statsOf(model: string, version: string): ShadowStats {
    const e = this.entry(model, version);
    return {
      version,
      compared: e.compared,
      failed: e.failed,
      dropped: e.dropped,
      agreement: e.rows ? e.agreed / e.rows : null,
      meanAbsDiff: e.rows ? e.diff / e.rows : null,
    };
  }
}
