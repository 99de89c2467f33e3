/**
 * The generated monitoring queries data that exists, and its alerts fire when they should: a real
 * Prometheus scrapes what each plan runs — `stackwright serve` for a realtime plan, `stackwright
 * consume` on a real redis-server for a streaming plan (with the target labels a ServiceMonitor adds),
 * and a real Pushgateway receiving `stackwright score --metrics-push` for a batch plan — traffic is
 * driven, and every metric selector in the alert rules, the dashboard and the chart's canary gates and
 * KEDA triggers must return series. Alerts fire in scenarios built for them: the error ratio (bursts
 * over a one-row queue), feature drift (inputs far from the reference), the dead-letter ratio
 * (malformed events), the reject ratio and a run's input drift (a file of bad and shifted rows), and a
 * missing run (the last success pushed a week back).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { consumeArgs, scoreArgs } from "../../src/generate/commands.js";
import { engineArgs } from "../../src/generate/engine-deploy.js";
import { ENGINES, type LlmEngine } from "../../src/generate/engines.js";
import { generateAll } from "../../src/generate/index.js";
import { type AlertRule, servingMode } from "../../src/generate/platform/monitoring.js";
import { planSpecFile } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { buildMlp } from "../../src/serve/onnx-build.js";
import { pushScoreMetrics } from "../../src/serve/score-metrics.js";
import { ChartOnDisk, chartsIn } from "../../src/validate/k8s.js";
import { writeFileSet } from "../../src/write/index.js";
import { BIN, ROOT, runCliAsync } from "../helpers/cli.js";
import { onDeviceExample } from "../helpers/plans.js";
import { describeWith, tool } from "../helpers/tools.js";
import { freePort, post, serve, until } from "../serve/helpers.js";

/** Every example with a served platform: realtime, streaming and batch plans among them (not on devices). */
const EXAMPLES = readdirSync(join(ROOT, "examples"))
  .filter((f) => f.endsWith(".yaml") && !onDeviceExample(f))
  .sort();

/**
 * Every vector selector of a metric stackwright declares in a PromQL expression, as Prometheus would
 * match it: `stackwright_*`, and the LLM engines' own metrics (src/generate/engines.ts).
 */
function selectors(expr: string): string[] {
  const engineMetrics = Object.values(ENGINES).flatMap((e) => metricNames(e));
  const names = [
    "stackwright_[a-z_]+",
    ...engineMetrics.map((n) => `${n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:_bucket|_sum|_count)?`),
  ];
  return [...expr.matchAll(new RegExp(`(?<![A-Za-z0-9_:])(?:${names.join("|")})(\\{[^}]*\\})?`, "g"))].map(
    (m) => m[0],
  );
}

/** The names an engine's declaration lists. */
function metricNames(engine: LlmEngine): string[] {
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
  ].flatMap((spec) => (spec ? [spec.name] : []));
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

interface ScrapeTarget {
  job: string;
  target: string;
  labels?: Record<string, string>;
  /** a Pushgateway's series keep the labels the pusher gave them */
  honorLabels?: boolean;
}

async function startPrometheus(targets: ScrapeTarget[]) {
  const dir = mkdtempSync(join(tmpdir(), "sw-prom-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "prometheus.yml"),
    JSON.stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      scrape_configs: targets.map((t) => ({
        job_name: t.job,
        honor_labels: t.honorLabels ?? false,
        static_configs: [{ targets: [t.target], labels: t.labels ?? {} }],
      })),
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
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`, {
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { status: string; data?: { result: unknown[] }; error?: string };
    if (body.status !== "success") throw new Error(`${q}: ${body.error}`);
    return body.data?.result ?? [];
  };
  return { query, stop: () => child.kill("SIGTERM") };
}

type Prometheus = Awaited<ReturnType<typeof startPrometheus>>;

interface Generated {
  plan: Plan;
  out: string;
  name: string;
  rules: AlertRule[];
  queries: Array<{ where: string; expr: string }>;
}

async function generated(example: string): Promise<Generated> {
  const { plan } = await planSpecFile(join(ROOT, "examples", example));
  const out = mkdtempSync(join(tmpdir(), "sw-monitoring-"));
  const files = generateAll(plan);
  writeFileSet(out, files, { specHash: plan.spec.hash, ruleSetHash: plan.ruleSet.hash });
  const handedOut = await chartQueries(Object.fromEntries(textEntries(files)), "ml");
  const rules = (
    parseYaml(readFileSync(join(out, "platform/monitoring/alerts.rules.yaml"), "utf8")) as {
      groups: Array<{ rules: AlertRule[] }>;
    }
  ).groups.flatMap((g) => g.rules);
  const dashboard = JSON.parse(readFileSync(join(out, "platform/monitoring/dashboard.json"), "utf8")) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  const queries = [
    ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel ${p.title}`, expr: t.expr }))),
    ...handedOut,
  ];
  return { plan, out, name: plan.requirements.metadata.name, rules, queries };
}

/** The labels the Prometheus operator puts on a ServiceMonitor's targets, for a pod of the release. */
function targetLabels(name: string, container: string): Record<string, string> {
  return {
    namespace: "ml",
    service: name,
    pod: `${name}-0`,
    endpoint: "http",
    container,
    // what podTargetLabels copies from a Rollout's pod: the canary gates select on it
    rollouts_pod_template_hash: CANARY_HASH,
  };
}

/** The alerts seen firing in this test's scenarios: every alert of the plan must be among them. */
const fired = new Set<string>();

/** Waits (two scrapes at a time) until an alert's expression holds; returns whether it did. */
async function fires(prom: Prometheus, rule: AlertRule, rounds = 30, between?: () => Promise<void>) {
  for (let round = 0; round <= rounds; round++) {
    if ((await prom.query(rule.expr)).length > 0) {
      fired.add(rule.alert);
      return true;
    }
    if (round === rounds) break;
    await between?.();
    await new Promise((r) => setTimeout(r, 1100));
  }
  return false;
}

function rule(g: Generated, alert: string): AlertRule {
  const found = g.rules.find((r) => r.alert === alert);
  expect(found, `${g.name} has the alert ${alert}`).toBeDefined();
  return found!;
}

/** Every selector of the plan's queries returns series. */
async function everySelectorHasSeries(prom: Prometheus, queries: Generated["queries"]) {
  const empty: string[] = [];
  for (const { where, expr } of queries)
    for (const selector of selectors(expr))
      if ((await prom.query(selector)).length === 0) empty.push(`${where}: ${selector}`);
  expect(empty).toEqual([]);
}

function featureFields(plan: Plan) {
  return plan.requirements.features.fields.length
    ? plan.requirements.features.fields
    : Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, type: "float" as const }));
}

const value = (type: string, i: number) =>
  type === "bool" ? i % 2 === 0 : type === "int" ? i + 1 : 0.25 * i;
/** Far outside any reference histogram: every value lands in the last bin. */
const DRIFTED = 1e6;

/**
 * An LLM engine's plan: the engine needs a GPU and its image, so a stand-in exports the series the
 * engine declares (src/generate/engines.ts), with the labels it puts on them and the operator's target
 * labels, in a state where every alert's condition holds: answers slower than the SLO, half of them
 * server errors, more requests waiting than a replica runs, the KV cache full. A real Prometheus
 * scrapes it; every selector of the rules, the dashboard, the canary gates and the KEDA triggers must
 * return series and every alert must fire.
 */
async function engine(g: Generated) {
  const { engine: e, run } = engineArgs(g.plan)!;
  const m = e.metrics;
  const own = (extra: Record<string, string> = {}) => {
    const labels: Record<string, string> = { ...extra };
    if (m.modelLabel) labels[m.modelLabel] = run.servedName;
    for (const label of m.waiting.labels) if (!(label in labels)) labels[label] = "0";
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(",");
    return text ? `{${text}}` : "";
  };
  const slo = g.plan.requirements.inference.latencyP99Ms / 1000;
  const started = Date.now();
  const exporter = createServer((_req, res) => {
    const seconds = Math.max(1, Math.round((Date.now() - started) / 1000));
    const histogram = (name: string, labels: string, slow: number) => {
      const bucket = (le: string, n: number) =>
        `${name}_bucket${labels.replace(/\}$/, `,le="${le}"}`) || `{le="${le}"}`} ${n}`;
      return [bucket("0.1", 0), bucket(String(slow), 10 * seconds), bucket("+Inf", 10 * seconds)];
    };
    const counter = (spec: { name: string }, match: Record<string, unknown>, n: number) => {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(match))
        labels[k] = typeof v === "string" ? v : k === "handler" ? "/v1/chat/completions" : "generation";
      if (spec.name === "http_requests_total") labels.method = "POST";
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",");
      return `${spec.name}${text ? `{${text}}` : ""} ${n}`;
    };
    const lines = [
      `${m.waiting.name}${own()} ${(g.plan.capacity.llm?.sessionsPerReplica ?? 1) + 5}`,
      `${m.running.name}${own()} 1`,
      ...(m.kvCacheUsage ? [`${m.kvCacheUsage.name}${own()} 0.99`] : []),
      ...[m.timeToFirstToken, m.interToken, m.requestLatency].flatMap((h) =>
        h ? histogram(h.name, own(), slo * 2) : [],
      ),
      // requests and failures: distinct series where the failures are the requests' own 5xx
      counter(
        m.requests.metric,
        { ...m.requests.match, ...(m.requests.metric === m.failures.metric ? { status: "2xx" } : {}) },
        10 * seconds,
      ),
      counter(m.failures.metric, m.failures.match, 10 * seconds),
    ];
    res.setHeader("content-type", "text/plain; version=0.0.4");
    res.end(`${lines.join("\n")}\n`);
  });
  await new Promise<void>((resolve) => exporter.listen(0, "127.0.0.1", resolve));
  const port = (exporter.address() as { port: number }).port;
  const prom = await startPrometheus([
    { job: "engine", target: `127.0.0.1:${port}`, labels: targetLabels(g.name, "serve") },
  ]);
  try {
    await until(
      "the stand-in to be scraped twice",
      async () => (await prom.query(`count_over_time(${m.waiting.name}[1m]) >= 2`)).length > 0,
    );
    await everySelectorHasSeries(prom, g.queries);
    for (const r of g.rules) expect(await fires(prom, r), `${g.name}: ${r.alert}`).toBe(true);
  } finally {
    prom.stop();
    exporter.close();
  }
}

async function realtime(g: Generated) {
  // a queue of one row: a burst of concurrent requests gets 503s, the error the error-ratio alert is for
  const original = parseYaml(readFileSync(join(g.out, "platform/serve.yaml"), "utf8"));
  const config = structuredClone(original);
  config.batching = { ...config.batching, maxQueue: 1 };
  writeFileSync(join(g.out, "platform/serve.yaml"), stringify(config));
  const s = await serve(["--config", "platform/serve.yaml"], { cwd: g.out });
  const prom = await startPrometheus([
    { job: "serve", target: new URL(s.url).host, labels: targetLabels(g.name, "serve") },
  ]);
  try {
    const fields = featureFields(g.plan);
    const features = Object.fromEntries(fields.map((f, i) => [f.name, value(f.type, i)]));
    for (let i = 0; i < 20; i++)
      expect((await post(`${s.url}/v1/predictions`, { model_id: g.name, features })).status).toBe(200);
    // the series the burst will raise, scraped once at its value before (rate() needs the step)
    await until(
      "a scrape of the request series",
      async () => (await prom.query(`stackwright_requests_total{code="503"}`)).length > 0,
    );
    // the scenario for the error-ratio alert: bursts that overflow a one-row queue until the alert's
    // expression holds. Whether requests that arrive together are read in one loop turn depends on
    // the scheduler (a plan without batching runs each at once), so a burst may be absorbed and the
    // 5xx share must build up; the alert is over the whole [5m] window
    let round = 0;
    const burst = async () => {
      const statuses = await simultaneous(
        s.url,
        "/v1/predictions",
        Array.from({ length: 64 }, (_, i) => ({
          model_id: g.name,
          features: Object.fromEntries(
            fields.map((f, j) => [
              f.name,
              f.type === "float" ? 0.25 * j + (round * 64 + i) / 100_000 : value(f.type, j),
            ]),
          ),
        })),
      );
      round++;
      expect(
        statuses.every((c) => c === 200 || c === 503),
        JSON.stringify(statuses),
      ).toBe(true);
    };
    const errorRatio = rule(g, "StackwrightErrorRatio");
    expect(await fires(prom, errorRatio, 60, burst), `${errorRatio.alert} fires: ${errorRatio.expr}`).toBe(
      true,
    );
    // the scenario for the drift alerts: a window of inputs far from the reference
    if (g.rules.some((r) => r.alert === "StackwrightFeatureDriftAlert")) {
      const drifted = Object.fromEntries(
        fields.map((f, i) => [f.name, f.type === "float" ? DRIFTED : value(f.type, i)]),
      );
      for (let i = 0; i < 200; i++)
        await post(`${s.url}/v1/predictions`, { model_id: g.name, features: drifted });
      for (const alert of ["StackwrightFeatureDriftWarn", "StackwrightFeatureDriftAlert"])
        expect(await fires(prom, rule(g, alert)), `${alert} fires`).toBe(true);
    }
    await everySelectorHasSeries(
      prom,
      // the consumer's series (the chart's streaming KEDA trigger) are scraped in the streaming scenario
      g.queries.filter((q) => !q.expr.includes("stackwright_stream_")),
    );
  } finally {
    prom.stop();
    await s.stop();
  }
  // a deadline past the SLO (1.5x, at least 2 s): requests can be slower than the SLO and still succeed
  const slo = g.plan.requirements.inference.latencyP99Ms;
  await slowPrimary(g, featureFields(g.plan), original, Math.max(2000, Math.ceil(slo * 1.5)), [
    "StackwrightQueueSaturated",
    "StackwrightLatencyAboveSLO",
  ]);
  // a half-second deadline: the queue's wait fails requests and trips the breaker
  await slowPrimary(g, featureFields(g.plan), original, 500, ["StackwrightBreakerOpen"]);
}

/**
 * The scenario for the latency, queue and breaker alerts: the primary replaced by a slow model of
 * the same signature (two 4096-wide layers in batches of 8, so rows drain slowly), run
 * in the worker pool, with the deadline given. Bursts queue behind it past four batches and wait past
 * the SLO, or past the deadline and trip the breaker. Burst sizes double until each alert holds, so
 * a faster machine or a looser SLO needs larger bursts, not another test.
 */
async function slowPrimary(
  g: Generated,
  fieldsOf: ReturnType<typeof featureFields>,
  base: Record<string, any>,
  timeoutMs: number,
  alerts: string[],
) {
  const config = structuredClone(base);
  config.placement = "workers";
  // small batches: each reads the two 4096x4096 weight matrices once, so a row costs about an eighth
  // of a batch's time; at 64 rows a fast machine drained a 16k burst under the LLM's 8 s SLO
  config.batching = { enabled: true, maxBatchSize: 8, maxQueueDelayMs: 5, maxQueue: 100_000 };
  config.fallback = { ...config.fallback, timeoutMs };
  writeFileSync(join(g.out, "platform/serve.yaml"), stringify(config));
  const versions = join(g.out, "platform/models", g.name);
  const version = readdirSync(versions).sort().at(-1)!;
  writeFileSync(
    join(versions, version, "model.onnx"),
    buildMlp({ layers: [fieldsOf.length, 4096, 4096, 1], sigmoid: true, seed: 7 }),
  );
  const s = await serve(["--config", "platform/serve.yaml"], { cwd: g.out });
  const prom = await startPrometheus([
    { job: "serve", target: new URL(s.url).host, labels: targetLabels(g.name, "serve") },
  ]);
  try {
    const features = Object.fromEntries(fieldsOf.map((f, i) => [f.name, value(f.type, i)]));
    await post(`${s.url}/v1/predictions`, { model_id: g.name, features });
    await until(
      "a scrape of the latency series",
      async () => (await prom.query("stackwright_request_duration_seconds_count")).length > 0,
    );
    let round = 0;
    const burst = (size: number) =>
      simultaneous(
        s.url,
        "/v1/predictions",
        Array.from({ length: size }, (_, i) => ({
          model_id: g.name,
          features: Object.fromEntries(
            fieldsOf.map((f, j) => [
              f.name,
              f.type === "float" ? 0.5 * j + (++round + i) / 1e6 : value(f.type, j),
            ]),
          ),
        })),
      );
    /** Bursts of growing size, the expression asked every 200 ms while each is in flight. */
    const holdsDuring = async (rule: AlertRule, from: number) => {
      for (let size = from; size <= 16_384; size *= 2) {
        let settled = false;
        const waiting = burst(size).then(() => {
          settled = true;
        });
        let held = false;
        while (!settled && !held) {
          await new Promise((r) => setTimeout(r, 200));
          held = (await prom.query(rule.expr)).length > 0;
        }
        await waiting;
        if (held) fired.add(rule.alert);
        if (held || (await fires(prom, rule, 3))) return size;
      }
      return 0;
    };
    // each alert in turn; a later one starts from the burst size the earlier one needed (p99 is over
    // a [5m] window, so what an earlier burst did still counts)
    let size = 256;
    for (const alert of alerts) {
      const r = rule(g, alert);
      size = (await fires(prom, r, 1)) ? size : await holdsDuring(r, size);
      expect(size, `${r.alert} fires: ${r.expr}`).toBeGreaterThan(0);
    }
  } finally {
    prom.stop();
    await s.stop();
  }
}

/**
 * A redis-server on a free port, and a client of it. The port is free when chosen but another test
 * file's server may take it first: a server that exits (it could not bind) is started again on another.
 */
async function startRedis() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = spawn(tool("redis-server"), ["--port", String(port), "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    const exited = new Promise<true>((resolve) => server.once("exit", () => resolve(true)));
    const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    client.on("error", () => {});
    try {
      await until("redis to answer", async () => {
        if (server.exitCode !== null)
          throw new Error(`redis-server exited (${server.exitCode}) on port ${port}`);
        try {
          if (!client.isOpen) await client.connect();
          return (await client.ping()) === "PONG";
        } catch {
          return false;
        }
      });
      return { server, port, client };
    } catch (error) {
      server.kill("SIGKILL");
      await client.disconnect().catch(() => undefined);
      if (attempt === 3 || !(await Promise.race([exited, new Promise((r) => setTimeout(r, 100, false))])))
        throw error;
    }
  }
}

async function streaming(g: Generated) {
  // where the scenario is, on stderr: a run that times out shows the last step it reached
  const started = Date.now();
  const step = (what: string) =>
    console.error(`[streaming ${g.name}] ${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  const { server: redis, port: redisPort, client } = await startRedis();
  step(`redis on ${redisPort}`);
  const metricsPort = await freePort();
  const url = (stream: string) => `redis://127.0.0.1:${redisPort}/${stream}`;
  // the command line the chart runs, bound to loopback, on this test's broker and port
  // what the consumers wrote to stderr: read (a full pipe would block the child) and shown on a failure
  let consumerLog = "";
  const startConsumer = (...extra: string[]) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        ...consumeArgs({
          config: "platform/serve.yaml",
          source: url("events"),
          sink: url("scores"),
          deadLetter: url("dead"),
          group: g.name,
          port: String(metricsPort),
        }).map((a) => (a === "0.0.0.0" ? "127.0.0.1" : a)),
        ...extra,
      ],
      { cwd: g.out, stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr?.on("data", (d) => {
      consumerLog += d;
    });
    return child;
  };
  // the consumer's own backstop ends it 10 s after SIGTERM: past 20 s something else is wrong
  const stopConsumer = async () => {
    if (consumer.exitCode !== null || consumer.signalCode !== null) return;
    const exited = new Promise((r) => consumer.once("exit", r));
    consumer.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const stuck = await Promise.race([
      exited.then(() => false),
      new Promise<true>((r) => {
        timer = setTimeout(() => r(true), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    if (stuck) {
      consumer.kill("SIGKILL");
      throw new Error(`the consumer did not exit within 20 s of SIGTERM; its stderr:\n${consumerLog}`);
    }
  };
  let consumer = startConsumer();
  const prom = await startPrometheus([
    { job: "consume", target: `127.0.0.1:${metricsPort}`, labels: targetLabels(g.name, "consume") },
  ]);
  try {
    const fields = featureFields(g.plan);
    const send = async (events: string[]) => {
      const multi = client.multi();
      for (const data of events) multi.xAdd("events", "*", { data });
      await multi.exec();
    };
    const event = (i: number, drift = false) =>
      JSON.stringify({
        id: `e${i}`,
        features: Object.fromEntries(
          fields.map((f, j) => [f.name, drift && f.type === "float" ? DRIFTED : value(f.type, j)]),
        ),
      });
    step("events sent; waiting for the consumer's series");
    await send(Array.from({ length: 200 }, (_, i) => event(i)));
    await until(
      "the consumer's series to be scraped",
      async () => (await prom.query("stackwright_stream_consumed_total > 0")).length > 0,
    );
    step("the consumer is scraped");
    // the scenario for the dead-letter ratio: a share of malformed events well above the budget
    const deadLetters = rule(g, "StackwrightDeadLetterRatio");
    let n = 1000;
    const mixed = async () => {
      await send(Array.from({ length: 100 }, (_, i) => (i % 4 === 0 ? "not json" : event(n + i))));
      n += 100;
    };
    expect(await fires(prom, deadLetters, 30, mixed), `${deadLetters.alert} fires: ${deadLetters.expr}`).toBe(
      true,
    );
    if (g.rules.some((r) => r.alert === "StackwrightFeatureDriftAlert")) {
      await send(Array.from({ length: 1200 }, (_, i) => event(10_000 + i, true)));
      for (const alert of ["StackwrightFeatureDriftWarn", "StackwrightFeatureDriftAlert"])
        expect(await fires(prom, rule(g, alert)), `${alert} fires`).toBe(true);
    }
    step("dead-letter and drift alerts fired");
    // the lag gauge is refreshed every two seconds: wait for a scrape of it
    await until("a scrape of the lag", async () => (await prom.query("stackwright_stream_lag")).length > 0);
    await everySelectorHasSeries(
      prom,
      // the serving core's series (the chart's canary gates and queue-depth trigger, rendered in
      // every mode) are scraped in the realtime scenario
      g.queries.filter(
        (q) =>
          q.where.startsWith("alert") ||
          q.where.startsWith("panel") ||
          q.expr.includes("stackwright_stream_"),
      ),
    );
    step("every selector has series");
    // the scenario for a missing consumer: it stops, its series go stale, absent() holds
    const absent = rule(g, "StackwrightConsumerAbsent");
    expect((await prom.query(absent.expr)).length, "a consumer is running: not absent").toBe(0);
    await stopConsumer();
    expect(await fires(prom, absent), `${absent.alert} fires: ${absent.expr}`).toBe(true);
    step("the absent alert fired");
    // the scenario for a lagging group: a backlog of 20,000 events and a consumer taking one event per
    // micro-batch, on the same metrics port
    for (let i = 0; i < 20_000; i += 1000)
      await send(Array.from({ length: 1000 }, (_, j) => event(100_000 + i + j)));
    consumer = startConsumer("--max-batch", "1");
    const lagging = rule(g, "StackwrightStreamLagHigh");
    step("backlog sent, a one-event consumer started");
    expect(await fires(prom, lagging), `${lagging.alert} fires: ${lagging.expr}`).toBe(true);
    step("the lag alert fired");
  } finally {
    prom.stop();
    await stopConsumer();
    await client.quit().catch(() => undefined);
    redis.kill();
  }
}

async function batch(g: Generated) {
  const gatewayPort = await freePort();
  const gateway = spawn(tool("prometheus-pushgateway"), [`--web.listen-address=127.0.0.1:${gatewayPort}`], {
    stdio: "ignore",
  });
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await until(
    "the pushgateway to be ready",
    async () => (await fetch(`${gatewayUrl}/-/ready`).catch(() => null))?.ok === true,
  );
  const prom = await startPrometheus([
    { job: "pushgateway", target: `127.0.0.1:${gatewayPort}`, honorLabels: true },
  ]);
  try {
    const fields = featureFields(g.plan);
    // 5% of the rows rejected (a value that is not a number) and every feature far from its reference
    const rows = [`id,${fields.map((f) => f.name).join(",")}`];
    for (let i = 0; i < 2000; i++)
      rows.push(
        `r${i},${fields.map((f, j) => (i % 20 === 0 && j === 0 ? "x" : f.type === "float" ? DRIFTED : value(f.type, j))).join(",")}`,
      );
    writeFileSync(join(g.out, "day.csv"), `${rows.join("\n")}\n`);
    const run = await runCliAsync(
      scoreArgs({
        config: "platform/serve.yaml",
        input: "day.csv",
        output: "predictions",
        metricsPush: gatewayUrl,
      }).concat("--json"),
      { cwd: g.out },
    );
    expect(run.code, run.stderr).toBe(1); // rows were rejected
    expect(run.stderr).not.toContain("could not push");
    await until(
      "a scrape of the run's rows",
      async () => (await prom.query("stackwright_score_rows")).length > 0,
    );
    for (const alert of [
      "StackwrightScoreRejectRatio",
      "StackwrightFeatureDriftWarn",
      "StackwrightFeatureDriftAlert",
    ])
      if (alert === "StackwrightScoreRejectRatio" || g.rules.some((r) => r.alert === alert))
        expect(await fires(prom, rule(g, alert)), `${alert} fires`).toBe(true);
    const missing = rule(g, "StackwrightScoreRunMissing");
    expect((await prom.query(missing.expr)).length, "a run just finished: not missing").toBe(0);
    // the scenario for a missing run: the same run's metrics, as score pushes them, three weeks back
    const summary = JSON.parse(run.stdout);
    await pushScoreMetrics(gatewayUrl, summary, { index: 0, count: 1 }, () => Date.now() - 21 * 86_400_000);
    expect(await fires(prom, missing), `${missing.alert} fires: ${missing.expr}`).toBe(true);
    await everySelectorHasSeries(
      prom,
      g.queries.filter((q) => q.where.startsWith("alert") || q.where.startsWith("panel")),
    );
  } finally {
    prom.stop();
    gateway.kill();
  }
}

describeWith(
  ["prometheus", "helm", "redis-server", "prometheus-pushgateway"],
  "generated alerts, dashboards, canary gates and autoscaler queries against a real Prometheus",
  () => {
    it.each(EXAMPLES)(
      "%s: every selector returns series and the alerts fire in their scenarios",
      async (example) => {
        const g = await generated(example);
        const mode = servingMode(g.plan);
        fired.clear();
        if (engineArgs(g.plan)) await engine(g);
        else if (mode === "batch") await batch(g);
        else if (mode === "streaming") await streaming(g);
        else await realtime(g);
        // an alert without a scenario that makes it fire is an alert nobody has seen work
        expect([...fired].sort()).toEqual(g.rules.map((r) => r.alert).sort());
      },
      300_000,
    );
  },
);
