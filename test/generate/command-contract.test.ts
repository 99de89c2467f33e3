/**
 * The command contract: every stackwright command line a generated tree runs — the chart's containers
 * rendered by real helm in every mode, the Dockerfiles' CMD, the Argo and Airflow score jobs, the
 * serverless jobs in Terraform and the CI workflows' steps — parsed by the CLI's own parser, with the
 * paths it names present in the image layout, object-store locations in the buckets the tree's
 * Terraform creates, and the credentials their scheme needs in the job's environment; exactly one
 * scheduler starts the score job. The CI drift check is also run for real in the generated tree. Every example, plus batch and streaming specs of
 * this test's own (own cluster with Airflow, AWS and Azure serverless jobs, streaming on Azure).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { parseCommandLine } from "../../src/cli/main.js";
import { ENGINES } from "../../src/generate/engines.js";
import { PLATFORM_DIR_IN_IMAGE } from "../../src/generate/platform/serve-config.js";
import { parseLocation } from "../../src/util/object-location.js";
import { ChartOnDisk, chartsIn } from "../../src/validate/k8s.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { tool } from "../helpers/tools.js";

/** One command line as a job runs it, where it was found, and the environment names the job sets. */
interface CommandLine {
  where: string;
  argv: string[];
  /** the environment variable names the job defines (undefined: not known from this source) */
  env?: string[];
  /** relative paths resolve against the repository root (CI) instead of the image */
  inRepository?: boolean;
  /** a scheduler starts it (an unsuspended CronJob, a CronWorkflow, a scheduled DAG or cloud job) */
  scheduled?: boolean;
  /** the chart's mode it was rendered in ("of its values" for the chart's own); undefined elsewhere */
  mode?: string;
}

const EXAMPLES = readdirSync(join(ROOT, "examples"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

/** Specs of this test's own, each an example with a few fields changed. */
const OWN: Array<{ name: string; from: string; patch: (spec: string) => string }> = [
  {
    name: "batch-own-cluster-airflow",
    from: "demand-forecasting.yaml",
    patch: (s) =>
      s
        .replace("name: demand-forecasting", "name: nightly-churn")
        .replace("provider: gcp", "provider: kubernetes")
        .replace("existingTools: []", "existingTools: [airflow]"),
  },
  {
    name: "batch-aws-serverless",
    from: "demand-forecasting.yaml",
    patch: (s) =>
      s
        .replace("name: demand-forecasting", "name: claims-scoring")
        .replace("provider: gcp\n  region: us-central1", "provider: aws\n  region: eu-west-1")
        .replace("sources: [bigquery, gcs]", "sources: [s3]"),
  },
  {
    name: "batch-azure-serverless",
    from: "demand-forecasting.yaml",
    patch: (s) =>
      s
        .replace("name: demand-forecasting", "name: credit-limits")
        .replace("provider: gcp\n  region: us-central1", "provider: azure\n  region: westeurope")
        .replace("sources: [bigquery, gcs]", "sources: [blob]"),
  },
  {
    name: "streaming-azure",
    from: "streaming-anomaly-detector.yaml",
    patch: (s) =>
      s
        .replace(/name: streaming-anomaly-detector/, "name: meter-anomalies")
        .replace(/provider: \w+\n {2}region: [\w-]+/, "provider: azure\n  region: westeurope"),
  },
];

/** Writes a spec into a fresh repository folder as stackwright.yaml and generates the tree beside it. */
function generateTree(spec: string): { dir: string; files: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "sw-contract-"));
  writeFileSync(join(dir, "stackwright.yaml"), spec);
  const result = runCli(["generate", "--spec", "stackwright.yaml", "--out", "."], { cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith(".onnx")) files[path] = readFileSync(join(dir, path), "utf8");
    }
  };
  walk("");
  return { dir, files };
}

const servingImage = (image: unknown) =>
  typeof image === "string" && /\/[a-z0-9-]+(:|$)/.test(image) && !/-train(:|$)/.test(image);

function envNames(env: unknown): string[] {
  return Array.isArray(env) ? env.map((e) => String((e as { name: string }).name)) : [];
}

/** Command lines of the containers the chart renders, in its own mode and in every other. */
async function chartCommandLines(files: Record<string, string>): Promise<CommandLine[]> {
  const out: CommandLine[] = [];
  for (const name of chartsIn(files)) {
    const chart = new ChartOnDisk(files, `deploy/helm/${name}`, tool("helm"));
    try {
      // its own mode and every other its values schema offers (an LLM engine's: realtime only)
      const offered = (JSON.parse(files[`deploy/helm/${name}/values.schema.json`]) as Record<string, any>)
        .properties.mode.enum as string[];
      for (const mode of [undefined, ...offered]) {
        const { objects, problems } = await chart.template(name, name, mode ? { mode } : undefined);
        expect(problems).toEqual([]);
        for (const { object } of objects) {
          const spec = (object as { spec?: any }).spec;
          const pod =
            object.kind === "CronJob" ? spec?.jobTemplate?.spec?.template?.spec : spec?.template?.spec;
          for (const c of pod?.containers ?? []) {
            // an LLM engine's container runs the engine's own command line (src/generate/engines.ts)
            if (Object.values(ENGINES).some((e) => String(c.image).startsWith(`${e.image.repository}:`)))
              continue;
            out.push({
              where: `chart ${name} (mode ${mode ?? "of its values"}) ${object.kind}/${c.name}`,
              argv: c.args,
              env: envNames(c.env),
              scheduled: object.kind === "CronJob" && spec.suspend !== true,
              mode: mode ?? "of its values",
            });
          }
        }
      }
    } finally {
      chart.close();
    }
  }
  return out;
}

function dockerfileCommandLines(files: Record<string, string>): CommandLine[] {
  return Object.entries(files)
    .filter(([path]) => /^platform\/Dockerfile/.test(path))
    .map(([path, text]) => {
      const cmd = /^CMD (\[.*\])$/m.exec(text);
      expect(cmd, `${path} has an exec-form CMD`).not.toBeNull();
      return { where: `${path} CMD`, argv: JSON.parse(cmd![1]) as string[] };
    });
}

function argoCommandLines(files: Record<string, string>): CommandLine[] {
  const out: CommandLine[] = [];
  for (const [path, text] of Object.entries(files)) {
    if (!/^platform\/pipelines\/.*\.yaml$/.test(path)) continue;
    for (const doc of parseAllDocuments(text)) {
      const object = doc.toJS() as any;
      const templates = [
        ...(object?.spec?.templates ?? []),
        ...(object?.spec?.workflowSpec?.templates ?? []),
      ];
      for (const t of templates)
        if (t.container && servingImage(t.container.image))
          out.push({
            where: `${path} ${object.kind}/${t.name}`,
            argv: [...(t.container.command ?? []), ...(t.container.args ?? [])],
            env: envNames(t.container.env),
            scheduled: object.kind === "CronWorkflow",
          });
    }
  }
  return out;
}

/** KubernetesPodOperator calls read with python3's own parser (ast), literal arguments evaluated. */
function airflowCommandLines(files: Record<string, string>): CommandLine[] {
  const out: CommandLine[] = [];
  const script = `
import ast, json, sys
tree = ast.parse(sys.stdin.read())
calls = []
scheduled_lines = set()
for node in ast.walk(tree):
    if isinstance(node, ast.With):
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "DAG":
                kw = {k.arg: k.value for k in call.keywords}
                if not (isinstance(kw.get("schedule"), ast.Constant) and kw["schedule"].value is None):
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Call):
                            scheduled_lines.add(inner.lineno)
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "KubernetesPodOperator":
        kw = {k.arg: k.value for k in node.keywords}
        secrets = []
        for s in getattr(kw.get("secrets"), "elts", []):
            secrets.append(ast.literal_eval(s.args[1]))
        calls.append({"task": ast.literal_eval(kw["task_id"]), "image": ast.literal_eval(kw["image"]),
                      "arguments": ast.literal_eval(kw["arguments"]), "secrets": secrets,
                      "scheduled": node.lineno in scheduled_lines})
print(json.dumps(calls))
`;
  for (const [path, text] of Object.entries(files)) {
    if (!/^platform\/pipelines\/.*\.py$/.test(path)) continue;
    const result = spawnSync("python3", ["-c", script], { input: text, encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    for (const call of JSON.parse(result.stdout) as Array<Record<string, any>>)
      if (servingImage(call.image))
        out.push({
          where: `${path} task ${call.task}`,
          argv: call.arguments,
          env: call.secrets,
          scheduled: call.scheduled,
        });
  }
  return out;
}

/** The serverless service's and job's command lines: `command`/`args` lists in the .tf files. */
function terraformCommandLines(files: Record<string, string>): CommandLine[] {
  const out: CommandLine[] = [];
  for (const [path, text] of Object.entries(files)) {
    if (!/^infra\/terraform\/.*\.tf$/.test(path)) continue;
    for (const m of text.matchAll(/^\s*(command|args)\s*=\s*(\[.*\])\s*$/gm)) {
      // a provider's credential helper (the helm provider's exec), not a command line of the platform
      const before = text.slice(0, m.index);
      if (before.lastIndexOf('\nprovider "') > before.lastIndexOf("\n}")) continue;
      const argv = JSON.parse(m[2].replaceAll("$${", "${")) as string[];
      if (argv[0] === "CMD-SHELL" || argv[0] === "CMD") continue; // a health check
      // the env names of the block around the list (Cloud Run's env { name = ... }, Container Apps' env)
      const block = text.slice(m.index!, text.indexOf("\n    }", m.index!) + 1);
      const env = [...block.matchAll(/env\s*{\s*name\s*=\s*"([^"]+)"/g)].map((e) => e[1]);
      // the score job is started by the cloud's scheduler (EventBridge, Cloud Scheduler, Container Apps' trigger)
      out.push({ where: `${path} ${m[1]}`, argv, env, scheduled: argv[0] === "score" });
    }
    // a score job per environment: its command line sits in the environment's entry of
    // local.deploy_environments, and the job resource runs `each.value.score_command`; only
    // production's is scheduled
    for (const m of text.matchAll(/^\s*score_command\s*=\s*(\[.*\])\s*$/gm)) {
      const argv = JSON.parse(m[1].replaceAll("$${", "${")) as string[];
      const entry = text.slice(text.lastIndexOf("= {", m.index!), m.index!);
      const production = /\bproduction\s*=\s*true\b/.test(entry);
      const runner = Object.entries(files).find(
        ([p, t]) => /^infra\/terraform\/.*\.tf$/.test(p) && t.includes("= each.value.score_command"),
      );
      if (!runner) throw new Error(`${path}: score_command is run by no resource`);
      const [runnerPath, runnerText] = runner;
      const at = runnerText.indexOf("= each.value.score_command");
      const resource = runnerText.slice(
        runnerText.lastIndexOf("\nresource ", at),
        runnerText.indexOf("\n}", at),
      );
      const env = [...resource.matchAll(/env\s*{\s*name\s*=\s*"([^"]+)"/g)].map((e) => e[1]);
      out.push({
        where: `${path} score_command (${production ? "production" : "pre-production"}, run by ${runnerPath})`,
        argv,
        env,
        scheduled: production,
      });
    }
  }
  return out;
}

/** A shell line's words (single and double quotes; no expansion is needed for these lines). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

function ciCommandLines(files: Record<string, string>): CommandLine[] {
  const out: CommandLine[] = [];
  const outputs = terraformEnvironmentVariables(files);
  for (const [path, text] of Object.entries(files)) {
    if (!/^\.github\/workflows\/.*\.ya?ml$/.test(path)) continue;
    const workflow = parseYaml(text) as {
      jobs: Record<
        string,
        {
          env?: Record<string, string>;
          steps?: Array<{ run?: string; name?: string; env?: Record<string, string> }>;
        }
      >;
    };
    for (const [job, { steps = [], env: jobEnv = {} }] of Object.entries(workflow.jobs))
      for (const step of steps) {
        // a variable of the job or step: the value its GitHub variable gets from the Terraform's output
        // github_environment_variables; the runner's own and a release version, as they look
        const env = { ...jobEnv, ...step.env };
        const value = (name: string): string | undefined => {
          const from = /^\$\{\{ vars\.(\w+) \}\}$/.exec(env[name] ?? "")?.[1];
          if (from) return outputs[from];
          if (name === "RUNNER_TEMP") return "/home/runner/work/_temp";
          if (name === "GITHUB_RUN_NUMBER") return "41";
          if (/^version$/i.test(name)) return "2026.12.04-1.1";
          return undefined;
        };
        for (const line of (step.run ?? "").split("\n")) {
          const words = shellWords(line).map((w) =>
            w.replace(/\$(\w+)/g, (ref, name: string) => value(name) ?? ref),
          );
          const at = words.indexOf("stackwright");
          if (at >= 0 && words[at - 1] !== "--package")
            out.push({
              where: `${path} ${job}: ${step.name ?? line}`,
              argv: words.slice(at + 1),
              inRepository: true,
            });
        }
      }
  }
  return out;
}

/**
 * The values the Terraform's output github_environment_variables gives (zipmap of names and values),
 * with the buckets' names resolved: the variable's default name and a sample account ID.
 */
function terraformEnvironmentVariables(files: Record<string, string>): Record<string, string> {
  const text = terraformText(files);
  const zip = /zipmap\(\[([^\]]*)\], \[([^\]]*)\]\)/.exec(text);
  if (!zip) return {};
  const names = [...zip[1]!.matchAll(/"(\w+)"/g)].map((m) => m[1]!);
  const values = zip[2]!
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  return Object.fromEntries(names.map((n, i) => [n, resolveHcl(text, values[i]!)]));
}

const SAMPLE_ACCOUNT = "123456789012";

/** An HCL string with the interpolations a bucket name uses resolved (var.name, the account, a bucket's ID). */
function resolveHcl(text: string, expression: string): string {
  const name = /variable "name" \{[^}]*?default\s*=\s*"([^"]+)"/.exec(text)?.[1] ?? "";
  return expression
    .replace(/^"|"$/g, "")
    .replace(/\$\{aws_s3_bucket\.(\w+)\.id\}/g, (_, id: string) => bucketName(text, id))
    .replace(/\$\{azurerm_storage_account\.(\w+)\.name\}/g, (_, id: string) => azureAccountName(text, id))
    .replace(/\$\{azurerm_storage_container\.(\w+)\.name\}/g, (_, id: string) => azureContainerName(text, id))
    .replace(/\$\{var\.name\}/g, name)
    .replace(/\$\{local\.account_id\}/g, SAMPLE_ACCOUNT);
}

function bucketName(text: string, id: string): string {
  const m = new RegExp(`resource "aws_s3_bucket" "${id}" \\{[^}]*?\\n\\s*bucket\\s*=\\s*"([^"]+)"`).exec(
    text,
  );
  return m ? resolveHcl(text, m[1]!) : `<no aws_s3_bucket.${id}>`;
}

/** A storage account's name: its variable's default. */
function azureAccountName(text: string, id: string): string {
  const variable = new RegExp(
    `resource "azurerm_storage_account" "${id}" \\{[^}]*?\\n\\s*name\\s*=\\s*var\\.(\\w+)`,
  ).exec(text)?.[1];
  const value =
    variable && new RegExp(`variable "${variable}" \\{[^}]*?default\\s*=\\s*"([^"]+)"`).exec(text);
  return value ? value[1]! : `<no azurerm_storage_account.${id}>`;
}

function azureContainerName(text: string, id: string): string {
  const m = new RegExp(
    `resource "azurerm_storage_container" "${id}" \\{[^}]*?\\n\\s*name\\s*=\\s*"([^"]+)"`,
  ).exec(text);
  return m ? m[1]! : `<no azurerm_storage_container.${id}>`;
}

/** An output's value, resolved as resolveHcl can. */
function outputValue(text: string, name: string): string {
  const m = new RegExp(`output "${name}" \\{[^}]*?\\n\\s*value\\s*=\\s*("[^"\\n]+")`).exec(text);
  return m ? resolveHcl(text, m[1]!) : `<no output ${name}>`;
}

function terraformText(files: Record<string, string>): string {
  return Object.entries(files)
    .filter(([p]) => /^infra\/terraform\/.*\.tf$/.test(p))
    .map(([, t]) => t)
    .join("\n");
}

/** The bucket (or account/container) the tree's Terraform creates, per scheme. */
function terraformBuckets(files: Record<string, string>): string[] {
  const text = terraformText(files);
  const out: string[] = [];
  // every region's data bucket (a multi-region plan has one per region's stack)
  for (const [re, scheme] of [
    [/resource "aws_s3_bucket" "data" \{[^}]*?\n\s*bucket\s*=\s*"([^"]+)"/g, "s3"],
    [/resource "google_storage_bucket" "data" \{[^}]*?\n\s*name\s*=\s*"([^"]+)"/g, "gs"],
  ] as const)
    for (const m of text.matchAll(re)) out.push(`${scheme}://${m[1]}`);
  const account = /variable "storage_account_name" \{[^}]*?default\s*=\s*"([^"]+)"/.exec(text);
  const container = /resource "azurerm_storage_container" "data" \{[^}]*?name\s*=\s*"([^"]+)"/.exec(text);
  if (account && container) out.push(`az://${account[1]}/${container[1]}`);
  return out;
}

/** What each scheme needs in the job's environment (beyond a workload identity). */
const CREDENTIALS: Record<string, (cloud: string) => string[]> = {
  s3: (cloud) =>
    cloud === "kubernetes" ? ["AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] : [],
  gs: () => ["GCS_HMAC_ACCESS_ID", "GCS_HMAC_SECRET"],
  az: (cloud) => (cloud === "azure" ? [] : ["AZURE_STORAGE_KEY"]),
};

/** Every way a command line breaks its contract with the CLI, the image and the tree's infrastructure. */
function problemsOf(line: CommandLine, files: Record<string, string>, cloud: string): string[] {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(line.argv);
  } catch (error) {
    return [`${line.where}: ${line.argv.join(" ")}: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const { options } = parsed;
  for (const flag of ["config", "spec", "models"] as const) {
    const value = options[flag];
    if (typeof value !== "string") continue;
    const rel = line.inRepository
      ? value
      : value.startsWith(`${PLATFORM_DIR_IN_IMAGE}/`)
        ? `platform/${value.slice(PLATFORM_DIR_IN_IMAGE.length + 1)}`
        : undefined;
    if (rel === undefined)
      problems.push(`${line.where}: --${flag} ${value} is outside the image's ${PLATFORM_DIR_IN_IMAGE}`);
    else if (!(rel in files) && !(line.inRepository && rel === "stackwright.yaml"))
      problems.push(`${line.where}: --${flag} ${value} is not in the generated tree (${rel})`);
  }
  // the release commands of an on-device plan: the stores are the buckets the Terraform creates
  if (parsed.command[0] === "edge" && ["publish", "promote"].includes(parsed.command[1] ?? "")) {
    const text = terraformText(files);
    const stores = ["bundle_store", "telemetry_store"].map((output) => outputValue(text, output));
    for (const flag of ["store", "telemetry"] as const) {
      const value = options[flag];
      if (typeof value === "string" && !stores.includes(value))
        problems.push(
          `${line.where}: --${flag} ${value} is not a store the Terraform creates (${stores.join(", ")})`,
        );
    }
    const rollout = options.rollout;
    if (typeof rollout === "string" && !(rollout in files))
      problems.push(`${line.where}: --rollout ${rollout} is not in the generated tree`);
  }
  if (parsed.command[0] === "score") {
    const buckets = terraformBuckets(files);
    for (const flag of ["input", "output"] as const) {
      const value = String(options[flag]);
      const loc = parseLocation(value);
      if (!loc) {
        problems.push(
          `${line.where}: --${flag} ${value} is a path inside the container, not the data bucket`,
        );
        continue;
      }
      const bucket =
        loc.scheme === "az" ? `az://${loc.account}/${loc.bucket}` : `${loc.scheme}://${loc.bucket}`;
      // the team's own cluster has no cloud Terraform: its S3-compatible store is the team's
      if (cloud !== "kubernetes" && !buckets.includes(bucket))
        problems.push(
          `${line.where}: --${flag} ${value} is not in a bucket the Terraform creates (${buckets.join(", ") || "none"})`,
        );
      if (line.env)
        for (const name of CREDENTIALS[loc.scheme](cloud))
          if (!line.env.includes(name))
            problems.push(`${line.where}: ${loc.scheme}:// needs ${name} in the job's environment`);
    }
  }
  return problems;
}

async function commandLinesOf(files: Record<string, string>): Promise<CommandLine[]> {
  return [
    ...(await chartCommandLines(files)),
    ...dockerfileCommandLines(files),
    ...argoCommandLines(files),
    ...airflowCommandLines(files),
    ...terraformCommandLines(files),
    ...ciCommandLines(files),
  ];
}

const SPECS = [
  ...EXAMPLES.map((f) => ({
    name: f.replace(/\.yaml$/, ""),
    text: readFileSync(join(ROOT, "examples", f), "utf8"),
  })),
  ...OWN.map((o) => ({ name: o.name, text: o.patch(readFileSync(join(ROOT, "examples", o.from), "utf8")) })),
];

describe("the command contract", () => {
  it("the parser check has teeth: a missing required option, an unknown flag and a bad location fail", () => {
    const files = { "platform/serve.yaml": "" };
    const check = (argv: string[]) => problemsOf({ where: "t", argv, env: [] }, files, "aws");
    expect(check(["score", "--config", "/srv/platform/serve.yaml"])[0]).toMatch(
      /required option '-i, --input/,
    );
    expect(check(["serve", "--config", "/srv/platform/serve.yaml", "--prot", "8080"])[0]).toMatch(
      /unknown option '--prot'/,
    );
    expect(check(["score", "--input", "ftp://x/y", "--output", "s3://b/p/"])[0]).toMatch(
      /ftp:\/\/ is not a location/,
    );
    expect(check(["serve", "--config", "/srv/platform/missing.yaml"])[0]).toMatch(
      /not in the generated tree/,
    );
    expect(check(["serve", "--config", "/etc/serve.yaml"])[0]).toMatch(/outside the image/);
    expect(check(["score", "--input", "s3://elsewhere/in/*", "--output", "s3://elsewhere/out/"])[0]).toMatch(
      /not in a bucket the Terraform creates/,
    );
    expect(
      problemsOf(
        { where: "t", argv: ["score", "--input", "gs://b/i/*", "--output", "gs://b/o/"], env: [] },
        {},
        "kubernetes",
      ),
    ).toContain("t: gs:// needs GCS_HMAC_ACCESS_ID in the job's environment");
  });

  describe.each(SPECS)("$name", ({ name, text }) => {
    it("every stackwright command line it runs parses, names what exists and reaches its data", async () => {
      const { dir, files } = generateTree(text);
      const cloud = (parseYaml(text) as { cloud: { provider: string } }).cloud.provider;
      const lines = await commandLinesOf(files);
      const commands = new Set(lines.map((l) => parseCommandLine(l.argv).command[0]));
      // every tree runs the CI drift check, and serves, scores or consumes, but where an LLM engine
      // serves the model (its own command line, src/generate/engines.ts)
      expect(commands.has("generate"), name).toBe(true);
      const llmEngine = Object.entries(files).some(
        ([file, text]) =>
          /^deploy\/helm\/[^/]+\/values\.yaml$/.test(file) &&
          (parseYaml(text) as { engine: { kind: string } }).engine.kind !== "onnx-core",
      );
      // nor where the model runs on devices: they run the bundle (stackwright edge run, test/edge/)
      const onDevice = "platform/edge/rollout.yaml" in files;
      expect(
        ["serve", "score", "consume"].some((c) => commands.has(c)),
        name,
      ).toBe(!llmEngine && !onDevice);
      expect(lines.flatMap((l) => problemsOf(l, files, cloud))).toEqual([]);
      // one scheduler per score job: the chart's CronJob (in batch mode) or the plan's orchestrator
      // or the cloud's scheduler, never two
      const schedulers = lines.filter(
        (l) =>
          l.argv[0] === "score" &&
          l.scheduled &&
          // the chart counted once, as rendered in batch mode
          (l.mode === undefined || l.mode === "batch"),
      );
      if (lines.some((l) => l.argv[0] === "score"))
        expect(
          schedulers.map((l) => l.where),
          name,
        ).toHaveLength(1);
      // the drift check, run as the CI step runs it, in the tree it checks
      const check = lines.find((l) => l.inRepository && l.argv[0] === "generate")!;
      const run = runCli(check.argv, { cwd: dir });
      expect(run.code, run.stderr + run.stdout).toBe(0);
    }, 120_000);
  });
});
