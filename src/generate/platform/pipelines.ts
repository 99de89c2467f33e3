/**
 * Feature store definitions (Feast) and the retraining pipeline per orchestration and trigger:
 * train -> evaluate against the production model -> register -> promotion gate. The steps run the
 * team's training image; the contract is four entry points (train, evaluate, register, gate).
 */
import { stringify } from "yaml";
import type { TextFileSet } from "../../fileset/index.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import { azureStorageNameIn, dns1123 } from "../../infra/names.js";
import type { Plan } from "../../plan/types.js";
import {
  AZURE_DATA_CONTAINER,
  dataLocation,
  objectStoreSecretEnv,
  scoreJobArgs,
  scoreSchedule,
} from "../commands.js";
import { AIRFLOW_SIGNATURES } from "./airflow-signatures.js";
import { defaultFeatures } from "./serve-config.js";

const choice = (plan: Plan, capability: string) => plan.decisions.find((d) => d.capability === capability)!;

export function pyIdentifier(text: string): string {
  const id = text.replace(/[^A-Za-z0-9_]/g, "_").replace(/^([^A-Za-z_])/, "_$1");
  return /^(False|None|True|and|as|assert|async|await|break|class|continue|def|del|elif|else|except|finally|for|from|global|if|import|in|is|lambda|nonlocal|not|or|pass|raise|return|try|while|with|yield)$/.test(
    id,
  )
    ? `${id}_`
    : id;
}

/** A Python string literal (JSON's escapes are valid Python escapes for these characters). */
export function pyString(text: string): string {
  return JSON.stringify(text)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * Where training data and run artifacts live: the data bucket the Terraform creates (commands.ts);
 * on Azure in the abfss:// form the training libraries (adlfs, Spark) read.
 */
function dataRoot(plan: Plan): string {
  if (plan.requirements.cloud.provider === "azure")
    return `abfss://${AZURE_DATA_CONTAINER}@${azureStorageNameIn(plan.requirements)}.dfs.core.windows.net`;
  return dataLocation(plan).replace(/\/$/, "");
}

const WAREHOUSES = ["bigquery", "snowflake", "redshift"] as const;
type Warehouse = (typeof WAREHOUSES)[number];

/**
 * Which data source each Feast offline store reads, from Feast's own reference
 * (feast-dev/feast docs/reference/offline-stores/<store>.md: "provides support for reading
 * BigQuerySources" and the like; a FeatureView whose source the store does not read is refused when
 * features are retrieved), with the source's table arguments (docs/reference/data-sources/<source>.md).
 * A spec with a warehouse among its data sources gets that warehouse's store; otherwise files.
 */
export const FEAST_OFFLINE_STORES = {
  file: {
    type: "file",
    source: "FileSource",
    args: ({ project, root }: { project: string; root: string }): Array<[string, string]> => [
      ["path", `${root}/features/${project}.parquet`],
    ],
  },
  bigquery: {
    type: "bigquery",
    source: "BigQuerySource",
    args: ({ project }: { project: string }): Array<[string, string]> => [
      ["table", `${project}.${project}_features`],
    ],
  },
  snowflake: {
    type: "snowflake.offline",
    source: "SnowflakeSource",
    args: ({ project }: { project: string }): Array<[string, string]> => [
      ["database", project.toUpperCase()],
      ["schema", "PUBLIC"],
      ["table", `${project.toUpperCase()}_FEATURES`],
    ],
  },
  redshift: {
    type: "redshift",
    source: "RedshiftSource",
    args: ({ project }: { project: string }): Array<[string, string]> => [["table", `${project}_features`]],
  },
} as const;
const WAREHOUSE_STORES: Record<
  Warehouse | "file",
  (typeof FEAST_OFFLINE_STORES)[keyof typeof FEAST_OFFLINE_STORES]
> = FEAST_OFFLINE_STORES;

export function generateFeatureStore(plan: Plan): TextFileSet {
  const store = choice(plan, "features.store").choice;
  if (store === "none") return {};
  const spec = plan.requirements;
  const name = dns1123(spec.metadata.name);
  const project = pyIdentifier(name);
  const root = dataRoot(plan);
  const warehouse = spec.data.sources.find((s): s is Warehouse => WAREHOUSES.includes(s as Warehouse));
  const store_ = WAREHOUSE_STORES[warehouse ?? "file"];
  const offline: Record<string, unknown> =
    warehouse === "bigquery"
      ? { type: store_.type, dataset: project }
      : warehouse === "snowflake"
        ? { type: store_.type, database: project.toUpperCase(), warehouse: "COMPUTE_WH" }
        : warehouse === "redshift"
          ? { type: store_.type, database: project, s3_staging_location: `${root}/feast/staging` }
          : { type: store_.type };
  const config: Record<string, unknown> = {
    project,
    provider: spec.cloud.provider === "aws" ? "aws" : spec.cloud.provider === "gcp" ? "gcp" : "local",
    registry: `${root}/feast/registry.db`,
    offline_store: offline,
    entity_key_serialization_version: 3,
  };
  if (store === "online") config.online_store = { type: "redis", connection_string: "redis:6379,ssl=true" };
  const ttlHours = Number(choice(plan, "features.store").params.ttlHours ?? 24);
  const types: Record<string, string> = { float: "Float32", int: "Int64", bool: "Bool", string: "String" };
  const fields = spec.features.fields.length
    ? spec.features.fields
    : defaultFeatures(plan).map((f) => ({ ...f, description: "" }));
  const entity = pyIdentifier(spec.features.entityKey);
  const py = [
    `# ${GENERATED_HEADER}`,
    `"""Feast definitions for ${project}: one entity and one feature view, shared by training and serving."""`,
    "from datetime import timedelta",
    "",
    `from feast import Entity, FeatureView, Field, ${store_.source}`,
    "from feast.types import Bool, Float32, Int64, String",
    "",
    `${entity} = Entity(name=${pyString(spec.features.entityKey)}, join_keys=[${pyString(spec.features.entityKey)}])`,
    "",
    `# the offline store (feature_store.yaml: ${store_.type}) reads ${store_.source}s only`,
    `source = ${store_.source}(`,
    ...store_.args({ project, root }).map(([key, value]) => `    ${key}=${pyString(value)},`),
    '    timestamp_field="event_timestamp",',
    ")",
    "",
    `${project}_features = FeatureView(`,
    `    name=${pyString(`${project}_features`)},`,
    `    entities=[${entity}],`,
    `    ttl=timedelta(hours=${ttlHours}),`,
    "    schema=[",
    ...fields.map(
      (f) =>
        `        Field(name=${pyString(f.name)}, dtype=${types[f.type] ?? "Float32"}, description=${pyString(f.description ?? "")}),`,
    ),
    "    ],",
    `    online=${store === "online" ? "True" : "False"},`,
    "    source=source,",
    ")",
    "",
  ].join("\n");
  return {
    "platform/features/feature_store.yaml": `# ${GENERATED_HEADER}\n${stringify(config, { lineWidth: 0 })}`,
    "platform/features/features.py": py,
  };
}

function cronOf(plan: Plan): string | null {
  const retrain = choice(plan, "retraining.trigger");
  if (retrain.choice === "drift-triggered") return null;
  return String(retrain.params.schedule ?? "0 3 * * 0");
}

const STEPS = [
  { id: "train", args: ["python", "-m", "train", "--data", "{{DATA}}", "--out", "{{ARTIFACTS}}/candidate"] },
  {
    id: "evaluate",
    args: [
      "python",
      "-m",
      "evaluate",
      "--candidate",
      "{{ARTIFACTS}}/candidate",
      "--against",
      "production",
      "--report",
      "{{ARTIFACTS}}/evaluation.json",
    ],
  },
  {
    id: "register",
    args: ["python", "-m", "register", "--model", "{{ARTIFACTS}}/candidate", "--stage", "staging"],
  },
  {
    id: "gate",
    args: ["python", "-m", "gate", "--report", "{{ARTIFACTS}}/evaluation.json", "--promote-to", "production"],
  },
];

export function generatePipelines(plan: Plan): TextFileSet {
  const spec = plan.requirements;
  const name = dns1123(spec.metadata.name);
  const orchestration = choice(plan, "orchestration").choice;
  const secretEnv = objectStoreSecretEnv(plan);
  const cron = cronOf(plan);
  const batch = choice(plan, "serving.mode").choice === "batch";
  const scoreCron = scoreSchedule(plan);
  const root = dataRoot(plan);
  const fill = (arg: string) =>
    arg.replace("{{DATA}}", `${root}/training`).replace("{{ARTIFACTS}}", `${root}/runs`);
  const image = `ghcr.io/your-org/${name}-train:latest`;
  const files: TextFileSet = {};
  if (orchestration === "argo-workflows") {
    const template = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "WorkflowTemplate",
      metadata: { name: `${name}-retrain`, labels: { "app.kubernetes.io/part-of": "stackwright" } },
      spec: {
        entrypoint: "retrain",
        serviceAccountName: `${name}-train`,
        templates: [
          {
            name: "retrain",
            dag: {
              tasks: STEPS.map((s, i) => ({
                name: s.id,
                template: s.id,
                ...(i > 0 ? { dependencies: [STEPS[i - 1].id] } : {}),
              })),
            },
          },
          ...STEPS.map((s) => ({
            name: s.id,
            // Argo names a template's container "main"; the schema (a Kubernetes Container) requires a name
            container: {
              name: "main",
              image,
              args: s.args.map(fill),
              resources:
                s.id === "train" && spec.training.gpu
                  ? { limits: { "nvidia.com/gpu": 1 } }
                  : { requests: { cpu: "2", memory: "8Gi" } },
            },
          })),
        ],
      },
    };
    const docs: unknown[] = [template];
    if (cron) {
      docs.push({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "CronWorkflow",
        metadata: { name: `${name}-retrain` },
        spec: {
          schedules: [cron], // Argo Workflows 4 removed the single `schedule`
          concurrencyPolicy: "Forbid",
          workflowSpec: { workflowTemplateRef: { name: `${name}-retrain` } },
        },
      });
    }
    if (batch) {
      docs.push({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "CronWorkflow",
        metadata: { name: `${name}-score` },
        spec: {
          schedules: [scoreCron],
          concurrencyPolicy: "Forbid",
          workflowSpec: {
            entrypoint: "score",
            templates: [
              {
                name: "score",
                container: {
                  name: "main",
                  image: `ghcr.io/your-org/${name}:latest`,
                  args: scoreJobArgs(plan),
                  ...(secretEnv.length
                    ? {
                        env: secretEnv.map((e) => ({
                          name: e.name,
                          valueFrom: { secretKeyRef: { name: e.secretName, key: e.key } },
                        })),
                      }
                    : {}),
                },
              },
            ],
          },
        },
      });
    }
    files["platform/pipelines/retrain.yaml"] =
      `# ${GENERATED_HEADER}\n${docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n")}`;
  } else if (orchestration === "airflow") {
    const dag = pyIdentifier(`${name}_retrain`);
    const py = [
      `# ${GENERATED_HEADER}`,
      `"""Retraining of ${name}: train -> evaluate against production -> register -> promotion gate."""`,
      "from datetime import datetime",
      "",
      "from airflow import DAG",
      "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator",
      ...(batch && secretEnv.length ? ["from airflow.providers.cncf.kubernetes.secret import Secret"] : []),
      "",
      "with DAG(",
      `    dag_id=${pyString(dag)},`,
      `    schedule=${cron === null ? "None  # started by the drift alert (retraining.trigger = drift-triggered)" : pyString(cron)},`,
      "    start_date=datetime(2026, 1, 1),",
      "    catchup=False,",
      "    max_active_runs=1,",
      `    tags=["stackwright", ${pyString(name)}],`,
      ") as dag:",
      ...STEPS.map(
        (s) =>
          `    ${s.id} = KubernetesPodOperator(task_id=${pyString(s.id)}, name=${pyString(`${name}-${s.id}`)}, image=${pyString(image)}, arguments=[${s.args.map((a) => pyString(fill(a))).join(", ")}])`,
      ),
      `    ${STEPS.map((s) => s.id).join(" >> ")}`,
      "",
    ];
    if (batch) {
      const airflowSecrets = secretEnv.length
        ? `, secrets=[${secretEnv.map((e) => `Secret("env", ${pyString(e.name)}, ${pyString(e.secretName)}, ${pyString(e.key)})`).join(", ")}]`
        : "";
      py.push(
        "with DAG(",
        `    dag_id=${pyString(pyIdentifier(`${name}_score`))},`,
        `    schedule=${pyString(scoreCron)},`,
        "    start_date=datetime(2026, 1, 1),",
        "    catchup=False,",
        "    max_active_runs=1,",
        ") as score_dag:",
        `    KubernetesPodOperator(task_id="score", name=${pyString(`${name}-score`)}, image=${pyString(`ghcr.io/your-org/${name}:latest`)}, arguments=[${scoreJobArgs(plan).map(pyString).join(", ")}]${airflowSecrets})`,
        "",
      );
    }
    files[`platform/pipelines/${dag}.py`] = py.join("\n");
    // the versions the DAG is written and checked for (airflow-signatures.ts)
    files["platform/pipelines/requirements.txt"] = [
      `# ${GENERATED_HEADER}`,
      "# The Airflow and provider versions the DAGs here are written for; their operators' signatures were checked against these.",
      `apache-airflow==${AIRFLOW_SIGNATURES.airflow.version}`,
      `apache-airflow-providers-cncf-kubernetes==${AIRFLOW_SIGNATURES["cncf-kubernetes"].version}`,
      "",
    ].join("\n");
  } else {
    const lines = [
      "#!/usr/bin/env bash",
      `# ${GENERATED_HEADER}`,
      `# Retraining of ${name}, run by the cloud's scheduler as a job (orchestration = managed-scheduler)`,
      `# ${cron ? `on "${cron}"` : "when the drift alert fires"}: train -> evaluate against production -> register -> gate.`,
      "set -euo pipefail",
      "",
      ...STEPS.flatMap((s) => [
        `echo "== ${s.id}"`,
        s.args.map((a) => `'${fill(a).replace(/'/g, "'\\''")}'`).join(" "),
        "",
      ]),
    ];
    files["platform/pipelines/retrain.sh"] = lines.join("\n");
  }
  return files;
}
