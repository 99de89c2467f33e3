/**
 * Monitoring as code, thresholds from the spec: the Prometheus alert rules (shipped in the chart as a
 * PrometheusRule where the plan runs the Prometheus operator, and as platform/monitoring/alerts.rules.yaml
 * for promtool and Prometheus without the operator) and the Grafana dashboard. One function each, so
 * both copies of the rules come from one place.
 */
import type { Plan } from "../../plan/types.js";
import { dns1123 } from "../names.js";

function decision(plan: Plan, capability: string) {
  return plan.decisions.find((d) => d.capability === capability)!;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "page" | "ticket" };
  annotations: { summary: string };
}

export interface AlertRuleGroups {
  groups: Array<{ name: string; rules: AlertRule[] }>;
}

export function prometheusRules(plan: Plan): AlertRuleGroups {
  const spec = plan.requirements;
  const name = dns1123(spec.metadata.name);
  const drift = decision(plan, "monitoring.drift");
  const alert = Number(drift.params.alert ?? 0.25);
  const warn = Number(drift.params.warn ?? 0.1);
  const slo = spec.inference.latencyP99Ms / 1000;
  const errorBudget = Math.max(0.0001, (100 - spec.availability.targetPercent) / 100);
  const rules: AlertRule[] = [
    {
      alert: "StackwrightLatencyAboveSLO",
      expr: `histogram_quantile(0.99, sum by (le) (rate(stackwright_request_duration_seconds_bucket{model="${name}"}[5m]))) > ${slo}`,
      for: "10m",
      labels: { severity: "page" },
      annotations: {
        summary: `p99 latency of ${name} above the ${spec.inference.latencyP99Ms} ms SLO (inference.latencyP99Ms)`,
      },
    },
    {
      alert: "StackwrightErrorRatio",
      expr: `sum(rate(stackwright_requests_total{model="${name}",code=~"5.."}[5m])) / clamp_min(sum(rate(stackwright_requests_total{model="${name}"}[5m])), 1) > ${Math.round(errorBudget * 10 * 1e6) / 1e6}`,
      for: "5m",
      labels: { severity: "page" },
      annotations: {
        summary: `5xx ratio of ${name} burns the ${spec.availability.targetPercent}% availability budget 10x too fast`,
      },
    },
    {
      alert: "StackwrightBreakerOpen",
      expr: `max(stackwright_breaker_state{model="${name}"}) == 2`,
      for: "1m",
      labels: { severity: "page" },
      annotations: { summary: `circuit breaker of ${name} is open: answers come from the fallback chain` },
    },
    {
      alert: "StackwrightQueueSaturated",
      expr: `sum(stackwright_queue_depth{model="${name}"}) > ${Math.max(8, Number(decision(plan, "serving.batching").params.maxBatchSize ?? 16) * 4)}`,
      for: "5m",
      labels: { severity: "ticket" },
      annotations: {
        summary: `${name} is queueing more than four batches: add replicas or raise the autoscaling limit`,
      },
    },
  ];
  if (drift.choice !== "none") {
    rules.push(
      {
        alert: "StackwrightFeatureDriftWarn",
        expr: `max by (feature) (stackwright_feature_psi{model="${name}"}) > ${warn}`,
        for: "30m",
        labels: { severity: "ticket" },
        annotations: { summary: `PSI of {{ $labels.feature }} above ${warn} (warn band)` },
      },
      {
        alert: "StackwrightFeatureDriftAlert",
        expr: `max by (feature) (stackwright_feature_psi{model="${name}"}) > ${alert}`,
        for: "30m",
        labels: { severity: "page" },
        annotations: {
          summary: `PSI of {{ $labels.feature }} above ${alert} (alert band): ${decision(plan, "retraining.trigger").choice === "scheduled" ? "investigate before the next scheduled retraining" : "retraining is triggered"}`,
        },
      },
    );
  }
  return { groups: [{ name: `stackwright-${name}`, rules }] };
}

export function grafanaDashboard(plan: Plan): Record<string, unknown> {
  const name = dns1123(plan.requirements.metadata.name);
  const panel = (id: number, title: string, expr: string, unit: string, y: number, x: number) => ({
    id,
    title,
    type: "timeseries",
    gridPos: { h: 8, w: 12, x, y },
    datasource: { type: "prometheus", uid: "${datasource}" },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: [{ expr, refId: "A" }],
  });
  return {
    title: `stackwright: ${plan.requirements.metadata.name}`,
    uid: `sw-${name}`.slice(0, 40),
    schemaVersion: 39,
    version: 1,
    editable: false,
    time: { from: "now-6h", to: "now" },
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus" }] },
    panels: [
      panel(
        1,
        "Requests per second by status",
        `sum by (code) (rate(stackwright_requests_total{model="${name}"}[1m]))`,
        "reqps",
        0,
        0,
      ),
      panel(
        2,
        "p99 latency",
        `histogram_quantile(0.99, sum by (le) (rate(stackwright_request_duration_seconds_bucket{model="${name}"}[5m])))`,
        "s",
        0,
        12,
      ),
      panel(
        3,
        "Batch size (avg rows)",
        `rate(stackwright_batch_size_sum{model="${name}"}[5m]) / rate(stackwright_batch_size_count{model="${name}"}[5m])`,
        "short",
        8,
        0,
      ),
      panel(4, "Queue depth", `sum(stackwright_queue_depth{model="${name}"})`, "short", 8, 12),
      // panels over series the plan makes exist: PSI only with drift monitoring (the reference
      // histograms ship with the model), fallbacks only with a fallback chain
      ...(decision(plan, "monitoring.drift").choice === "psi-online"
        ? [panel(5, "Feature drift (PSI)", `stackwright_feature_psi{model="${name}"}`, "short", 16, 0)]
        : []),
      ...(["fallback-chain", "default-response"].includes(decision(plan, "reliability.fallback").choice)
        ? [
            panel(
              6,
              "Fallbacks by step of the chain",
              `sum by (via) (rate(stackwright_fallbacks_total{model="${name}"}[5m]))`,
              "reqps",
              16,
              12,
            ),
          ]
        : []),
    ],
  };
}
