/**
 * Pipelines valid for what they name: the Feast definitions pair each offline store with a source it
 * reads (checked on the generated Python through python3's own parser, against the table sourced
 * from Feast's reference); the Argo manifests against the Argo Workflows 4 models; the Airflow DAGs'
 * calls against the signatures of the Airflow and cncf-kubernetes versions they pin.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml, stringify } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { AIRFLOW_SIGNATURES } from "../../src/generate/platform/airflow-signatures.js";
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

/** Every call in a Python file: callee name, how many positional arguments, which keywords. */
function everyCall(
  source: string,
): Array<{ callee: string; line: number; positional: number; keywords: string[] }> {
  const script = `
import ast, json, sys
tree = ast.parse(sys.stdin.read())
out = []
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        out.append({"callee": node.func.id, "line": node.lineno, "positional": len(node.args),
                    "keywords": [k.arg for k in node.keywords]})
print(json.dumps(out))
`;
  const r = spawnSync("python3", ["-c", script], { input: source, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 refused the file: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The problems of each DAG, KubernetesPodOperator and Secret call against the pinned versions' signatures. */
function airflowProblems(path: string, source: string): string[] {
  const core = AIRFLOW_SIGNATURES.airflow;
  const provider = AIRFLOW_SIGNATURES["cncf-kubernetes"];
  const accepted: Record<string, { params: readonly string[]; positional: number }> = {
    DAG: { params: core.DAG.params, positional: core.DAG.params.length },
    // BaseOperatorMeta refuses positional arguments; leftover keywords raise AirflowException
    KubernetesPodOperator: {
      params: [...provider.KubernetesPodOperator.params, ...core.BaseOperator.params],
      positional: 0,
    },
    Secret: { params: provider.Secret.params, positional: provider.Secret.params.length },
  };
  const problems: string[] = [];
  for (const call of everyCall(source)) {
    const signature = accepted[call.callee];
    if (!signature) continue;
    if (call.positional > signature.positional)
      problems.push(
        `${path}:${call.line}: ${call.callee} takes at most ${signature.positional} positional arguments, got ${call.positional}`,
      );
    for (const keyword of call.keywords)
      if (!signature.params.includes(keyword))
        problems.push(
          `${path}:${call.line}: ${call.callee} has no parameter ${keyword} in Airflow ${core.version} / cncf-kubernetes ${provider.version}`,
        );
  }
  return problems;
}

describe("Airflow DAGs against the signatures of the versions they pin", () => {
  const cases: Array<[string, () => Record<string, string>]> = [
    [
      "fraud-detection",
      () =>
        Object.fromEntries(
          readdirSync(join(ROOT, "generated-examples/fraud-detection/platform/pipelines")).map((f) => [
            `platform/pipelines/${f}`,
            readFileSync(join(ROOT, "generated-examples/fraud-detection/platform/pipelines", f), "utf8"),
          ]),
        ),
    ],
    // a batch plan on the team's own cluster with Airflow: the score DAG with its object-store Secrets
    [
      "batch on an own cluster with Airflow",
      () =>
        specFiles((spec) => {
          spec.metadata.name = "nightly-churn";
          spec.cloud.provider = "kubernetes";
          spec.team.existingTools = ["airflow"];
        }),
    ],
  ];

  it.each(cases)("%s: every DAG, operator and Secret call is valid for the pinned versions", (_, files) => {
    const tree = files();
    const dags = Object.keys(tree).filter((p) => /^platform\/pipelines\/.*\.py$/.test(p));
    expect(dags.length).toBeGreaterThan(0);
    expect(tree["platform/pipelines/requirements.txt"]).toContain(
      `apache-airflow==${AIRFLOW_SIGNATURES.airflow.version}\napache-airflow-providers-cncf-kubernetes==${AIRFLOW_SIGNATURES["cncf-kubernetes"].version}`,
    );
    const called = dags.flatMap((p) => everyCall(tree[p]).map((c) => c.callee));
    expect(called).toContain("KubernetesPodOperator");
    expect(dags.flatMap((p) => airflowProblems(p, tree[p]))).toEqual([]);
  });

  it("names a keyword the operator does not take, and a positional argument the metaclass refuses", () => {
    const bad = [
      "from airflow import DAG",
      "with DAG(dag_id='x', schedule_interval_typo='@daily') as dag:",
      "    KubernetesPodOperator('score', task_id='t', image='i', cmds=['a'], arguments=[], secrets=[Secret('env', 'A', 's', 'k', None, 'extra')])",
    ].join("\n");
    expect(airflowProblems("x.py", bad)).toEqual([
      "x.py:2: DAG has no parameter schedule_interval_typo in Airflow 2.10.5 / cncf-kubernetes 10.3.1",
      "x.py:3: KubernetesPodOperator takes at most 0 positional arguments, got 1",
      "x.py:3: Secret takes at most 5 positional arguments, got 6",
    ]);
  });
});
