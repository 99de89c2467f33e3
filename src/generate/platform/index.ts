/**
 * The runnable reference platform (platform/): serve.yaml for `stackwright serve --config`, a small
 * sample ONNX model built deterministically from the spec (a logistic model over the declared
 * features) with reference histograms for drift, a Dockerfile for the image the Helm chart runs, and
 * monitoring as code (Prometheus alert rules and a Grafana dashboard) with thresholds from the spec.
 */
import { stringify } from "yaml";
import type { FileSet } from "../../fileset/index.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import type { Plan } from "../../plan/types.js";
// pure modules of the serving core (no onnxruntime): the same builder and histograms the server reads
import { referenceFrom } from "../../serve/drift.js";
import { buildMlp, seededRandom } from "../../serve/onnx-build.js";
import { PACKAGE_NAME, packageVersion } from "../../util/package.js";
import { dns1123 } from "../names.js";
import { generateFeatureStore, generatePipelines } from "./pipelines.js";
import { defaultFeatures, type FeatureField, serveConfigFromPlan } from "./serve-config.js";

/** Node image for the serving container, pinned (the Helm chart's image builds FROM it). */
export const NODE_IMAGE = "node:24.11.1-bookworm-slim";

function seedOf(plan: Plan): number {
  return Number.parseInt(plan.spec.hash.slice(7, 15), 16) >>> 0;
}

function decision(plan: Plan, capability: string) {
  return plan.decisions.find((d) => d.capability === capability)!;
}

/**
 * How the sample model draws one feature: from the declared range, else a neutral one for its type
 * (booleans 0/1, integers 0..100, floats around 0). `mid` and `spread` scale the sample's weights so
 * no feature saturates the output.
 */
function distributionOf(field: FeatureField): {
  draw: (random: () => number) => number;
  mid: number;
  spread: number;
} {
  const { min, max } = field;
  const normal = (random: () => number) =>
    Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  switch (field.type) {
    case "bool":
      return { draw: (random) => (random() < 0.5 ? 0 : 1), mid: 0.5, spread: 1 };
    case "int": {
      const lo = Math.ceil(min ?? 0);
      const hi = Math.floor(max ?? (min !== null ? min + 100 : 100));
      return {
        draw: (random) => lo + Math.floor(random() * (hi - lo + 1)),
        mid: (lo + hi) / 2,
        spread: Math.max(1, hi - lo),
      };
    }
    case "string":
      // the model sees a string through its encoding (a code in [0, 1))
      return { draw: (random) => random(), mid: 0.5, spread: 1 };
    default: {
      if (min !== null && max !== null)
        return { draw: (random) => min + random() * (max - min), mid: (min + max) / 2, spread: max - min };
      // one bound or none: a unit normal on the open side of the bound
      const at = min ?? max ?? 0;
      const side = min !== null ? 1 : max !== null ? -1 : 0;
      return {
        draw: (random) => at + (side === 0 ? normal(random) : side * Math.abs(normal(random))),
        mid: at + side * 0.8,
        spread: 2,
      };
    }
  }
}

/**
 * The sample model: a logistic model over the declared features with seeded weights, marked
 * `stage: sample` (it serves until a trained version is published and the deploy workflow refuses to
 * promote it), with reference histograms drawn from each feature's type and declared range.
 */
export function sampleModel(plan: Plan): { bytes: Uint8Array; meta: Record<string, unknown> } {
  const fields = defaultFeatures(plan);
  const random = seededRandom(seedOf(plan));
  const distributions = fields.map(distributionOf);
  const weights = distributions.map((d) => Math.round(((random() * 2 - 1) / d.spread) * 1e6) / 1e6);
  const bias = Math.round(-weights.reduce((sum, w, i) => sum + w * distributions[i].mid, 0) * 1e6) / 1e6;
  const bytes = buildMlp({
    layers: [fields.length, 1],
    sigmoid: true,
    weights: [weights],
    biases: [[bias]],
    outputName: "probability",
  });
  const reference: Record<string, { edges: number[]; fractions: number[] }> = {};
  const bins = Number(decision(plan, "monitoring.drift").params.bins ?? 10);
  fields.forEach((field, i) => {
    const values = Array.from({ length: 2000 }, () => distributions[i].draw(random));
    const ref = referenceFrom(values, bins);
    reference[field.name] = {
      edges: ref.edges.map((e) => Math.round(e * 1e4) / 1e4),
      fractions: ref.fractions.map((f) => Math.round(f * 1e4) / 1e4),
    };
  });
  return {
    bytes,
    meta: {
      stage: "sample",
      features: fields.map((f) => f.name),
      reference,
      fallback: { default: { probability: [0.5] } },
    },
  };
}

export function prometheusRules(plan: Plan): Record<string, unknown> {
  const spec = plan.requirements;
  const name = dns1123(spec.metadata.name);
  const drift = decision(plan, "monitoring.drift");
  const alert = Number(drift.params.alert ?? 0.25);
  const warn = Number(drift.params.warn ?? 0.1);
  const slo = spec.inference.latencyP99Ms / 1000;
  const errorBudget = Math.max(0.0001, (100 - spec.availability.targetPercent) / 100);
  const rules: Array<Record<string, unknown>> = [
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
      panel(5, "Feature drift (PSI)", `stackwright_feature_psi{model="${name}"}`, "short", 16, 0),
      panel(
        6,
        "Fallbacks and breaker",
        `sum by (via) (rate(stackwright_fallbacks_total{model="${name}"}[5m]))`,
        "reqps",
        16,
        12,
      ),
    ],
  };
}

export function dockerfile(): string {
  return `# ${GENERATED_HEADER}
# The serving image the Helm chart runs: stackwright's serving core and the model repository.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm init -y >/dev/null && npm install --omit=dev --no-audit --no-fund ${PACKAGE_NAME}@${packageVersion()}

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules /app/node_modules
COPY models /models
COPY serve.yaml /etc/stackwright/serve.yaml
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD ["node", "-e", "fetch('http://127.0.0.1:8080/v2/health/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/node_modules/stackwright/bin/stackwright.js"]
CMD ["serve", "--config", "/etc/stackwright/serve.yaml", "--host", "0.0.0.0", "--port", "8080"]
`;
}

export function generatePlatform(plan: Plan): FileSet {
  const name = dns1123(plan.requirements.metadata.name);
  const config = serveConfigFromPlan(plan) as Record<string, unknown> & { features: Record<string, unknown> };
  // locally the platform runs with the embedded feature store; the chart's copy points at Redis
  const local = {
    ...config,
    models: [{ name, path: `models/${name}`, versionPolicy: "production" }],
    features: {
      ...config.features,
      store: config.features.store === "redis" ? "memory" : config.features.store,
      url: undefined,
    },
  };
  const model = sampleModel(plan);
  const yaml = (value: unknown) => `# ${GENERATED_HEADER}\n${stringify(value, { lineWidth: 0 })}`;
  return {
    "platform/serve.yaml": yaml(JSON.parse(JSON.stringify(local))),
    [`platform/models/${name}/1/model.onnx`]: model.bytes,
    [`platform/models/${name}/1/model.yaml`]: yaml(model.meta),
    "platform/Dockerfile": dockerfile(),
    "platform/monitoring/alerts.rules.yaml": yaml(prometheusRules(plan)),
    "platform/monitoring/dashboard.json": `${JSON.stringify(grafanaDashboard(plan), null, 2)}\n`,
    ...generateFeatureStore(plan),
    ...generatePipelines(plan),
  };
}
