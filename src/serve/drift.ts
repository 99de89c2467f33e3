/**
 * Population Stability Index per input feature over a sliding window, against the reference
 * histogram stored with each model version: PSI = sum((a - e) * ln(a / e)), with an epsilon for empty
 * bins. Bands default to 0.1 (warn) and 0.25 (alert).
 */
export const PSI_EPSILON = 1e-4;

export interface Reference {
  /** inner bin edges: n edges make n + 1 bins */
  edges: number[];
  fractions: number[];
}

export function binOf(value: number, edges: number[]): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value < edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function psi(expected: number[], actual: number[]): number {
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i], PSI_EPSILON);
    const a = Math.max(actual[i] ?? 0, PSI_EPSILON);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/** Reference histogram from training values: edges at the quantiles, fractions per bin. */
export function referenceFrom(values: number[], bins = 10): Reference {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const q = sorted[Math.min(sorted.length - 1, Math.floor((i / bins) * sorted.length))];
    // an edge at the smallest value would only open a bin nothing falls into (0/1 data: edges [1])
    if (q > sorted[0] && (edges.length === 0 || q > edges[edges.length - 1])) edges.push(q);
  }
  const counts = new Array(edges.length + 1).fill(0);
  for (const v of values) counts[binOf(v, edges)]++;
  return { edges, fractions: counts.map((c) => c / values.length) };
}

export class DriftMonitor {
  private readonly windows = new Map<string, number[]>();

  constructor(
    private readonly reference: Record<string, Reference>,
    private readonly window = 1000,
  ) {}

  observe(feature: string, value: number): void {
    if (!(feature in this.reference) || !Number.isFinite(value)) return;
    let list = this.windows.get(feature);
    if (!list) {
      list = [];
      this.windows.set(feature, list);
    }
    list.push(value);
    if (list.length > this.window) list.splice(0, list.length - this.window);
  }

  scores(): Record<string, { psi: number; samples: number }> {
    const out: Record<string, { psi: number; samples: number }> = {};
    for (const [feature, ref] of Object.entries(this.reference)) {
      const values = this.windows.get(feature) ?? [];
      const counts = new Array(ref.fractions.length).fill(0);
      for (const v of values) counts[binOf(v, ref.edges)]++;
      const actual = counts.map((c) => (values.length ? c / values.length : 0));
      out[feature] = { psi: values.length ? psi(ref.fractions, actual) : 0, samples: values.length };
    }
    return out;
  }
}
