import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll as generateMixed } from "../../src/generate/index.js";
import { createPlan, planSpecFile } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { validateFileSet } from "../../src/validate/index.js";
import { UnsafePathError, writeFileSet } from "../../src/write/index.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { describeWith, itWith, tool } from "../helpers/tools.js";

const EXAMPLES = readdirSync(join(ROOT, "examples"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

/** The text files of a generation (the sample ONNX model is the only binary one). */
const generateAll = (...args: Parameters<typeof generateMixed>): Record<string, string> =>
  Object.fromEntries(textEntries(generateMixed(...args)));

describe("generated-examples/ are current", () => {
  it.each(EXAMPLES)("%s regenerates byte-identically (generate --check)", (file) => {
    const name = file.replace(/\.yaml$/, "");
    const result = runCli([
      "generate",
      "--spec",
      `examples/${file}`,
      "--out",
      `generated-examples/${name}`,
      "--check",
    ]);
    expect(result.stderr, result.stdout).toBe("");
    expect(result.code).toBe(0);
  });
});

describe("what each plan produces", () => {
  const files = async (file: string) => generateAll((await planSpecFile(join(ROOT, "examples", file))).plan);

  it("fraud detection (AWS, PCI, realtime, online store, canary)", async () => {
    const f = await files("fraud-detection.yaml");
    const tf = Object.keys(f).filter((p) => p.startsWith("infra/terraform/aws/"));
    expect(tf).toEqual(
      expect.arrayContaining([
        "infra/terraform/aws/cluster.tf",
        "infra/terraform/aws/kms.tf",
        "infra/terraform/aws/online-store.tf",
        "infra/terraform/aws/waf.tf",
        "infra/terraform/aws/audit.tf",
        "infra/terraform/aws/budget.tf",
      ]),
    );
    expect(tf).not.toContain("infra/terraform/aws/serverless.tf");
    expect(f["infra/terraform/aws/cluster.tf"]).not.toContain("AL2_x86_64_GPU");
    expect(f["infra/terraform/aws/audit.tf"]).toContain('mode = "COMPLIANCE"');
    expect(f["deploy/helm/fraud-detection/templates/rollout.yaml"]).toContain("kind: Rollout");
    const values = parseYaml(f["deploy/helm/fraud-detection/values.yaml"]);
    expect(values.canary.enabled).toBe(true);
    expect(values.canary.steps).toEqual([5, 25, 100]);
    expect(values.autoscaling.kind).toBe("hpa");
    // one serve.yaml: the chart's ConfigMap holds the platform's document; the cluster's Redis URL
    // reaches it through the variable it names, from the Secret the pod maps into it
    expect(values.serveConfig).toEqual(parseYaml(f["platform/serve.yaml"]));
    expect(values.serveConfig.features).toMatchObject({ store: "memory", urlEnv: "STACKWRIGHT_REDIS_URL" });
    expect(values.serveTokens).toEqual({ secretName: "fraud-detection-serve-tokens" });
    expect(values.onlineStore).toEqual({
      enabled: true,
      secretName: "fraud-detection-redis",
      key: "url",
      env: "STACKWRIGHT_REDIS_URL",
    });
    expect(Object.keys(f)).toEqual(
      expect.arrayContaining([
        ".github/workflows/ci.yml",
        ".github/workflows/deploy.yml",
        ".github/workflows/retrain.yml",
      ]),
    );
  });

  it("demand forecasting (GCP batch): scheduled job, no cluster, nothing always on", async () => {
    const f = await files("demand-forecasting.yaml");
    expect(f["infra/terraform/gcp/serverless.tf"]).toContain('resource "google_cloud_run_v2_job" "score"');
    expect(f["infra/terraform/gcp/serverless.tf"]).toContain('schedule  = "0 3 * * 1"');
    expect(f["infra/terraform/gcp/serverless.tf"]).not.toContain("google_cloud_run_v2_service");
    expect(Object.keys(f).some((p) => p.endsWith("cluster.tf"))).toBe(false);
    expect(Object.keys(f).some((p) => p.startsWith("deploy/helm/"))).toBe(false);
    expect(f["infra/terraform/gcp/budget.tf"]).toContain("threshold_percent = 0.8");
  });

  it("vision inspection (Azure, GPU, HIPAA): GPU node pool and GPU requests", async () => {
    const f = await files("vision-inspection.yaml");
    expect(f["infra/terraform/azure/cluster.tf"]).toContain(
      'node_taints = ["nvidia.com/gpu=true:NoSchedule"]',
    );
    const values = parseYaml(f["deploy/helm/vision-inspection/values.yaml"]);
    expect(values.gpu).toMatchObject({
      enabled: true,
      device: "cuda",
      resourceName: "nvidia.com/gpu",
      count: 1,
    });
    expect(values.gpu.tolerations[0].key).toBe("nvidia.com/gpu");
    expect(f["platform/Dockerfile.gpu"]).toContain("ENV ONNXRUNTIME_NODE_INSTALL=cuda12");
    expect(values.autoscaling.kind).toBe("keda");
    // the provider creates an immutability policy only Unlocked (or Disabled): it keeps the blobs
    // write-once; locking it is a later, deliberate step
    expect(f["infra/terraform/azure/audit.tf"]).toContain('state                         = "Unlocked"');
    expect(f["infra/terraform/azure/audit.tf"]).toContain("period_since_creation_in_days = 365");
  });

  it("streaming on an existing cluster: no Terraform at all, KEDA on consumer lag", async () => {
    const f = await files("streaming-anomaly-detector.yaml");
    expect(Object.keys(f).some((p) => p.startsWith("infra/"))).toBe(false);
    const values = parseYaml(f["deploy/helm/streaming-anomaly-detector/values.yaml"]);
    expect(values.mode).toBe("streaming");
    expect(values.autoscaling.kind).toBe("keda");
    expect(values.autoscaling.keda.kafka).toEqual({
      bootstrapServers: "kafka:9092",
      topic: "streaming-anomaly-detector-events",
    });
  });

  it("a small team with a small load gets serverless containers and no cluster", () => {
    const parsed = parseSpecValue({
      metadata: { name: "tiny" },
      team: { size: 1 },
      inference: { peakQps: 5 },
    });
    if (!parsed.ok) throw new Error("spec");
    const f = generateAll(createPlan(parsed.spec));
    expect(f["infra/terraform/aws/serverless.tf"]).toContain('resource "aws_ecs_service" "serving"');
    expect(Object.keys(f).some((p) => p.endsWith("cluster.tf") || p.startsWith("deploy/helm/"))).toBe(false);
  });
});

describe("validators refuse broken files", () => {
  it("HCL syntax, terraform fmt and dangling references", async () => {
    const problems = await validateFileSet({
      "infra/terraform/aws/a.tf":
        '# generated by stackwright — do not edit; change stackwright.yaml\nresource "aws_s3_bucket" "b" {\n',
      "infra/terraform/aws/b.tf":
        '# generated by stackwright — do not edit; change stackwright.yaml\nvariable "x" {\n    type = string\n}\n',
      "infra/terraform/aws/c.tf":
        '# generated by stackwright — do not edit; change stackwright.yaml\noutput "y" {\n  value = var.missing\n}\n\noutput "z" {\n  value = aws_s3_bucket.nowhere.id\n}\n',
    });
    const byValidator = (v: string) =>
      problems.filter((p) => p.validator === v).map((p) => `${p.file}: ${p.message}`);
    expect(byValidator("hcl")).toEqual([
      expect.stringMatching(/^infra\/terraform\/aws\/a\.tf: HCL: .*Unclosed configuration block/),
    ]);
    expect(byValidator("terraform-fmt")).toEqual([
      expect.stringMatching(/^infra\/terraform\/aws\/b\.tf: not in terraform fmt form/),
    ]);
    expect(byValidator("terraform-refs").sort()).toEqual([
      expect.stringContaining("reference aws_s3_bucket.nowhere is not declared"),
      expect.stringContaining("reference var.missing is not declared"),
    ]);
  });

  it("module inputs against the pinned module's vendored variables, node groups against their submodule", async () => {
    const header = "# generated by stackwright — do not edit; change stackwright.yaml\n";
    const problems = await validateFileSet({
      "infra/terraform/aws/m.tf": `${header}module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  name               = "x"
  kubernetes_version = "1.35"
  kubernetes_vesion  = "1.35"
  cluster_version    = "1.35"

  eks_managed_node_groups = {
    serving = {
      instance_types = ["m7i.large"]
      ami_typ        = "AL2023_x86_64_STANDARD"
    }
  }
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "4.0.0"
}
`,
    });
    expect(problems.filter((p) => p.validator === "terraform-modules").map((p) => p.message)).toEqual([
      // the v20 name of kubernetes_version
      expect.stringMatching(
        /^module\.eks: terraform-aws-modules\/eks\/aws 21\.19\.0 has no input cluster_version /,
      ),
      'module.eks: eks_managed_node_groups["serving"].ami_typ is not an input of its submodule in terraform-aws-modules/eks/aws 21.19.0',
      expect.stringMatching(
        /^module\.eks: terraform-aws-modules\/eks\/aws 21\.19\.0 has no input kubernetes_vesion \(https:\/\/github\.com\/terraform-aws-modules\/terraform-aws-eks\/blob\/bef29c4/,
      ),
      expect.stringMatching(
        /^module\.vpc: no vendored variable list for terraform-aws-modules\/vpc\/aws 4\.0\.0/,
      ),
    ]);
  });

  it("GitHub workflows through GitHub's parser and actionlint", async () => {
    const problems = await validateFileSet({
      ".github/workflows/x.yml":
        "# generated by stackwright — do not edit; change stackwright.yaml\nname: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n  b:\n    runs-on: ubuntu-24.04\n    needs: [ghost]\n    steps:\n      - run: echo hi\n",
    });
    // both see it: GitHub's parser, and actionlint with the line it is on
    expect(problems.map((p) => `${p.validator}: ${p.message}`)).toEqual([
      expect.stringContaining(
        "github-actions: .github/workflows/x.yml (Line: 11, Col: 13): Job 'b' depends on unknown job 'ghost'",
      ),
      expect.stringContaining('actionlint: job "b" needs job "ghost" which does not exist'),
    ]);
    expect(problems.find((p) => p.validator === "actionlint")?.line).toBe(9); // the job that needs it
  });

  // the chart's validators (helm lint and template, the schemas, the cross-object checks) are tried
  // with templates broken on purpose in test/generate/helm.test.ts

  it("YAML, JSON and the generated-file header", async () => {
    const problems = await validateFileSet({
      "a.yaml": "# generated by stackwright — do not edit; change stackwright.yaml\nkey: [unclosed\n",
      "b.json": "{nope}",
      "c.yaml": "key: value\n",
    });
    expect(problems.map((p) => p.validator).sort()).toEqual(["header", "json", "yaml"]);
  });
});

describe("hostile spec text cannot break out of any target", () => {
  const hostile =
    'evil" ${file("/etc/passwd")} %{ if true }x{{ .Values }}\n- injected: true\n| md | ../../../etc `tick` <script>';
  const parsed = parseSpecValue({
    metadata: { name: hostile, owner: hostile },
    useCase: { kind: "tabular-classification", description: hostile },
    features: { entityKey: hostile, fields: [{ name: "amount" }] },
    compliance: ["pci-dss"],
    budget: { monthlyUsd: 50000 },
    data: { featureFreshness: "realtime" },
    team: { size: 6 },
    inference: { peakQps: 800 },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const files = generateAll(createPlan(parsed.spec));

  it("every file still validates (HCL parses, references resolve, YAML/JSON parse, workflows parse, k8s schemas)", async () => {
    expect(await validateFileSet(files)).toEqual([]);
  });

  it("paths stay inside the tree and names are normalized", () => {
    for (const path of Object.keys(files)) {
      expect(path).not.toMatch(/\.\.|^\/|\s|["`<>|$]/);
    }
    expect(Object.keys(files).some((p) => /^deploy\/helm\/evil-[a-z0-9-]+\/Chart\.yaml$/.test(p))).toBe(true);
  });

  it("the hostile text appears in HCL only inside escaped string literals, never as an interpolation", async () => {
    for (const [path, text] of Object.entries(files).filter(([p]) => p.endsWith(".tf"))) {
      // every template sequence from the spec is escaped ($${ / %%{), so none is evaluated
      expect(text, path).not.toMatch(/(^|[^$])\$\{file\(/);
      expect(text, path).not.toMatch(/(^|[^%])%\{ if true/);
      await expect(parseHcl(path, text)).resolves.toBeTypeOf("object");
    }
    expect(files["infra/terraform/aws/main.tf"]).toContain('$${file(\\"/etc/passwd\\")}');
  });

  it("YAML values keep the text as one scalar (no injected keys)", () => {
    for (const [path, text] of Object.entries(files).filter(
      ([p]) => /\.(ya?ml)$/.test(p) && !p.includes("/templates/"),
    )) {
      for (const doc of parseAllDocuments(text))
        expect(JSON.stringify(doc.toJS()), path).not.toContain('"injected":true');
    }
  });
});

describe("writer", () => {
  const files = { "a/b.txt": "one\n", "c.txt": "two\n" };
  const options = { specHash: "sha256:x", ruleSetHash: "sha256:y" };

  it("refuses paths outside the output directory and writes nothing then", () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-write-"));
    for (const bad of ["../escape.txt", "/etc/passwd", "a/../../x", "a\\b", ""]) {
      expect(() => writeFileSet(dir, { ...files, [bad]: "x" }, options), bad).toThrow(UnsafePathError);
    }
    expect(readdirSync(dir)).toEqual([]);
    const outside = mkdtempSync(join(tmpdir(), "sw-outside-"));
    symlinkSync(outside, join(dir, "link"));
    expect(() => writeFileSet(dir, { "link/x.txt": "x" }, options)).toThrow(/links outside/);
    expect(existsSync(join(outside, "x.txt"))).toBe(false);
  });

  it("records hashes in the lock, leaves hand-edited files alone without --force, removes stale generated files", () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-write-"));
    const first = writeFileSet(dir, files, options);
    expect(first.written.sort()).toEqual(["a/b.txt", "c.txt"]);
    const lock = JSON.parse(readFileSync(join(dir, "stackwright.lock.json"), "utf8"));
    expect(Object.keys(lock.files)).toEqual(["a/b.txt", "c.txt"]);
    expect(lock.files["c.txt"]).toMatch(/^sha256:/);
    writeFileSync(join(dir, "c.txt"), "edited by hand\n");
    const refused = writeFileSet(dir, { ...files, "c.txt": "three\n" }, options);
    expect(refused.handEdited).toEqual(["c.txt"]);
    expect(readFileSync(join(dir, "c.txt"), "utf8")).toBe("edited by hand\n");
    const forced = writeFileSet(dir, { "a/b.txt": "one\n", "c.txt": "three\n" }, { ...options, force: true });
    expect(forced.written).toEqual(["c.txt"]);
    const pruned = writeFileSet(dir, { "c.txt": "three\n" }, options);
    expect(pruned.removed).toEqual(["a/b.txt"]);
    expect(existsSync(join(dir, "a/b.txt"))).toBe(false);
  });

  it("--check reports changed, missing and extra files and writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-write-"));
    // extra.txt was generated last time and is no longer produced; notes.md was never generated
    writeFileSet(dir, { ...files, "extra.txt": "?\n" }, options);
    writeFileSync(join(dir, "c.txt"), "twO\n");
    rmSync(join(dir, "a/b.txt"));
    writeFileSync(join(dir, "notes.md"), "the user's own file, next to generated ones (--out .)\n");
    const result = writeFileSet(dir, files, { ...options, check: true });
    expect(result.drift.map((d) => `${d.kind} ${d.path}`)).toEqual([
      "missing a/b.txt",
      "changed c.txt",
      "extra extra.txt",
      // the lock records the files it wrote: a file no longer produced changes it too
      "changed stackwright.lock.json",
    ]);
    expect(result.drift.find((d) => d.path === "c.txt")?.diff).toContain("-twO\n+two");
    expect(readFileSync(join(dir, "c.txt"), "utf8")).toBe("twO\n");
  });
});

describe("stackwright generate (CLI)", () => {
  it("writes the tree, is byte-identical on a second run, and --check catches a one-byte change by name", () => {
    const out = mkdtempSync(join(tmpdir(), "sw-gen-"));
    const first = runCli(["generate", "--spec", "examples/fraud-detection.yaml", "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/93 written, 0 unchanged/);
    const snapshot = readFileSync(join(out, "infra/terraform/aws/cluster.tf"), "utf8");
    const second = runCli(["generate", "--spec", "examples/fraud-detection.yaml", "--out", out]);
    expect(second.stdout).toMatch(/0 written, 93 unchanged/);
    expect(readFileSync(join(out, "infra/terraform/aws/cluster.tf"), "utf8")).toBe(snapshot);
    expect(
      runCli(["generate", "--spec", "examples/fraud-detection.yaml", "--out", out, "--check"]).code,
    ).toBe(0);
    const target = join(out, "docs/adr/0001-serving-mode-realtime.md");
    const text = readFileSync(target, "utf8");
    writeFileSync(target, text.replace("realtime", "realtimE"));
    const check = runCli(["generate", "--spec", "examples/fraud-detection.yaml", "--out", out, "--check"]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain("changed: docs/adr/0001-serving-mode-realtime.md");
    expect(check.stdout).toMatch(/^-.*realtimE/m);
    const refused = runCli(["generate", "--spec", "examples/fraud-detection.yaml", "--out", out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("docs/adr/0001-serving-mode-realtime.md");
    // four generates of the largest example, each validating with real helm: about 6 s apiece alone,
    // several times that on a loaded 2-core machine
  }, 240_000);

  it("refuses a spec with contradictions, writing nothing", () => {
    const out = join(mkdtempSync(join(tmpdir(), "sw-gen-")), "out");
    const spec = join(mkdtempSync(join(tmpdir(), "sw-spec-")), "s.yaml");
    writeFileSync(spec, "metadata: {name: c}\ninference: {mode: batch, latencyP99Ms: 20}\n");
    const result = runCli(["generate", "--spec", spec, "--out", out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("BATCH_WITH_TIGHT_LATENCY");
    expect(existsSync(out)).toBe(false);
  });

  it("copies of the committed examples check clean from another directory", () => {
    const copy = mkdtempSync(join(tmpdir(), "sw-copy-"));
    cpSync(join(ROOT, "generated-examples/demand-forecasting"), copy, { recursive: true });
    expect(
      runCli(["generate", "--spec", "examples/demand-forecasting.yaml", "--out", copy, "--check"]).code,
    ).toBe(0);
  });
});

describe("the runnable platform (platform/)", () => {
  itWith(
    ["promtool"],
    "serve.yaml, a sample model with reference histograms, a Dockerfile and monitoring as code",
    async () => {
      const { plan } = await planSpecFile(join(ROOT, "examples/fraud-detection.yaml"));
      const files = generateMixed(plan);
      const serveYaml = parseYaml(String(files["platform/serve.yaml"]));
      expect(serveYaml.models[0]).toEqual({
        name: "fraud-detection",
        path: "models/fraud-detection",
      });
      // the plan keeps a fallback chain: its fallback model is generated and listed
      expect(serveYaml.models[1]).toEqual({
        name: "fraud-detection-fallback",
        path: "models/fraud-detection-fallback",
      });
      expect(serveYaml.batching.maxBatchSize).toBe(16);
      const model = files["platform/models/fraud-detection/1/model.onnx"];
      expect(model).toBeInstanceOf(Uint8Array);
      const meta = parseYaml(String(files["platform/models/fraud-detection/1/model.yaml"]));
      expect(meta.features).toEqual([
        "amount",
        "merchant_risk",
        "card_txn_count_1h",
        "card_amount_avg_30d",
        "distance_from_home_km",
        "is_card_present",
        "hour_of_day",
        "device_change_7d",
      ]);
      expect(meta.reference.amount.fractions.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 2);
      expect(generateMixed(plan)["platform/models/fraud-detection/1/model.onnx"]).toEqual(model);
      const rulesPath = join(mkdtempSync(join(tmpdir(), "sw-rules-")), "alerts.rules.yaml");
      writeFileSync(rulesPath, String(files["platform/monitoring/alerts.rules.yaml"]));
      const promtool = spawnSync(tool("promtool"), ["check", "rules", rulesPath], { encoding: "utf8" });
      expect(promtool.status, promtool.stdout + promtool.stderr).toBe(0);
      expect(promtool.stdout).toContain("SUCCESS: 6 rules found");
      expect(String(files["platform/monitoring/alerts.rules.yaml"])).toContain("> 0.05"); // the 50 ms SLO, in seconds
      const dashboard = JSON.parse(String(files["platform/monitoring/dashboard.json"]));
      expect(dashboard.panels.length).toBeGreaterThan(4);
    },
  );

  it("the sample model is honest: stage sample, histograms from each feature's type and range, never promoted", async () => {
    const { plan } = await planSpecFile(join(ROOT, "examples/fraud-detection.yaml"));
    const files = generateAll(plan);
    const meta = parseYaml(String(files["platform/models/fraud-detection/1/model.yaml"]));
    expect(meta.stage).toBe("sample");
    // a boolean has two bins (0 and 1); a bounded integer's edges stay inside its range
    expect(meta.reference.is_card_present.fractions).toHaveLength(2);
    expect(meta.reference.is_card_present.edges).toEqual([1]);
    for (const edge of meta.reference.hour_of_day.edges)
      expect(edge >= 0 && edge <= 23, String(edge)).toBe(true);
    for (const edge of meta.reference.merchant_risk.edges)
      expect(edge >= 0 && edge <= 1, String(edge)).toBe(true);
    const deploy = parseYaml(String(files[".github/workflows/deploy.yml"]));
    const guard = deploy.jobs["deploy-production"].steps.find(
      (s: { name?: string }) => s.name === "Refuse to release a sample model",
    );
    expect(guard.run).toContain("stage: sample");
    // the guard is a real shell step: it fails on the generated tree and passes once a trained model replaces it
    const dir = mkdtempSync(join(tmpdir(), "sw-guard-"));
    mkdirSync(join(dir, "platform/models/m/1"), { recursive: true });
    writeFileSync(
      join(dir, "platform/models/m/1/model.yaml"),
      String(files["platform/models/fraud-detection/1/model.yaml"]),
    );
    expect(spawnSync("bash", ["-e", "-c", guard.run], { cwd: dir }).status).toBe(1);
    writeFileSync(join(dir, "platform/models/m/1/model.yaml"), "stage: production\n");
    expect(spawnSync("bash", ["-e", "-c", guard.run], { cwd: dir }).status).toBe(0);
  });

  it("the Dockerfile validator refuses unpinned images, single stages and root", async () => {
    const problems = await validateFileSet({
      "platform/Dockerfile":
        "# generated by stackwright — do not edit; change stackwright.yaml\nFROM node:latest\nRUN true\n",
    });
    expect(problems.map((p) => p.message).sort()).toEqual([
      "base image node:latest is not pinned to a version",
      "expected a multi-stage build",
      "the final stage must run as a non-root USER",
    ]);
  });
});

describeWith(["python3"], "feature store definitions and retraining pipelines", () => {
  const compilePython = (path: string, text: string) => {
    const dir = mkdtempSync(join(tmpdir(), "sw-py-"));
    const file = join(dir, path.split("/").pop() ?? "x.py");
    writeFileSync(file, text);
    return spawnSync(tool("python3"), ["-m", "py_compile", file], { encoding: "utf8" });
  };

  it.each(EXAMPLES)("%s: the files the plan calls for exist and parse with their tools", async (file) => {
    const { plan } = await planSpecFile(join(ROOT, "examples", file));
    const files = generateAll(plan);
    const store = plan.decisions.find((d) => d.capability === "features.store")?.choice;
    expect("platform/features/feature_store.yaml" in files).toBe(store !== "none");
    // an on-device plan's training side is not generated yet (EDGE_CLOUD_SIDE_NOT_BUILT): no pipeline
    if (plan.decisions.some((d) => d.capability === "serving.runtime" && d.choice === "on-device")) {
      expect(Object.keys(files).filter((p) => p.startsWith("platform/pipelines/"))).toEqual([]);
      return;
    }
    const orchestration = plan.decisions.find((d) => d.capability === "orchestration")?.choice;
    const pipelines = Object.keys(files).filter(
      (p) => p.startsWith("platform/pipelines/") && p !== "platform/pipelines/requirements.txt",
    );
    expect(pipelines).toHaveLength(1);
    // the Airflow DAGs name the versions they are written for
    expect("platform/pipelines/requirements.txt" in files).toBe(orchestration === "airflow");
    if (orchestration === "argo-workflows") {
      expect(pipelines[0]).toBe("platform/pipelines/retrain.yaml");
      // Argo Workflows 4 takes `schedules` (a list); the single `schedule` is gone
      const crons = parseAllDocuments(String(files[pipelines[0]]))
        .map((d) => d.toJSON())
        .filter((d) => d?.kind === "CronWorkflow");
      for (const cron of crons) {
        expect(cron.spec.schedule, cron.metadata.name).toBeUndefined();
        expect(cron.spec.schedules, cron.metadata.name).toEqual([expect.stringMatching(/\S+( \S+){4}|@\w+/)]);
      }
    }
    if (orchestration === "airflow") expect(pipelines[0]).toMatch(/_retrain\.py$/);
    if (orchestration === "managed-scheduler") expect(pipelines[0]).toBe("platform/pipelines/retrain.sh");
    for (const [path, text] of Object.entries(files)) {
      if (path.endsWith(".py")) {
        const r = compilePython(path, text);
        expect(r.status, `${path}: ${r.stderr}`).toBe(0);
      }
      if (path.endsWith(".sh")) expect(spawnSync("bash", ["-n"], { input: text }).status, path).toBe(0);
    }
    if (orchestration === "argo-workflows") {
      const docs = String(files["platform/pipelines/retrain.yaml"])
        .split(/^---$/m)
        .map((d) => parseYaml(d));
      expect(docs[0].kind).toBe("WorkflowTemplate");
      expect(docs[0].spec.templates[0].dag.tasks.map((t: { name: string }) => t.name)).toEqual([
        "train",
        "evaluate",
        "register",
        "gate",
      ]);
    }
  });

  it("hostile feature names and descriptions stay valid Python", () => {
    const parsed = parseSpecValue({
      metadata: { name: "py" },
      data: { featureFreshness: "realtime" },
      features: {
        entityKey: "class",
        fields: [{ name: 'x")\nimport os', type: "float", description: '"""\nos.system("rm -rf /")' }],
      },
    });
    if (!parsed.ok) throw new Error("spec");
    const files = generateAll(createPlan(parsed.spec));
    const r = compilePython("features.py", files["platform/features/features.py"]);
    expect(r.status, r.stderr).toBe(0);
    expect(files["platform/features/features.py"]).not.toMatch(/^import os/m);
  });
});
