/**
 * Monitoring as code, thresholds from the spec: the Prometheus alert rules (shipped in the chart as a
 * PrometheusRule where the plan runs the Prometheus operator, and as platform/monitoring/alerts.rules.yaml
 * for promtool and Prometheus without the operator), the Grafana dashboard, and the queries the chart
 * hands to Argo Rollouts and KEDA (templates/_queries.tpl). Each plan is watched through what its
 * workload exports: serve's request metrics for realtime plans, consume's stream metrics for streaming
 * plans, score's run-level metrics (pushed per run) for batch plans. Every selector is built from the
 * metrics contract (promql.ts over src/serve/metrics.ts).
 */

import { dns1123 } from "../../infra/names.js";
import type { Plan } from "../../plan/types.js";
import { CONSUME_METRICS, SCORE_METRICS, SERVE_METRICS } from "../../serve/metrics.js";
import { scoreSchedule } from "../commands.js";
import { type LlmEngine, llmEngineOf } from "../engines.js";
import { series } from "./promql.js";

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

/**
 * Share of a run's rows rejected before the run is worth a ticket. A default, not measured: the
 * rejects folder says why; tune it per dataset in the generated rules.
 */
export const SCORE_REJECT_RATIO = 0.01;
/** Events waiting for the consumer group before KEDA adds a consumer (and before the lag alert). */
export function streamLagThreshold(plan: Plan): number {
  return Number(decision(plan, "scaling.strategy").params.lagThreshold ?? 1000);
}

export function servingMode(plan: Plan): "realtime" | "batch" | "streaming" {
  return decision(plan, "serving.mode").choice as "realtime" | "batch" | "streaming";
}

/** A failure share that burns the availability budget ten times too fast (the page threshold). */
export function fastBurn(plan: Plan): number {
  const errorBudget = Math.max(0.0001, (100 - plan.requirements.availability.targetPercent) / 100);
  return Math.round(errorBudget * 10 * 1e6) / 1e6;
}

function driftRules(plan: Plan, psi: string, what: string): AlertRule[] {
  const drift = decision(plan, "monitoring.drift");
  if (drift.choice === "none") return [];
  const alert = Number(drift.params.alert ?? 0.25);
  const warn = Number(drift.params.warn ?? 0.1);
  const retrain =
    decision(plan, "retraining.trigger").choice === "scheduled"
      ? "investigate before the next scheduled retraining"
      : "retraining is triggered";
  return [
    {
      alert: "StackwrightFeatureDriftWarn",
      expr: `max by (feature) (${psi}) > ${warn}`,
      for: "30m",
      labels: { severity: "ticket" },
      annotations: { summary: `PSI of {{ $labels.feature }} ${what} above ${warn} (warn band)` },
    },
    {
      alert: "StackwrightFeatureDriftAlert",
      expr: `max by (feature) (${psi}) > ${alert}`,
      for: "30m",
      labels: { severity: "page" },
      annotations: {
        summary: `PSI of {{ $labels.feature }} ${what} above ${alert} (alert band): ${retrain}`,
      },
    },
  ];
}

function realtimeRules(plan: Plan, name: string): AlertRule[] {
  const spec = plan.requirements;
  const m = SERVE_METRICS;
  const slo = spec.inference.latencyP99Ms / 1000;
  const largest = SERVE_METRICS.latency.buckets.at(-1)!;
  if (slo >= largest)
    throw new Error(
      `inference.latencyP99Ms ${spec.inference.latencyP99Ms} is at or above the latency histogram's largest bucket (${largest} s): the SLO alert could never fire`,
    );
  const maxBatch = Number(decision(plan, "serving.batching").params.maxBatchSize ?? 16);
  return [
    {
      alert: "StackwrightLatencyAboveSLO",
      expr: `histogram_quantile(0.99, sum by (le) (rate(${series(m.latency, { model: name }, "bucket")}[5m]))) > ${slo}`,
      for: "10m",
      labels: { severity: "page" },
      annotations: {
        summary: `p99 latency of ${name} above the ${spec.inference.latencyP99Ms} ms SLO (inference.latencyP99Ms)`,
      },
    },
    {
      // no traffic is 0/0: no value, no alert
      alert: "StackwrightErrorRatio",
      expr: `sum(rate(${series(m.requests, { model: name, code: { re: "5.." } })}[5m])) / sum(rate(${series(m.requests, { model: name })}[5m])) > ${fastBurn(plan)}`,
      for: "5m",
      labels: { severity: "page" },
      annotations: {
        summary: `5xx ratio of ${name} burns the ${spec.availability.targetPercent}% availability budget 10x too fast`,
      },
    },
    {
      alert: "StackwrightBreakerOpen",
      expr: `max(${series(m.breaker, { model: name })}) == 2`,
      for: "1m",
      labels: { severity: "page" },
      annotations: { summary: `circuit breaker of ${name} is open: answers come from the fallback chain` },
    },
    {
      alert: "StackwrightQueueSaturated",
      expr: `sum(${series(m.queueDepth, { model: name })}) > ${Math.max(8, maxBatch * 4)}`,
      for: "5m",
      labels: { severity: "ticket" },
      annotations: {
        summary: `${name} is queueing more than four batches: add replicas or raise the autoscaling limit`,
      },
    },
    ...driftRules(plan, series(m.psi, { model: name }), "over the live requests"),
  ];
}

/**
 * An LLM engine's plan is watched through the engine's own metrics (src/generate/engines.ts): the
 * end-to-end latency against the SLO, server errors against the availability budget, requests
 * waiting beyond one full batch, and a KV cache about to preempt sequences.
 */
function engineRules(plan: Plan, name: string, engine: LlmEngine): AlertRule[] {
  const spec = plan.requirements;
  const m = engine.metrics;
  const model = m.modelLabel ? { [m.modelLabel]: name } : {};
  const slo = spec.inference.latencyP99Ms / 1000;
  const sequences = plan.capacity.llm?.sessionsPerReplica ?? 1;
  return [
    {
      alert: "StackwrightLatencyAboveSLO",
      expr: `histogram_quantile(0.99, sum by (le) (rate(${series(m.requestLatency, model, "bucket")}[5m]))) > ${slo}`,
      for: "10m",
      labels: { severity: "page" },
      annotations: {
        summary: `p99 of ${name}'s whole answers (${engine.title}) above the ${spec.inference.latencyP99Ms} ms SLO (inference.latencyP99Ms)`,
      },
    },
    {
      alert: "StackwrightErrorRatio",
      expr: `sum(rate(${series(m.failures.metric, m.failures.match)}[5m])) / sum(rate(${series(m.requests.metric, m.requests.match)}[5m])) > ${fastBurn(plan)}`,
      for: "5m",
      labels: { severity: "page" },
      annotations: {
        summary: `${engine.title}'s server errors for ${name} burn the ${spec.availability.targetPercent}% availability budget 10x too fast`,
      },
    },
    {
      alert: "StackwrightQueueSaturated",
      expr: `sum(${series(m.waiting, model)}) > ${sequences}`,
      for: "5m",
      labels: { severity: "ticket" },
      annotations: {
        summary: `more of ${name}'s requests wait than one replica runs at once (${sequences}): add replicas or raise the autoscaling limit`,
      },
    },
    ...(m.kvCacheUsage
      ? [
          {
            alert: "StackwrightKvCacheFull",
            expr: `max(${series(m.kvCacheUsage, model)}) > 0.95`,
            for: "10m",
            labels: { severity: "ticket" as const },
            annotations: {
              summary: `${name}'s KV cache is over 95% full: ${engine.title} preempts sequences and answers slow down; add replicas or shorten inference.llm.contextTokens`,
            },
          },
        ]
      : []),
  ];
}

function streamingRules(plan: Plan, name: string): AlertRule[] {
  const m = CONSUME_METRICS;
  const lag = streamLagThreshold(plan);
  return [
    {
      alert: "StackwrightStreamLagHigh",
      expr: `max(${series(m.lag, { model: name })}) > ${lag * 4}`,
      for: "10m",
      labels: { severity: "page" },
      annotations: {
        summary: `${name}'s consumer group is ${lag * 4}+ events behind (four times the autoscaling target of ${lag}): consumers are at their limit or failing`,
      },
    },
    {
      // a consumer that is down, stuck past its scrapes or never deployed exports nothing: its series
      // go stale and absent() holds
      alert: "StackwrightConsumerAbsent",
      expr: `absent(${series(m.consumed, { model: name })})`,
      for: "5m",
      labels: { severity: "page" },
      annotations: { summary: `no consumer of ${name} is exporting metrics: events are not being scored` },
    },
    {
      alert: "StackwrightDeadLetterRatio",
      expr: `sum(rate(${series(m.dead, { model: name })}[5m])) / sum(rate(${series(m.consumed, { model: name })}[5m])) > ${fastBurn(plan)}`,
      for: "5m",
      labels: { severity: "ticket" },
      annotations: {
        summary: `${name} dead-letters events 10x faster than the ${plan.requirements.availability.targetPercent}% availability budget allows: see the dead-letter stream's reasons`,
      },
    },
    ...driftRules(plan, series(m.psi, { model: name }), "over the live events"),
  ];
}

function batchRules(plan: Plan, name: string): AlertRule[] {
  const m = SCORE_METRICS;
  const schedule = scoreSchedule(plan);
  const deadlineHours = Number(
    decision(plan, "serving.mode").params.deadlineHours ??
      plan.requirements.inference.batch.deadlineHours ??
      4,
  );
  const late = cronPeriodSeconds(schedule) + deadlineHours * 3600;
  return [
    {
      alert: "StackwrightScoreRunMissing",
      expr: `time() - max(${series(m.lastSuccess, { model: name })}) > ${late}`,
      for: "10m",
      labels: { severity: "page" },
      annotations: {
        summary: `no run of ${name} finished within one period of "${schedule}" plus the ${deadlineHours} h deadline`,
      },
    },
    {
      alert: "StackwrightScoreRejectRatio",
      expr: `sum(${series(m.rows, { model: name, outcome: "rejected" })}) / sum(${series(m.rows, { model: name })}) > ${SCORE_REJECT_RATIO}`,
      for: "0m",
      labels: { severity: "ticket" },
      annotations: {
        summary: `the last run of ${name} rejected more than ${SCORE_REJECT_RATIO * 100}% of its rows: see <output>/rejects/`,
      },
    },
    ...driftRules(plan, series(m.psi, { model: name }), "in the last run's input"),
  ];
}

export function prometheusRules(plan: Plan): AlertRuleGroups {
  const name = dns1123(plan.requirements.metadata.name);
  const mode = servingMode(plan);
  const engine = llmEngineOf(plan);
  const rules = engine
    ? engineRules(plan, name, engine)
    : mode === "batch"
      ? batchRules(plan, name)
      : mode === "streaming"
        ? streamingRules(plan, name)
        : realtimeRules(plan, name);
  return { groups: [{ name: `stackwright-${name}`, rules }] };
}

export function grafanaDashboard(plan: Plan): Record<string, unknown> {
  const name = dns1123(plan.requirements.metadata.name);
  const panel = (title: string, expr: string, unit: string) => ({ title, expr, unit });
  const drift = decision(plan, "monitoring.drift").choice;
  const mode = servingMode(plan);
  let panels: Array<ReturnType<typeof panel>>;
  const engine = llmEngineOf(plan);
  if (engine) {
    const m = engine.metrics;
    const model = m.modelLabel ? { [m.modelLabel]: name } : {};
    panels = [
      panel("Requests per second", `sum(rate(${series(m.requests.metric, m.requests.match)}[1m]))`, "reqps"),
      panel(
        "Server failures per second",
        `sum(rate(${series(m.failures.metric, m.failures.match)}[1m]))`,
        "reqps",
      ),
      ...(m.timeToFirstToken
        ? [
            panel(
              "p99 time to first token",
              `histogram_quantile(0.99, sum by (le) (rate(${series(m.timeToFirstToken, model, "bucket")}[5m])))`,
              "s",
            ),
          ]
        : []),
      panel(
        "p99 time between tokens",
        `histogram_quantile(0.99, sum by (le) (rate(${series(m.interToken, model, "bucket")}[5m])))`,
        "s",
      ),
      panel(
        "p99 whole answer",
        `histogram_quantile(0.99, sum by (le) (rate(${series(m.requestLatency, model, "bucket")}[5m])))`,
        "s",
      ),
      panel("Requests running", `sum(${series(m.running, model)})`, "short"),
      panel("Requests waiting", `sum(${series(m.waiting, model)})`, "short"),
      ...(m.kvCacheUsage
        ? [panel("KV-cache usage", `max by (pod) (${series(m.kvCacheUsage, model)})`, "percentunit")]
        : []),
    ];
  } else if (mode === "batch") {
    const m = SCORE_METRICS;
    panels = [
      panel(
        "Rows of the last run by outcome",
        `sum by (outcome) (${series(m.rows, { model: name })})`,
        "short",
      ),
      panel("Duration of the last run", `max(${series(m.duration, { model: name })})`, "s"),
      panel("Since the last finished run", `time() - max(${series(m.lastSuccess, { model: name })})`, "s"),
      ...(drift !== "none"
        ? [panel("Input drift of the last run (PSI)", series(m.psi, { model: name }), "short")]
        : []),
    ];
  } else if (mode === "streaming") {
    const m = CONSUME_METRICS;
    panels = [
      panel("Events consumed per second", `sum(rate(${series(m.consumed, { model: name })}[1m]))`, "ops"),
      panel("Consumer group lag", `max(${series(m.lag, { model: name })})`, "short"),
      panel("Dead letters per second", `sum(rate(${series(m.dead, { model: name })}[5m]))`, "ops"),
      panel(
        "Micro-batch size (avg events)",
        `sum(rate(${series(m.batch, { model: name }, "sum")}[5m])) / sum(rate(${series(m.batch, { model: name }, "count")}[5m]))`,
        "short",
      ),
      ...(drift === "psi-online"
        ? [panel("Feature drift (PSI)", series(m.psi, { model: name }), "short")]
        : []),
    ];
  } else {
    const m = SERVE_METRICS;
    panels = [
      panel(
        "Requests per second by status",
        `sum by (code) (rate(${series(m.requests, { model: name })}[1m]))`,
        "reqps",
      ),
      panel(
        "p99 latency",
        `histogram_quantile(0.99, sum by (le) (rate(${series(m.latency, { model: name }, "bucket")}[5m])))`,
        "s",
      ),
      panel(
        "Batch size (avg rows)",
        `sum(rate(${series(m.batchSize, { model: name }, "sum")}[5m])) / sum(rate(${series(m.batchSize, { model: name }, "count")}[5m]))`,
        "short",
      ),
      panel("Queue depth", `sum(${series(m.queueDepth, { model: name })})`, "short"),
      // panels over series the plan makes exist: PSI only with drift monitoring (the reference
      // histograms ship with the model), fallbacks only with a fallback chain
      ...(drift === "psi-online"
        ? [panel("Feature drift (PSI)", series(m.psi, { model: name }), "short")]
        : []),
      ...(["fallback-chain", "default-response"].includes(decision(plan, "reliability.fallback").choice)
        ? [
            panel(
              "Fallbacks by step of the chain",
              `sum by (via) (rate(${series(m.fallbacks, { model: name })}[5m]))`,
              "reqps",
            ),
          ]
        : []),
    ];
  }
  return {
    title: `stackwright: ${plan.requirements.metadata.name}`,
    uid: `sw-${name}`.slice(0, 40),
    schemaVersion: 39,
    version: 1,
    editable: false,
    time: { from: "now-6h", to: "now" },
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus" }] },
    panels: panels.map((p, i) => ({
      id: i + 1,
      title: p.title,
      type: "timeseries",
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      datasource: { type: "prometheus", uid: "${datasource}" },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: [{ expr: p.expr, refId: "A" }],
    })),
  };
}

/**
 * The chart's queries for Argo Rollouts' canary gates and KEDA's Prometheus triggers, as named
 * templates (templates/_queries.tpl). Label values that depend on the release are template actions:
 * the namespace, the model, the workload's name and Argo's {{args.canary-hash}} (passed through Helm
 * as a literal for Argo Rollouts to fill).
 */
export function chartQueriesTemplate(plan: Plan): string {
  const namespace = { template: "{{ .Release.Namespace }}" };
  const model = { template: "{{ .Values.modelName }}" };
  const canary = { template: '{{ "{{args.canary-hash}}" }}' };
  const service = { template: '{{ include "stackwright.fullname" . }}' };
  const s = SERVE_METRICS;
  const define = (name: string, query: string) =>
    `{{- define "stackwright.query.${name}" -}}\n${query}\n{{- end -}}`;
  const engine = llmEngineOf(plan);
  if (engine) {
    // the engine's series, told apart by the Prometheus operator's target labels (and the model's
    // label where the engine puts one on its own series)
    const m = engine.metrics;
    const own = m.modelLabel ? { [m.modelLabel]: model } : {};
    const gate = { namespace, rollouts_pod_template_hash: canary };
    return [
      `{{/* The queries the chart hands to Argo Rollouts (canary gates) and KEDA (Prometheus triggers), built by stackwright from the metrics ${engine.title} exports. */}}`,
      define(
        "canaryErrorRatio",
        `sum(rate(${series(m.failures.metric, { ...gate, ...m.failures.match })}[2m])) / clamp_min(sum(rate(${series(m.requests.metric, { ...gate, ...m.requests.match })}[2m])), 1)`,
      ),
      define(
        "canaryP99Ms",
        `1000 * histogram_quantile(0.99, sum(rate(${series(m.requestLatency, { ...gate, ...own }, "bucket")}[2m])) by (le))`,
      ),
      define("queueDepth", `sum(${series(m.waiting, { namespace, ...own })})`),
      ...(m.kvCacheUsage
        ? [define("kvCacheUsage", `sum(${series(m.kvCacheUsage, { namespace, ...own })})`)]
        : []),
      "",
    ].join("\n");
  }
  const gate = { namespace, model, rollouts_pod_template_hash: canary };
  return [
    "{{/* The queries the chart hands to Argo Rollouts (canary gates) and KEDA (Prometheus triggers), built by stackwright from the metrics its serving core and consumer export. */}}",
    define(
      "canaryErrorRatio",
      `sum(rate(${series(s.requests, { ...gate, code: { re: "5.." } })}[2m])) / clamp_min(sum(rate(${series(s.requests, gate)}[2m])), 1)`,
    ),
    define(
      "canaryP99Ms",
      `1000 * histogram_quantile(0.99, sum(rate(${series(s.latency, gate, "bucket")}[2m])) by (le))`,
    ),
    define("queueDepth", `sum(${series(s.queueDepth, { namespace, model })})`),
    define("streamLag", `max(${series(CONSUME_METRICS.lag, { namespace, service })})`),
    "",
  ].join("\n");
}

/**
 * The longest wait between two runs of a cron schedule (minute hour day-of-month month day-of-week,
 * or @hourly/@daily/@weekly/@monthly/@yearly), found by walking a year of its fire times from
 * 2026-01-01 UTC. Cron's rule for day-of-month with day-of-week: either matches when both are set.
 */
export function cronPeriodSeconds(cron: string): number {
  const alias: Record<string, string> = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
  };
  const fields = (alias[cron.trim()] ?? cron).trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`cron "${cron}": expected 5 fields`);
  const parse = (field: string, min: number, max: number): Set<number> => {
    const out = new Set<number>();
    for (const part of field.split(",")) {
      const [range, stepText] = part.split("/");
      const step = stepText ? Number(stepText) : 1;
      // "*", "a-b", or "a" (with a step, "a/n" runs from a to the field's end)
      const [lo, hi] =
        range === "*"
          ? [min, max]
          : range.includes("-")
            ? range.split("-").map(Number)
            : [Number(range), stepText ? max : Number(range)];
      if (![lo, hi, step].every(Number.isInteger) || step < 1)
        throw new Error(`cron "${cron}": cannot read ${part}`);
      // day-of-week 7 is Sunday, as 0
      for (let v = lo; v <= hi; v += step) out.add(v === 7 && max === 7 ? 0 : v);
    }
    return out;
  };
  const [minutes, hours, doms, months, dows] = [
    parse(fields[0], 0, 59),
    parse(fields[1], 0, 23),
    parse(fields[2], 1, 31),
    parse(fields[3], 1, 12),
    parse(fields[4], 0, 7),
  ];
  const hourList = [...hours].sort((a, b) => a - b);
  const minuteList = [...minutes].sort((a, b) => a - b);
  const domAny = fields[2] === "*";
  const dowAny = fields[4] === "*";
  const start = Date.UTC(2026, 0, 1);
  let last: number | undefined;
  let longest = 0;
  for (let day = 0; day < 366 * 2; day++) {
    const date = new Date(start + day * 86_400_000);
    if (!months.has(date.getUTCMonth() + 1)) continue;
    const dom = doms.has(date.getUTCDate());
    const dow = dows.has(date.getUTCDay());
    if (!(domAny && dowAny) && !(domAny ? dow : dowAny ? dom : dom || dow)) continue;
    for (const h of hourList)
      for (const m of minuteList) {
        const at = start + day * 86_400_000 + h * 3_600_000 + m * 60_000;
        if (last !== undefined) longest = Math.max(longest, (at - last) / 1000);
        last = at;
      }
  }
  if (longest === 0) throw new Error(`cron "${cron}" does not fire twice in two years`);
  return longest;
}
