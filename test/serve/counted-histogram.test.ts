import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CountedHistogram, SERVE_METRICS } from "../../src/serve/metrics.js";

describe("CountedHistogram", () => {
  it("exposes the same text as prom-client's histogram for the same observations", async () => {
    const spec = SERVE_METRICS.latency;
    const ours = new Registry();
    const theirs = new Registry();
    const counted = new CountedHistogram(spec, ours);
    const reference = new Histogram({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labels],
      buckets: [...spec.buckets],
      registers: [theirs],
    });
    // values on bucket bounds, between them, below the first and above the last
    const values = [0, 0.001, 0.0015, 0.002, 0.05, 0.7, 1, 59.9, 60, 61, 1e6];
    for (const [i, model] of ["fraud", "churn"].entries()) {
      for (const v of values.slice(i)) {
        counted.observe(model, v);
        reference.observe({ model }, v);
      }
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // the JSON form too, less prom-client's exemplar slots (exemplars are off)
    const json = async (registry: Registry) =>
      (await registry.getMetricsAsJSON()).map((m) => ({
        ...m,
        values: m.values.map((v) => ({
          labels: v.labels,
          value: v.value,
          metricName: (v as { metricName?: string }).metricName,
        })),
      }));
    expect(await json(ours)).toEqual(await json(theirs));
    counted.reset();
    reference.reset();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
