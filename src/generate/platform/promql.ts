/**
 * PromQL selectors built from the metrics contract (src/serve/metrics.ts): a selector names a
 * declared metric and only labels it carries, or the target labels the Prometheus operator puts on a
 * ServiceMonitor's series. Every generated query (alerts, dashboards, canary gates, KEDA triggers)
 * is written with these, so a renamed metric or label breaks generation instead of an alert.
 */
import type { LabelOf, MetricSpec } from "../../serve/metrics.js";

/**
 * Labels Prometheus adds to every series a ServiceMonitor scrapes, plus the pod label the chart's
 * ServiceMonitor copies for canary analysis (podTargetLabels: rollouts-pod-template-hash).
 */
export const TARGET_LABELS = [
  "namespace",
  "service",
  "pod",
  "job",
  "instance",
  "endpoint",
  "container",
  "rollouts_pod_template_hash",
] as const;
export type TargetLabel = (typeof TARGET_LABELS)[number];

/** A label's value: exact, a regular expression, or a template expression inserted as written. */
export type Matcher = string | { re: string } | { template: string };

const quoted = (text: string) => text.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

export function series<S extends MetricSpec>(
  metric: S,
  match: Partial<Record<LabelOf<S> | TargetLabel, Matcher>> = {},
  part?: "bucket" | "sum" | "count",
): string {
  if (part && metric.type !== "histogram")
    throw new Error(`${metric.name} is a ${metric.type}: it has no _${part} series`);
  const matchers = Object.entries(match as Record<string, Matcher>).map(([label, value]) => {
    if (!metric.labels.includes(label) && !(TARGET_LABELS as readonly string[]).includes(label))
      throw new Error(
        `${metric.name} has no label ${label} (its labels: ${metric.labels.join(", ") || "none"}; target labels: ${TARGET_LABELS.join(", ")})`,
      );
    if (typeof value === "string") return `${label}="${quoted(value)}"`;
    if ("re" in value) return `${label}=~"${quoted(value.re)}"`;
    return `${label}="${value.template}"`;
  });
  const name = part ? `${metric.name}_${part}` : metric.name;
  return matchers.length ? `${name}{${matchers.join(",")}}` : name;
}
