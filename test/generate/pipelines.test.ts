/**
 * Pipelines valid for what they name: the Feast definitions pair each offline store with a source it
 * reads (checked on the generated Python through python3's own parser, against the table sourced
 * from Feast's reference).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml, stringify } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { FEAST_OFFLINE_STORES } from "../../src/generate/platform/pipelines.js";
import { createPlan } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { validatePipelineManifests } from "../../src/validate/k8s.js";
import { ROOT } from "../helpers/cli.js";
import { itWith } from "../helpers/tools.js";

/** Every `x = Name(key=...)` call at module level of a Python file, through python3's ast. */
function pythonCalls(
  source: string,
): Array<{ target: string; callee: string; keywords: Record<string, unknown> }> {
  const script = `
import ast, json, sys
tree = ast.parse(sys.stdin.read())
out = []
for node in tree.body:
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
        kw = {k.arg: (k.value.value if isinstance(k.value, ast.Constant) else ast.dump(k.value)) for k in node.value.keywords}
        out.append({"target": node.targets[0].id, "callee": node.value.func.id, "keywords": kw})
    if isinstance(node, ast.ImportFrom) and node.module == "feast":
        out.append({"target": "import", "callee": "feast", "keywords": {a.name: True for a in node.names}})
print(json.dumps(out))
`;
  const r = spawnSync("python3", ["-c", script], { input: source, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 refused the file: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function feastFiles(files: Record<string, string>) {
  return {
    config: parseYaml(files["platform/features/feature_store.yaml"]),
    py: files["platform/features/features.py"],
  };
}

/** demand-forecasting (a plan with an offline feature store) with other data sources. */
function specFiles(change: (spec: Record<string, any>) => void): Record<string, string> {
  const spec = parseYaml(readFileSync(join(ROOT, "examples/demand-forecasting.yaml"), "utf8"));
  change(spec);
  const parsed = parseSpecValue(spec);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed));
  return Object.fromEntries(textEntries(generateAll(createPlan(parsed.spec))));
}

describe("Feast: each offline store gets a source it reads", () => {
  const cases: Array<[string, () => Record<string, string>]> = [
    ...["demand-forecasting", "fraud-detection", "streaming-anomaly-detector"].map(
      (example) =>
        [
          `generated-examples/${example}`,
          () => ({
            "platform/features/feature_store.yaml": readFileSync(
              join(ROOT, "generated-examples", example, "platform/features/feature_store.yaml"),
              "utf8",
            ),
            "platform/features/features.py": readFileSync(
              join(ROOT, "generated-examples", example, "platform/features/features.py"),
              "utf8",
            ),
          }),
        ] as [string, () => Record<string, string>],
    ),
    [
      "a Snowflake spec",
      () =>
        specFiles((spec) => {
          spec.data.sources = ["snowflake"];
        }),
    ],
    [
      "a Redshift spec on AWS",
      () =>
        specFiles((spec) => {
          spec.data.sources = ["redshift", "s3"];
          spec.cloud = { ...spec.cloud, provider: "aws", region: "us-east-1" };
        }),
    ],
  ];

  itWith(["python3"], "python3 parses every features.py and its source matches its offline store", () => {
    const seen = new Set<string>();
    for (const [label, files] of cases) {
      const { config, py } = feastFiles(files());
      expect(py, label).toBeTruthy();
      const store = Object.values(FEAST_OFFLINE_STORES).find((s) => s.type === config.offline_store.type);
      expect(store, `${label}: offline store ${config.offline_store.type} is in the table`).toBeDefined();
      const calls = pythonCalls(py);
      const source = calls.find((c) => c.target === "source");
      expect(source?.callee, label).toBe(store?.source);
      expect(calls.find((c) => c.target === "import")?.keywords[store!.source], label).toBe(true);
      expect(source?.keywords.timestamp_field, label).toBe("event_timestamp");
      seen.add(config.offline_store.type);
    }
    // the examples and the two specs of this test cover every store in the table
    expect([...seen].sort()).toEqual(
      Object.values(FEAST_OFFLINE_STORES)
        .map((s) => s.type)
        .sort(),
    );
  });
});

describe("Argo Workflows manifests against the Argo Workflows 4 models", () => {
  const manifests = ["llm-support-assistant", "streaming-anomaly-detector", "vision-inspection"].map(
    (example) => ({
      example,
      files: {
        "platform/pipelines/retrain.yaml": readFileSync(
          join(ROOT, "generated-examples", example, "platform/pipelines/retrain.yaml"),
          "utf8",
        ),
      },
    }),
  );

  it.each(manifests)(
    "$example: the WorkflowTemplate and CronWorkflow are schema-valid",
    async ({ files }) => {
      const kinds = parseAllDocuments(files["platform/pipelines/retrain.yaml"]).map((d) => d.toJS()?.kind);
      expect(kinds).toContain("WorkflowTemplate");
      expect(await validatePipelineManifests(files)).toEqual([]);
    },
  );

  it("refuses the single `schedule` Argo Workflows 4 removed, and a field no version has", async () => {
    const cron = (spec: Record<string, unknown>) => ({
      "platform/pipelines/x.yaml": stringify({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "CronWorkflow",
        metadata: { name: "x" },
        spec: { ...spec, workflowSpec: { workflowTemplateRef: { name: "x" } } },
      }),
    });
    const old = (await validatePipelineManifests(cron({ schedule: "0 3 * * *" }))).map((p) => p.message);
    expect(old.some((m) => /schedules/.test(m))).toBe(true);
    expect(old.some((m) => /unknown field spec\.schedule$/.test(m))).toBe(true);
    const typo = await validatePipelineManifests(cron({ schedules: ["0 3 * * *"], concurrency: "Forbid" }));
    expect(typo.map((p) => p.message)).toEqual(["CronWorkflow x: unknown field spec.concurrency"]);
    expect(
      await validatePipelineManifests(cron({ schedules: ["0 3 * * *"], concurrencyPolicy: "Forbid" })),
    ).toEqual([]);
  });
});
