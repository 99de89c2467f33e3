/**
 * GitHub Actions: ci.yml (regenerate --check, terraform fmt/validate, helm lint + kubeconform),
 * deploy.yml (src/generate/ci/deploy.ts), retrain.yml when retraining is scheduled or
 * drift-triggered. Least-privilege permissions, OIDC to the cloud, third-party actions pinned.
 * Built as objects and serialized, so no spec text can break the YAML or inject an expression.
 */

import { stringify } from "yaml";
import type { TextFileSet } from "../../fileset/index.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import { EDGE_CLOUDS } from "../../infra/index.js";
import type { Plan } from "../../plan/types.js";
import { defaultPackageSpec } from "../../util/package-source.js";
import { checkArgs } from "../commands.js";
import { deliveryOf } from "../delivery.js";
import { ACTIONS, cloudLogin, clusterCredentials, deployJobs, e, HELM_VERSION } from "./deploy.js";
import { edgeReleaseWorkflow } from "./edge-release.js";

const TERRAFORM_VERSION = "1.9.8";
const KUBECONFORM_VERSION = "v0.6.7";

function choice(plan: Plan, capability: string): string {
  return plan.decisions.find((d) => d.capability === capability)!.choice;
}

function doc(workflow: Record<string, unknown>): string {
  return `# ${GENERATED_HEADER}\n${stringify(workflow, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

export function generateCi(plan: Plan, packageSpec: string = defaultPackageSpec()): TextFileSet {
  const spec = plan.requirements;
  const delivery = deliveryOf(plan);
  const name = delivery.release;
  const provider = spec.cloud.provider;
  const runtime = choice(plan, "serving.runtime");
  const hasChart = runtime === "kubernetes";
  const chart = hasChart ? delivery.chartPath : "";
  const onDevice = runtime === "on-device";
  // an on-device plan has Terraform where its cloud side is built (EDGE_CLOUDS)
  const tfDir =
    provider === "kubernetes" || (onDevice && !EDGE_CLOUDS.has(provider))
      ? ""
      : `infra/terraform/${provider}`;
  const files: TextFileSet = {};

  const jobs: Record<string, unknown> = {
    regenerate: {
      name: "Generated files are up to date",
      "runs-on": "ubuntu-24.04",
      steps: [
        { uses: ACTIONS.checkout },
        { uses: ACTIONS.setupNode, with: { "node-version": "24" } },
        {
          name: "Regenerate and compare (fails on drift)",
          run: `npx --yes --package ${JSON.stringify(packageSpec)} stackwright ${checkArgs({ spec: "stackwright.yaml", out: "." }).join(" ")}`,
        },
      ],
    },
  };
  if (tfDir) {
    jobs.terraform = {
      name: "Terraform fmt and validate",
      "runs-on": "ubuntu-24.04",
      steps: [
        { uses: ACTIONS.checkout },
        { uses: ACTIONS.setupTerraform, with: { terraform_version: TERRAFORM_VERSION } },
        { run: `terraform -chdir=${tfDir} fmt -check -recursive` },
        { run: `terraform -chdir=${tfDir} init -backend=false -input=false` },
        { run: `terraform -chdir=${tfDir} validate` },
      ],
    };
  }
  if (hasChart) {
    jobs.helm = {
      name: "Helm lint and schema check",
      "runs-on": "ubuntu-24.04",
      steps: [
        { uses: ACTIONS.checkout },
        { uses: ACTIONS.setupHelm, with: { version: HELM_VERSION } },
        { run: `helm lint ${chart} --strict` },
        {
          name: "Render and validate against Kubernetes schemas",
          run: [
            `curl -sSfL https://github.com/yannh/kubeconform/releases/download/${KUBECONFORM_VERSION}/kubeconform-linux-amd64.tar.gz | tar xz kubeconform`,
            `helm template ci ${chart} | ./kubeconform -strict -summary -ignore-missing-schemas -schema-location default -schema-location 'https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'`,
          ].join("\n"),
        },
      ],
    };
  }
  files[".github/workflows/ci.yml"] = doc({
    name: "ci",
    on: { push: { branches: ["main"] }, pull_request: {} },
    permissions: { contents: "read" },
    concurrency: { group: `ci-${e("github.ref")}`, "cancel-in-progress": true },
    jobs,
  });

  // an on-device plan's releases are bundles moved ring by ring, where its cloud side is built
  if (onDevice) {
    if (EDGE_CLOUDS.has(provider))
      files[".github/workflows/edge-release.yml"] = doc(edgeReleaseWorkflow(plan, packageSpec));
    return files;
  }

  files[".github/workflows/deploy.yml"] = doc({
    name: "deploy",
    on: {
      push: { branches: ["main"], paths: ["platform/**", "deploy/**", "stackwright.yaml"] },
      workflow_dispatch: {},
    },
    permissions: { contents: "read" },
    jobs: deployJobs(plan),
  });

  const trigger = choice(plan, "retraining.trigger");
  const retrain = plan.decisions.find((d) => d.capability === "retraining.trigger")!;
  const schedule = String(retrain.params.schedule ?? "0 3 * * 0");
  const orchestration = choice(plan, "orchestration");
  const production = delivery.environments[delivery.environments.length - 1];
  const on: Record<string, unknown> = { workflow_dispatch: {} };
  if (trigger === "scheduled" || trigger === "scheduled-and-drift") on.schedule = [{ cron: schedule }];
  if (trigger === "drift-triggered" || trigger === "scheduled-and-drift")
    on.repository_dispatch = { types: ["drift-alert"] };
  const submit: Record<string, string> = {
    "argo-workflows": `argo submit --from workflowtemplate/${name}-retrain --namespace ${name} --wait`,
    airflow: `airflow dags trigger ${name.replace(/-/g, "_")}_retrain`,
    "managed-scheduler":
      provider === "gcp"
        ? `gcloud scheduler jobs run ${name}-retrain --location ${spec.cloud.region}`
        : provider === "azure"
          ? `az logic workflow run trigger --resource-group ${name}-rg --name ${name}-retrain --trigger-name manual`
          : `aws scheduler get-schedule --name ${name}-retrain && aws ecs run-task --cluster ${name} --task-definition ${name}-train --launch-type FARGATE --network-configuration file://platform/train-network.json`,
  };
  files[".github/workflows/retrain.yml"] = doc({
    name: "retrain",
    on,
    permissions: { contents: "read", "id-token": "write" },
    concurrency: { group: "retrain", "cancel-in-progress": false },
    jobs: {
      retrain: {
        name: "Train, evaluate against production, register, then gate",
        // the pipeline runs in production; its identity is production's (OIDC trusts environments only)
        "runs-on":
          orchestration === "argo-workflows" && delivery.runner ? delivery.runner.labels : "ubuntu-24.04",
        environment: production.name,
        steps: [
          { uses: ACTIONS.checkout },
          ...cloudLogin(plan),
          ...(orchestration === "argo-workflows" ? clusterCredentials(plan, delivery) : []),
          { name: `Start the retraining pipeline (${orchestration})`, run: submit[orchestration] },
        ],
      },
    },
  });
  // actionlint's config: the labels of the self-hosted runners inside the network, so the team's own
  // actionlint (and generate's validation) knows them
  if (delivery.runner) {
    // every region's runners: the primary's and each other region's (delivery.regions)
    const custom = [
      ...new Set([...delivery.runner.labels, ...delivery.regions.flatMap((r) => r.runnerLabels ?? [])]),
    ].filter((l) => !["self-hosted", "linux", "x64"].includes(l));
    files[".github/actionlint.yaml"] =
      `# ${GENERATED_HEADER}\n${stringify({ "self-hosted-runner": { labels: custom } })}`;
  }
  return files;
}
