/**
 * The plans the inventory, add-on and schema tests check: every example, and a matrix of specs the
 * examples do not cover (each cloud's cluster, serverless service and batch job paths).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { expect } from "vitest";
import { parse as parseYaml } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { planSpecFile } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { ChartOnDisk, type RenderedObject } from "../../src/validate/k8s.js";
import { ROOT } from "./cli.js";
import { tool } from "./tools.js";

/**
 * Whether an example (a name, or a file name in examples/) runs its model on devices (inference.mode
 * edge or embedded): its tree has platform/edge/ and no cloud side yet, so the tests of a served
 * platform, its image, its monitoring, its deploy workflow and its Terraform leave it out
 * (test/edge/ covers it).
 */
export function onDeviceExample(name: string): boolean {
  const file = name.endsWith(".yaml") ? name : `${name}.yaml`;
  return /^\s*mode:\s*(edge|embedded)\s*$/m.test(readFileSync(join(ROOT, "examples", file), "utf8"));
}

/** Every spec in examples/, by name (the committed trees in generated-examples/ are theirs). */
export const EXAMPLES = readdirSync(join(ROOT, "examples"))
  .filter((file) => file.endsWith(".yaml"))
  .map((file) => file.replace(/\.yaml$/, ""))
  .sort();

/** Plans the examples do not cover: each cloud's cluster, serverless service and batch job paths. */
export const MATRIX: Record<string, string> = {
  "aws-serverless-waf": `metadata: { name: tiny-api }
team: { size: 1 }
inference: { peakQps: 5 }
compliance: [pci-dss]
budget: { monthlyUsd: 3000 }
`,
  "aws-batch": `metadata: { name: nightly-aws }
team: { size: 1 }
inference: { mode: batch, latencyP99Ms: 4h, batch: { schedule: "0 3 * * *", rowsPerRun: 2000000 } }
`,
  "gcp-cluster-online-cmk": `metadata: { name: risk-gcp }
team: { size: 6 }
inference: { peakQps: 300, latencyP99Ms: 60 }
data: { featureFreshness: realtime }
compliance: [pci-dss, gdpr]
cloud: { provider: gcp }
budget: { monthlyUsd: 40000 }
`,
  "gcp-multi-region": `metadata: { name: payments-gcp, owner: payments-platform, contacts: [sre@example.com] }
team: { size: 8 }
inference: { peakQps: 800, averageQps: 300, latencyP99Ms: 60 }
data: { featureFreshness: realtime, volumeGbPerDay: 20 }
compliance: [pci-dss, soc2]
dataResidency: us
cloud: { provider: gcp, region: us-central1 }
availability: { targetPercent: 99.99, regions: [us-central1, us-east4], failover: active-active, rtoMinutes: 5, rpoMinutes: 15 }
budget: { monthlyUsd: 30000 }
`,
  "azure-multi-region": `metadata: { name: payments-az, owner: payments-platform, contacts: [sre@example.com] }
team: { size: 8 }
inference: { peakQps: 800, averageQps: 300, latencyP99Ms: 60 }
data: { featureFreshness: realtime, volumeGbPerDay: 20 }
compliance: [pci-dss, soc2]
dataResidency: us
cloud: { provider: azure, region: eastus2 }
availability: { targetPercent: 99.99, regions: [eastus2, centralus], failover: active-active, rtoMinutes: 5, rpoMinutes: 15 }
budget: { monthlyUsd: 30000 }
`,
  "gcp-serverless": `metadata: { name: tiny-gcp }
team: { size: 1 }
inference: { peakQps: 5 }
compliance: [soc2]
cloud: { provider: gcp }
deployment: { environments: [qa, staging, production] }
`,
  "azure-cluster-online": `metadata: { name: pricing }
team: { size: 6 }
inference: { peakQps: 300, latencyP99Ms: 60 }
data: { featureFreshness: realtime }
compliance: [soc2, gdpr]
cloud: { provider: azure }
budget: { monthlyUsd: 40000 }
`,
  "aws-gitops-cluster": `metadata: { name: ledger-gitops }
team: { size: 6 }
inference: { peakQps: 300, latencyP99Ms: 60 }
compliance: [pci-dss]
deployment: { access: gitops, repository: "https://github.com/example/ledger.git" }
budget: { monthlyUsd: 40000 }
`,
  "aws-flux-hipaa": `metadata: { name: records-flux }
team: { size: 6, existingTools: [flux] }
inference: { peakQps: 200, latencyP99Ms: 80 }
compliance: [hipaa]
deployment: { access: gitops, repository: "https://github.com/example/records.git" }
budget: { monthlyUsd: 30000 }
`,
  "gcp-hipaa-cluster": `metadata: { name: clinical-gcp }
team: { size: 5 }
inference: { peakQps: 200, latencyP99Ms: 80 }
compliance: [hipaa]
cloud: { provider: gcp }
budget: { monthlyUsd: 30000 }
`,
  "azure-serverless": `metadata: { name: tiny-azure }
team: { size: 1 }
inference: { peakQps: 5 }
compliance: [hipaa]
cloud: { provider: azure }
`,
  // LLM engines on the clouds the examples do not show: TGI (the team runs it) on GKE, vLLM on AKS,
  // vLLM on the team's own cluster (the checkpoint on a claim)
  "gcp-llm-tgi": `metadata: { name: answers-gcp }
useCase: { kind: llm-generation }
model: { framework: huggingface, format: safetensors, parametersMillions: 8000, architecture: llama-3-8b }
inference: { mode: realtime, latencyP99Ms: 10s, peakQps: 4, llm: { contextTokens: 4096, outputTokens: 300 } }
team: { size: 5, existingTools: [tgi] }
cloud: { provider: gcp }
budget: { monthlyUsd: 30000 }
`,
  "azure-llm-vllm": `metadata: { name: answers-az }
useCase: { kind: llm-generation }
model: { framework: huggingface, format: safetensors, parametersMillions: 8000, architecture: llama-3-8b }
inference: { mode: realtime, latencyP99Ms: 10s, peakQps: 4, llm: { contextTokens: 4096, outputTokens: 300 } }
team: { size: 5 }
cloud: { provider: azure }
budget: { monthlyUsd: 30000 }
`,
  "k8s-llm-vllm": `metadata: { name: answers-k8s }
useCase: { kind: llm-generation }
model: { framework: huggingface, format: safetensors, parametersMillions: 8000, architecture: llama-3-8b }
inference: { mode: realtime, latencyP99Ms: 10s, peakQps: 4, llm: { contextTokens: 4096, outputTokens: 300 } }
team: { size: 5 }
cloud: { provider: kubernetes }
budget: { monthlyUsd: 30000 }
`,
  // a team of three that needs a GPU on Google Cloud: a Vertex AI endpoint (HIPAA: its key is the customer's)
  "gcp-managed-endpoint": `metadata: { name: shelf-gcp, contacts: [vision@example.com] }
useCase: { kind: computer-vision }
model: { framework: pytorch, format: onnx, architecture: yolov8s }
inference: { mode: realtime, latencyP99Ms: 80, peakQps: 40 }
team: { size: 3 }
compliance: [hipaa]
cloud: { provider: gcp }
budget: { monthlyUsd: 20000 }
`,
  // the same on Azure: an Azure Machine Learning managed online endpoint
  "azure-managed-endpoint": `metadata: { name: shelf-azure, contacts: [vision@example.com] }
useCase: { kind: computer-vision }
model: { framework: pytorch, format: onnx, architecture: yolov8s }
inference: { mode: realtime, latencyP99Ms: 80, peakQps: 40 }
team: { size: 3 }
cloud: { provider: azure }
budget: { monthlyUsd: 20000 }
`,
  "azure-batch": `metadata: { name: nightly-azure }
team: { size: 1 }
inference: { mode: batch, latencyP99Ms: 4h, batch: { schedule: "0 3 * * *" } }
cloud: { provider: azure }
`,
};

export const CASES = [...EXAMPLES, ...Object.keys(MATRIX)];

export async function planOf(name: string): Promise<Plan> {
  if (EXAMPLES.includes(name)) return (await planSpecFile(join(ROOT, "examples", `${name}.yaml`))).plan;
  const path = join(process.env.TMPDIR ?? "/tmp", `inventory-${name}.yaml`);
  writeFileSync(path, MATRIX[name]);
  const { plan } = await planSpecFile(path);
  expect(
    plan.warnings.filter((w) => w.severity === "error"),
    name,
  ).toEqual([]);
  return plan;
}

export interface Block {
  file: string;
  /** `type.name` or `module.name` */
  address: string;
  /** the resource type, or `module:<source>` */
  kind: string;
  /** the block's body as the HCL parser gives it (references as `${a.b.c}` strings) */
  body: Record<string, unknown>;
}

/** Every resource and module block of the generated Terraform, parsed once with HashiCorp's parser. */
export async function terraformBlocks(files: Record<string, string>): Promise<Block[]> {
  const blocks: Block[] = [];
  for (const [file, text] of Object.entries(files)) {
    if (!/^infra\/terraform\/[^/]+\/(regions\/[^/]+\/|global\/)?[^/]+\.tf$/.test(file)) continue;
    const json = (await parseHcl(file, text)) as {
      resource?: Record<string, Record<string, Array<Record<string, unknown>>>>;
      module?: Record<string, Array<Record<string, unknown> & { source: string }>>;
    };
    for (const [type, named] of Object.entries(json.resource ?? {}))
      for (const [name, [body]] of Object.entries(named))
        blocks.push({ file, address: `${type}.${name}`, kind: type, body });
    for (const [name, [body]] of Object.entries(json.module ?? {}))
      blocks.push({ file, address: `module.${name}`, kind: `module:${body.source}`, body });
  }
  return blocks;
}

/** A plan's generated tree and its chart as real helm renders it (values over its values.yaml). */
export async function renderedChartOf(
  name: string,
  values?: Record<string, unknown>,
  at: { release: string; namespace: string } = { release: "release", namespace: "ml" },
): Promise<{ plan: Plan; files: Record<string, string>; objects: RenderedObject[] }> {
  const plan = await planOf(name);
  const files = Object.fromEntries(textEntries(generateAll(plan)));
  const base = Object.keys(files)
    .find((f) => /^deploy\/helm\/[^/]+\/Chart\.yaml$/.test(f))!
    .replace(/\/Chart\.yaml$/, "");
  const chart = new ChartOnDisk(files, base, tool("helm"));
  try {
    const rendered = await chart.template(
      at.release,
      at.namespace,
      values && { ...(parseYaml(files[`${base}/values.yaml`]) as Record<string, unknown>), ...values },
    );
    expect(rendered.problems, name).toEqual([]);
    return { plan, files, objects: rendered.objects };
  } finally {
    chart.close();
  }
}
