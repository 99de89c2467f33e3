/**
 * The metrics contract's query side: selectors are built only from declared metrics and labels, and
 * the batch alerts' lateness comes from the schedule's real period.
 */
import { describe, expect, it } from "vitest";
import { cronPeriodSeconds } from "../../src/generate/platform/monitoring.js";
import { series } from "../../src/generate/platform/promql.js";
import { CONSUME_METRICS, declaredMetrics, SCORE_METRICS, SERVE_METRICS } from "../../src/serve/metrics.js";

describe("PromQL selectors from the metrics contract", () => {
  it("writes exact, regex and template matchers, quoting what needs it", () => {
    expect(series(SERVE_METRICS.requests, { model: 'a"b', code: { re: "5.." } })).toBe(
      'stackwright_requests_total{model="a\\"b",code=~"5.."}',
    );
    expect(
      series(SERVE_METRICS.latency, { namespace: { template: "{{ .Release.Namespace }}" } }, "bucket"),
    ).toBe('stackwright_request_duration_seconds_bucket{namespace="{{ .Release.Namespace }}"}');
    expect(series(CONSUME_METRICS.lag)).toBe("stackwright_stream_lag");
  });

  it("refuses a label the metric does not carry and a histogram series of a counter", () => {
    // a cast stands for a query written against a label that is not (or no longer) declared
    expect(() => series(SERVE_METRICS.latency, { code: "500" } as never)).toThrow(
      /stackwright_request_duration_seconds has no label code \(its labels: model; target labels: namespace/,
    );
    expect(() => series(SERVE_METRICS.requests, {}, "bucket")).toThrow(
      /is a counter: it has no _bucket series/,
    );
  });

  it("declares each metric name once, with the exporters sharing only the PSI gauge", () => {
    const names = [SERVE_METRICS, CONSUME_METRICS, SCORE_METRICS].flatMap((set) =>
      Object.values(set).map((m) => m.name),
    );
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual(["stackwright_feature_psi"]);
    expect(SERVE_METRICS.psi).toBe(CONSUME_METRICS.psi);
    expect(declaredMetrics().size).toBe(new Set(names).size);
  });
});

describe("cron periods", () => {
  it.each([
    ["0 3 * * 1", 7 * 86_400],
    ["@daily", 86_400],
    ["*/15 * * * *", 900],
    ["0 2 * * 1-5", 3 * 86_400],
    ["0 0 1 * *", 31 * 86_400],
    ["30 6 1,15 * *", 17 * 86_400],
    ["0 0 * * 7", 7 * 86_400],
  ])("%s: the longest gap between runs is %i s", (cron, seconds) => {
    expect(cronPeriodSeconds(cron)).toBe(seconds);
  });

  it("refuses what it cannot read", () => {
    expect(() => cronPeriodSeconds("0 3 * *")).toThrow(/expected 5 fields/);
    expect(() => cronPeriodSeconds("x 3 * * *")).toThrow(/cannot read x/);
  });
});
