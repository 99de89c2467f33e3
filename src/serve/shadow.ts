/**
 * Shadow traffic off the request path: once the primary has answered, the same request is mirrored
 * to the shadow version through its own bounded queue (a full queue drops the mirror and counts it),
 * and the two answers are compared: label agreement, the absolute difference of scores, the
 * shadow's latency. Nothing here can delay or change a primary answer.
 */
import type { RowSlice } from "./batcher.js";
import type { Metrics } from "./metrics.js";
import { predictionsOf } from "./predictions.js";
import { toJsonArray } from "./tensors.js";

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
    {
      compared: number;
      failed: number;
      dropped: number;
      rows: number;
      agreed: number;
      diff: number;
      /** rows with a score on both sides (a text answer has none) */
      scored: number;
    }
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
      e = { compared: 0, failed: 0, dropped: 0, rows: 0, agreed: 0, diff: 0, scored: 0 };
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
          const a = comparable(primary);
          const b = comparable(shadow);
          const rows = Math.min(a.length, b.length);
          for (let r = 0; r < rows; r++) {
            if (a[r].label === b[r].label) e.agreed++;
            // text answers agree or not; only scores have a difference
            if (a[r].score === null || b[r].score === null) continue;
            const diff = Math.abs(a[r].score! - b[r].score!);
            e.diff += diff;
            e.scored++;
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
      meanAbsDiff: e.scored ? e.diff / e.scored : null,
    };
  }
}

/**
 * What two answers are compared on, per row: the predicted label and its score, or for a text
 * (BYTES) output the row's strings as the label and no score.
 */
function comparable(
  outputs: Record<string, RowSlice>,
): Array<{ label: string | number; score: number | null }> {
  const out = Object.values(outputs)[0];
  if (out.type !== "string")
    return predictionsOf(outputs).map((p) => ({ label: p.prediction, score: p.probability }));
  const rows = out.dims[0] ?? 1;
  const perRow = out.dims.slice(1).reduce((a, b) => a * b, 1);
  const values = toJsonArray(out.type, out.buffer, out.offset, rows * perRow);
  return Array.from({ length: rows }, (_, r) => ({
    label: JSON.stringify(values.slice(r * perRow, (r + 1) * perRow)),
    score: null,
  }));
}
