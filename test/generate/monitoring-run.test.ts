/**
 * The generated monitoring queries data that exists: a real Prometheus scrapes `stackwright serve`
 * running the generated platform (with the target labels a ServiceMonitor adds), traffic is sent,
 * and every metric selector in the alert rules and the dashboard must return series. A selector
 * naming a metric or label value the server does not export would make an alert that never fires.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { planSpecFile } from "../../src/plan/index.js";
import { ChartOnDisk, chartsIn } from "../../src/validate/k8s.js";
import { writeFileSet } from "../../src/write/index.js";
import { ROOT } from "../helpers/cli.js";
import { describeWith, tool } from "../helpers/tools.js";
import { freePort, post, serve, until } from "../serve/helpers.js";

/**
 * Every example. A streaming plan's rules and dashboard are also over the serving core's metrics
 * (what `serve` exports); alerts over its consumer's `stackwright_stream_*` series are not generated yet.
 */
const EXAMPLES = readdirSync(join(ROOT, "examples"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

/** Every `stackwright_*` vector selector in a PromQL expression, as Prometheus would match it. */
function selectors(expr: string): string[] {
  return [...expr.matchAll(/\bstackwright_[a-z_]+(\{[^}]*\})?/g)].map((m) => m[0]);
}

const CANARY_HASH = "6d4cf56db9";

/**
 * The queries the chart hands to others, rendered by real helm: the canary gates (AnalysisTemplate,
 * with Argo's {{args.canary-hash}} filled as Argo Rollouts would) and KEDA's Prometheus triggers.
 */
async function chartQueries(files: Record<string, string>, namespace: string) {
  const queries: Array<{ where: string; expr: string }> = [];
  for (const name of chartsIn(files)) {
    const chart = new ChartOnDisk(files, `deploy/helm/${name}`, tool("helm"));
    try {
      const { objects, problems } = await chart.template(name, namespace);
      expect(problems).toEqual([]);
      for (const { object } of objects) {
        const spec = object.spec as Record<string, any>;
        if (object.kind === "AnalysisTemplate")
          for (const m of spec.metrics ?? [])
            queries.push({
              where: `canary gate ${m.name}`,
              expr: String(m.provider.prometheus.query).replaceAll("{{args.canary-hash}}", CANARY_HASH),
            });
        if (object.kind === "ScaledObject")
          for (const t of spec.triggers ?? [])
            if (t.type === "prometheus")
              queries.push({ where: `KEDA trigger ${t.name ?? ""}`, expr: t.metadata.query });
      }
    } finally {
      chart.close();
    }
  }
  return queries;
}

/**
 * POSTs each body on its own connection, all connections opened first and every request written in
 * one synchronous loop: the server finds them together, so with a one-row queue all but the first
 * meet a full queue (a burst of fetches may trickle in and never overlap). The response statuses.
 */
async function simultaneous(base: string, path: string, bodies: unknown[]): Promise<number[]> {
  const { hostname, port } = new URL(base);
  const sockets = await Promise.all(
    bodies.map(
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => resolve(socket));
          socket.on("error", reject);
        }),
    ),
  );
  const answers = sockets.map(
    (socket) =>
      new Promise<number>((resolve) => {
        let received = "";
        socket.on("data", (chunk) => {
          received += chunk;
          const status = /^HTTP\/1\.1 (\d{3}) /.exec(received);
          if (status) {
            socket.destroy();
            resolve(Number(status[1]));
          }
        });
      }),
  );
  bodies.forEach((body, i) => {
    const json = JSON.stringify(body);
    sockets[i].write(
      `POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`,
    );
  });
  return Promise.all(answers);
}

async function startPrometheus(target: string, labels: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), "sw-prom-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "prometheus.yml"),
    JSON.stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      scrape_configs: [{ job_name: "serve", static_configs: [{ targets: [target], labels }] }],
    }),
  );
  const child: ChildProcess = spawn(
    tool("prometheus"),
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  await until(
    "prometheus to be ready",
    async () => (await fetch(`${url}/-/ready`).catch(() => null))?.ok === true,
  );
  const query = async (q: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data?: { result: unknown[] }; error?: string };
    if (body.status !== "success") throw new Error(`${q}: ${body.error}`);
    return body.data?.result ?? [];
  };
  return { query, stop: () => child.kill("SIGTERM") };
}

describeWith(
  ["prometheus", "helm"],
  "generated alerts, dashboards, canary gates and autoscaler queries against a real Prometheus",
  () => {
    it.each(EXAMPLES)("%s: every selector returns series once traffic has flowed", async (example) => {
      const { plan } = await planSpecFile(join(ROOT, "examples", example));
      const out = mkdtempSync(join(tmpdir(), "sw-monitoring-"));
      const files = generateAll(plan);
      writeFileSet(out, files, { specHash: plan.spec.hash, ruleSetHash: plan.ruleSet.hash });
      const handedOut = await chartQueries(Object.fromEntries(textEntries(files)), "ml");
      const rules = parseYaml(readFileSync(join(out, "platform/monitoring/alerts.rules.yaml"), "utf8")) as {
        groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
      };
      const dashboard = JSON.parse(readFileSync(join(out, "platform/monitoring/dashboard.json"), "utf8")) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      };
      // a queue of one row: a burst of concurrent requests gets 503s, the error the error-ratio alert is for
      const config = parseYaml(readFileSync(join(out, "platform/serve.yaml"), "utf8"));
      config.batching = { ...config.batching, maxQueue: 1 };
      writeFileSync(join(out, "platform/serve.yaml"), stringify(config));
      const s = await serve(["--config", "platform/serve.yaml"], { cwd: out });
      // the labels the Prometheus operator puts on a ServiceMonitor's targets
      const prom = await startPrometheus(new URL(s.url).host, {
        namespace: "ml",
        service: plan.requirements.metadata.name,
        pod: `${plan.requirements.metadata.name}-0`,
        endpoint: "http",
        container: "serve",
        // what podTargetLabels copies from a Rollout's pod: the canary gates select on it
        rollouts_pod_template_hash: CANARY_HASH,
      });
      try {
        const name = plan.requirements.metadata.name;
        const fields = plan.requirements.features.fields.length
          ? plan.requirements.features.fields
          : Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, type: "float" as const }));
        const value = (type: string, i: number) =>
          type === "bool" ? i % 2 === 0 : type === "int" ? i + 1 : 0.25 * i;
        const features = Object.fromEntries(fields.map((f, i) => [f.name, value(f.type, i)]));
        for (let i = 0; i < 20; i++)
          expect((await post(`${s.url}/v1/predictions`, { model_id: name, features })).status).toBe(200);
        // the series the burst will raise, scraped once at its value before (rate() needs the step)
        await until(
          "a scrape of the request series",
          async () => (await prom.query(`stackwright_requests_total{code="503"}`)).length > 0,
        );
        // the scenario for the error-ratio alert: bursts that overflow a one-row queue until the alert's
        // expression holds. Whether requests that arrive together are read in one loop turn depends on
        // the scheduler (a plan without batching runs each at once), so a burst may be absorbed and the
        // 5xx share must build up; the alert is over the whole [5m] window
        const errorRatio = rules.groups
          .flatMap((g) => g.rules)
          .find((r) => r.alert === "StackwrightErrorRatio");
        expect(errorRatio).toBeDefined();
        let fired = false;
        for (let round = 0; round < 60 && !fired; round++) {
          const statuses = await simultaneous(
            s.url,
            "/v1/predictions",
            Array.from({ length: 64 }, (_, i) => ({
              model_id: name,
              features: Object.fromEntries(
                fields.map((f, j) => [
                  f.name,
                  f.type === "float" ? 0.25 * j + (round * 64 + i) / 100_000 : value(f.type, j),
                ]),
              ),
            })),
          );
          expect(
            statuses.every((c) => c === 200 || c === 503),
            JSON.stringify(statuses),
          ).toBe(true);
          // two scrapes later (a rate needs two samples of the raised series)
          await new Promise((r) => setTimeout(r, 2200));
          fired = (await prom.query(errorRatio!.expr)).length > 0;
        }
        expect(fired, `${errorRatio!.alert} fires: ${errorRatio!.expr}`).toBe(true);
        const wanted = [
          ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
          ...dashboard.panels.flatMap((p) =>
            p.targets.map((t) => ({ where: `panel ${p.title}`, expr: t.expr })),
          ),
          // over the serving core's series; the consumer's (stackwright_stream_*) are not scraped here
          ...handedOut.filter((q) => !q.expr.includes("stackwright_stream_")),
        ];
        const empty: string[] = [];
        for (const { where, expr } of wanted)
          for (const selector of selectors(expr))
            if ((await prom.query(selector)).length === 0) empty.push(`${where}: ${selector}`);
        expect(empty).toEqual([]);
      } finally {
        prom.stop();
        await s.stop();
      }
    });
  },
);
