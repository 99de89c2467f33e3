/**
 * LLM engines (serving.engine): the 70B example plans vLLM with the tensor parallelism the capacity
 * model sized and real helm renders it; TGI when the team runs it; the checkpoint comes from the bucket
 * the Terraform creates (and the workload may read it), onto a node disk that holds it; the autoscaler,
 * the canary gates and the alerts read only what the engine declares it exports; and the deploy's smoke
 * test, run here against a stand-in speaking the engine's API (no GPU on this machine), fails when a
 * series the chart reads is missing.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { engineArgs, weightsLocation } from "../../src/generate/engine-deploy.js";
import { ENGINES, type LlmEngine } from "../../src/generate/engines.js";
import { generateAll } from "../../src/generate/index.js";
import { createPlan } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import type { RenderedObject } from "../../src/validate/k8s.js";
import { planOf, renderedChartOf, terraformBlocks } from "../helpers/plans.js";
import { describeWith } from "../helpers/tools.js";

type Any = Record<string, any>;

function podOf(objects: RenderedObject[]): Any {
  const workload = objects.find((o) => ["Rollout", "Deployment"].includes(o.object.kind as string))!;
  return (workload.object as Any).spec.template.spec;
}

const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];

/** Every metric name a PromQL expression reads (histogram series back to their metric). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) =>
    m[1].replace(/_(bucket|sum|count)$/, ""),
  );
}

/** The queries of the rendered chart: KEDA triggers, canary gates and alert rules. */
function queriesOf(objects: RenderedObject[]): string[] {
  const out: string[] = [];
  for (const { object } of objects) {
    const spec = (object as Any).spec ?? {};
    if (object.kind === "ScaledObject") for (const t of spec.triggers) out.push(t.metadata.query);
    if (object.kind === "AnalysisTemplate")
      for (const m of spec.metrics) out.push(m.provider.prometheus.query);
    if (object.kind === "PrometheusRule")
      for (const g of spec.groups) for (const r of g.rules) out.push(r.expr);
  }
  return out;
}

function declared(engine: LlmEngine): Set<string> {
  const m = engine.metrics;
  return new Set(
    [
      m.waiting,
      m.running,
      m.kvCacheUsage,
      m.timeToFirstToken,
      m.interToken,
      m.requestLatency,
      m.requests.metric,
      m.failures.metric,
    ].flatMap((spec) => (spec ? [spec.name] : [])),
  );
}

describeWith(["helm"], "LLM engines (serving.engine)", () => {
  it("the 70B example: vLLM on 8 GPUs in one tensor-parallel group, the capacity model's figures as its flags", async () => {
    const { plan, files, objects } = await renderedChartOf("chat-assistant-70b");
    const engine = plan.decisions.find((d) => d.capability === "serving.engine")!;
    expect(engine.choice).toBe("vllm");
    const llm = plan.capacity.llm!;
    expect(llm.tensorParallel).toBeGreaterThan(1);
    expect(engine.params.tensorParallel).toBe(llm.tensorParallel);

    const pod = podOf(objects);
    const [container] = pod.containers;
    expect(container.image).toBe(`${ENGINES.vllm.image.repository}:${ENGINES.vllm.image.tag}`);
    const { args } = container;
    expect(args[0]).toBe("/weights/models/chat-assistant-70b");
    expect(flag(args, "--tensor-parallel-size")).toBe(String(llm.tensorParallel));
    expect(flag(args, "--max-model-len")).toBe(String(llm.contextTokens));
    expect(flag(args, "--max-num-seqs")).toBe(String(llm.sessionsPerReplica));
    expect(flag(args, "--gpu-memory-utilization")).toBe(String(llm.gpuMemoryUtilization));
    expect(plan.capacity.precision).toBe("fp8");
    expect(flag(args, "--quantization")).toBe("fp8");
    expect(args).toContain("--enable-prefix-caching");
    expect(container.resources.limits["nvidia.com/gpu"]).toBe(llm.tensorParallel);
    // the tensor-parallel workers' shared memory
    expect(pod.volumes.find((v: Any) => v.name === "shm").emptyDir.medium).toBe("Memory");
    // ready only once the engine answers on its health path, which opens after the checkpoint loaded
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"])
      expect(container[probe].httpGet).toEqual({ path: "/health", port: "http" });
    expect(container.ports).toEqual([{ name: "http", containerPort: 8000, protocol: "TCP" }]);
    const service = objects.find((o) => o.object.kind === "Service")!.object as Any;
    expect(service.spec.ports[0].targetPort).toBe("http");
    // nothing of the serving core is left behind
    expect(objects.map((o) => o.object.kind)).not.toContain("ConfigMap");
    expect(Object.keys(files).filter((f) => /^platform\/(serve\.yaml|models\/|Dockerfile)/.test(f))).toEqual(
      [],
    );
    expect(files["platform/README.md"]).toContain(args.join(" "));

    // the checkpoint: copied from the data bucket the Terraform creates, which the workload may read,
    // onto a node disk that holds it beside the images
    const [init] = pod.initContainers;
    expect(init.command.slice(0, 3)).toEqual(["aws", "s3", "sync"]);
    const source = init.command.at(-2);
    expect(source).toBe(weightsLocation(plan));
    const blocks = await terraformBlocks(files);
    const bucket = blocks.find((b) => b.address === "aws_s3_bucket.data")!.body.bucket;
    expect(source).toBe(`s3://${bucket}/models/chat-assistant-70b/`);
    expect(files["infra/terraform/aws/workload.tf"]).toContain(
      '"${aws_s3_bucket.data.arn}/models/chat-assistant-70b/*"',
    );
    const weights = pod.volumes.find((v: Any) => v.name === "weights").emptyDir.sizeLimit as string;
    expect(Number.parseInt(weights, 10)).toBeGreaterThanOrEqual(llm.checkpointGb);
    const eks = blocks.find((b) => b.address === "module.eks")!.body as Any;
    const disk = eks.eks_managed_node_groups.serving.block_device_mappings.xvda.ebs.volume_size;
    expect(disk).toBeGreaterThan(Number.parseInt(weights, 10));
    // and the disk is priced at that size
    const serving = plan.cost.items
      .flatMap((i) => i.lines)
      .find((l) => /node disk \(\d+ GB per node/.test(l.unit));
    expect(serving?.unit).toContain(`${disk} GB per node`);
  }, 120_000);

  it("autoscaling, canary gates and alerts read only what the engine declares it exports", async () => {
    for (const [name, id] of [
      ["chat-assistant-70b", "vllm"],
      ["gcp-llm-tgi", "tgi"],
    ] as const) {
      const { objects } = await renderedChartOf(name);
      const queries = queriesOf(objects);
      const kinds = new Set(objects.map((o) => o.object.kind));
      expect(kinds.has("ScaledObject"), name).toBe(true);
      expect(queries.length, name).toBeGreaterThan(3);
      const known = declared(ENGINES[id]);
      for (const query of queries)
        for (const metric of metricsIn(query)) expect(known, `${name}: ${query}`).toContain(metric);
      const triggers = (objects.find((o) => o.object.kind === "ScaledObject")!.object as Any).spec.triggers;
      // vLLM also scales on its KV cache; TGI exports no KV-cache gauge
      expect(triggers.length, name).toBe(ENGINES[id].metrics.kvCacheUsage ? 2 : 1);
    }
  }, 120_000);

  it("TGI where the team runs it: its launcher's flags, prefix caching by environment, the checkpoint from Cloud Storage", async () => {
    const { plan, objects } = await renderedChartOf("gcp-llm-tgi");
    const [container] = podOf(objects).containers;
    const llm = plan.capacity.llm!;
    expect(container.image).toBe(`${ENGINES.tgi.image.repository}:${ENGINES.tgi.image.tag}`);
    expect(flag(container.args, "--num-shard")).toBe(String(llm.tensorParallel));
    // Kubernetes sets HOSTNAME to the pod's name, which the launcher would bind to
    expect(flag(container.args, "--hostname")).toBe("0.0.0.0");
    expect(flag(container.args, "--max-total-tokens")).toBe(String(llm.contextTokens));
    expect(flag(container.args, "--max-input-tokens")).toBe(String(llm.contextTokens - llm.outputTokens));
    expect(container.env).toContainEqual({ name: "PREFIX_CACHING", value: "true" });
    const [init] = podOf(objects).initContainers;
    expect(init.command.join(" ")).toContain(`gcloud storage rsync --recursive ${weightsLocation(plan)}`);
  }, 120_000);

  it("on the team's own cluster the checkpoint is a claim the operator fills", async () => {
    const { objects } = await renderedChartOf("k8s-llm-vllm");
    const pod = podOf(objects);
    expect(pod.initContainers).toBeUndefined();
    expect(pod.volumes.find((v: Any) => v.name === "weights").persistentVolumeClaim).toEqual({
      claimName: "answers-k8s-weights",
      readOnly: true,
    });
  }, 120_000);
});

describe("what an LLM engine's plan claims", () => {
  it("batching, caching and fallback are the engine's, and a plan without an LLM keeps the serving core", async () => {
    const choices = (plan: Plan) => Object.fromEntries(plan.decisions.map((d) => [d.capability, d.choice]));
    const llm = choices(await planOf("chat-assistant-70b"));
    expect(llm["serving.batching"]).toBe("continuous");
    expect(llm["serving.caching"]).toBe("prefix-cache");
    expect(llm["reliability.fallback"]).toBe("none");
    const tabular = choices(await planOf("fraud-detection"));
    expect(tabular["serving.engine"]).toBe("onnx-core");
    expect(tabular["reliability.fallback"]).toBe("fallback-chain");
  });

  it("on AKS a 70B checkpoint takes a larger OS disk tier, priced as that tier", () => {
    const parsed = parseSpecValue(
      parseYaml(`metadata: { name: big-az }
useCase: { kind: llm-generation }
model: { framework: huggingface, format: safetensors, parametersMillions: 70000, architecture: llama-3-70b }
inference: { mode: realtime, latencyP99Ms: 30s, peakQps: 2, llm: { contextTokens: 4096, outputTokens: 300 } }
team: { size: 6 }
budget: { monthlyUsd: 200000, priority: performance }
cloud: { provider: azure }
`),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const plan = createPlan(parsed.spec);
    const checkpoint = plan.capacity.llm!.checkpointGb;
    expect(checkpoint).toBeGreaterThan(100);
    const pool = plan.inventory!.resources.find(
      (r) => r.address === "azurerm_kubernetes_cluster_node_pool.serving",
    )!;
    const disk = plan.inventory!.vars.servingDiskGb as number;
    expect(disk).toBeGreaterThan(128);
    const line = plan.cost.items
      .flatMap((i) => i.lines)
      .find((l) => l.resource === pool.address && /disk/.test(l.unit))!;
    expect(line.unit).toContain(`${disk} GiB`);
    expect(line.price).toMatch(/^premiumSsdP\d+Monthly$/);
    expect(line.price).not.toBe("premiumSsdP10Monthly");
  });
});

/** A stand-in for the engine's HTTP API (vLLM needs a GPU): health, one chat completion, /metrics. */
async function standIn(engine: LlmEngine, omit: string | null): Promise<{ server: Server; port: number }> {
  const m = engine.metrics;
  const lines = [
    `${m.waiting.name} 0`,
    `${m.running.name} 1`,
    ...(m.kvCacheUsage ? [`${m.kvCacheUsage.name} 0.1`] : []),
    ...[m.timeToFirstToken, m.interToken, m.requestLatency].flatMap((h) =>
      h ? [`${h.name}_bucket{le="+Inf"} 1`, `${h.name}_sum 0.1`, `${h.name}_count 1`] : [],
    ),
    `${m.requests.metric.name}{handler="/v1/chat/completions",method="POST",status="2xx"} 1`,
  ].filter((line) => !omit || !line.startsWith(omit));
  const server = createServer((req, res) => {
    if (req.url === engine.healthPath) return res.end();
    if (req.url === engine.metricsPath) return res.end(`${lines.join("\n")}\n`);
    if (req.url === engine.chatPath && req.method === "POST") {
      res.setHeader("content-type", "application/json");
      return res.end(JSON.stringify({ choices: [{ message: { role: "assistant", content: "ready" } }] }));
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function runSmoke(script: string, port: number): Promise<{ code: number; output: string }> {
  // kubectl port-forward is the cluster's: here the stand-in already listens on LOCAL_PORT
  const bin = mkdtempSync(join(tmpdir(), "stackwright-smoke-"));
  writeFileSync(join(bin, "kubectl"), "#!/bin/sh\nsleep 30\n");
  chmodSync(join(bin, "kubectl"), 0o755);
  return new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-c", script], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, LOCAL_PORT: String(port), SERVE_TOKEN: "" },
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("close", (code) => resolve({ code: code ?? -1, output }));
  });
}

describe("the deploy's smoke test of the engine", () => {
  it("runs in the first environment, passes against the engine's API and fails naming a missing series", async () => {
    const plan = await planOf("chat-assistant-70b");
    const files = Object.fromEntries(textEntries(generateAll(plan)));
    const deploy = parseYaml(files[".github/workflows/deploy.yml"]) as Any;
    const steps = Object.entries(deploy.jobs as Record<string, Any>).flatMap(([job, body]) =>
      (body.steps as Any[]).filter((s) => /^Smoke-test/.test(s.name ?? "")).map((s) => ({ job, step: s })),
    );
    expect(steps.map((s) => s.job)).toEqual(["deploy-staging"]);
    // no image is built: the pods run the engine's own
    expect(JSON.stringify(deploy.jobs.build)).not.toContain("docker/build-push-action");
    const script = steps[0].step.run as string;
    const engine = engineArgs(plan)!.engine;

    const ok = await standIn(engine, null);
    try {
      const run = await runSmoke(script, ok.port);
      expect(run.code, run.output).toBe(0);
    } finally {
      ok.server.close();
    }
    const missing = engine.metrics.kvCacheUsage!.name;
    const broken = await standIn(engine, missing);
    try {
      const run = await runSmoke(script, broken.port);
      expect(run.code).not.toBe(0);
      expect(run.output).toContain(`exports no ${missing}`);
    } finally {
      broken.server.close();
    }
  }, 60_000);
});
