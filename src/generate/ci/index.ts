/**
 * GitHub Actions: ci.yml (regenerate --check, terraform fmt/validate, helm lint + kubeconform),
 * deploy.yml (build, push, canary with a promotion gate), retrain.yml when retraining is scheduled or
 * drift-triggered. Least-privilege permissions, OIDC to the cloud, third-party actions pinned.
 * Built as objects and serialized, so no spec text can break the YAML or inject an expression.
 */

import { stringify } from "yaml";
import type { TextFileSet } from "../../fileset/index.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import type { Plan } from "../../plan/types.js";
import { defaultPackageSpec } from "../../util/package-source.js";
import { checkArgs } from "../commands.js";
import { chartName, GPU_IMAGE_TAG_SUFFIX, workloadName } from "../helm/index.js";
import { dns1123 } from "../names.js";

/** Pinned action versions (major tags of the publishers' current releases). */
export const ACTIONS = {
  checkout: "actions/checkout@v4",
  setupNode: "actions/setup-node@v4",
  setupTerraform: "hashicorp/setup-terraform@v3",
  setupHelm: "azure/setup-helm@v4",
  awsCredentials: "aws-actions/configure-aws-credentials@v4",
  gcpAuth: "google-github-actions/auth@v2",
  gcpSetup: "google-github-actions/setup-gcloud@v2",
  azureLogin: "azure/login@v2",
  dockerLogin: "docker/login-action@v3",
  dockerBuildx: "docker/setup-buildx-action@v3",
  dockerBuild: "docker/build-push-action@v6",
} as const;

const TERRAFORM_VERSION = "1.9.8";
const HELM_VERSION = "v3.16.2";
const KUBECONFORM_VERSION = "v0.6.7";

function choice(plan: Plan, capability: string): string {
  return plan.decisions.find((d) => d.capability === capability)!.choice;
}

const e = (expr: string) => `\${{ ${expr} }}`;

function cloudLogin(plan: Plan): Array<Record<string, unknown>> {
  switch (plan.requirements.cloud.provider) {
    case "aws":
      return [
        {
          name: "Assume the deploy role (OIDC)",
          uses: ACTIONS.awsCredentials,
          with: {
            "role-to-assume": e("vars.AWS_DEPLOY_ROLE_ARN"),
            "aws-region": plan.requirements.cloud.region,
          },
        },
      ];
    case "gcp":
      return [
        {
          name: "Authenticate (workload identity federation)",
          uses: ACTIONS.gcpAuth,
          with: {
            workload_identity_provider: e("vars.GCP_WORKLOAD_IDENTITY_PROVIDER"),
            service_account: e("vars.GCP_DEPLOY_SERVICE_ACCOUNT"),
          },
        },
        { uses: ACTIONS.gcpSetup },
      ];
    case "azure":
      return [
        {
          name: "Log in (OIDC federated credential)",
          uses: ACTIONS.azureLogin,
          with: {
            "client-id": e("vars.AZURE_CLIENT_ID"),
            "tenant-id": e("vars.AZURE_TENANT_ID"),
            "subscription-id": e("vars.AZURE_SUBSCRIPTION_ID"),
          },
        },
      ];
    default:
      return [
        {
          name: "Configure cluster access",
          run: 'mkdir -p ~/.kube && printf "%s" "$KUBECONFIG_DATA" | base64 -d > ~/.kube/config',
          env: { KUBECONFIG_DATA: e("secrets.KUBECONFIG_DATA") },
        },
      ];
  }
}

function clusterCredentials(plan: Plan, name: string): Array<Record<string, unknown>> {
  const region = plan.requirements.cloud.region;
  switch (plan.requirements.cloud.provider) {
    case "aws":
      return [{ run: `aws eks update-kubeconfig --name ${name} --region ${region}` }];
    case "gcp":
      return [
        {
          run: `gcloud components install gke-gcloud-auth-plugin --quiet && gcloud container clusters get-credentials ${name} --region ${region}`,
        },
      ];
    case "azure":
      return [{ run: `az aks get-credentials --resource-group ${name}-rg --name ${name}` }];
    default:
      return [];
  }
}

function doc(workflow: Record<string, unknown>): string {
  return `# ${GENERATED_HEADER}\n${stringify(workflow, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

export function generateCi(plan: Plan, packageSpec: string = defaultPackageSpec()): TextFileSet {
  const spec = plan.requirements;
  const name = dns1123(spec.metadata.name, 40);
  const provider = spec.cloud.provider;
  const runtime = choice(plan, "serving.runtime");
  const mode = choice(plan, "serving.mode");
  const hasChart = runtime === "kubernetes";
  const chart = hasChart ? `deploy/helm/${chartName(plan)}` : "";
  const tfDir = provider === "kubernetes" ? "" : `infra/terraform/${provider}`;
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

  const image = `ghcr.io/${e("github.repository_owner")}/${name}`;
  const deployJobs: Record<string, unknown> = {
    build: {
      name: "Build and push the serving image",
      "runs-on": "ubuntu-24.04",
      permissions: { contents: "read", packages: "write" },
      outputs: { tag: e("steps.tag.outputs.tag") },
      steps: [
        { uses: ACTIONS.checkout },
        { id: "tag", run: 'echo "tag=${GITHUB_SHA::12}" >> "$GITHUB_OUTPUT"' },
        {
          uses: ACTIONS.dockerLogin,
          with: { registry: "ghcr.io", username: e("github.actor"), password: e("secrets.GITHUB_TOKEN") },
        },
        { uses: ACTIONS.dockerBuildx },
        {
          uses: ACTIONS.dockerBuild,
          with: { context: "platform", push: true, tags: `${image}:${e("steps.tag.outputs.tag")}` },
        },
        // GPU nodes run the CUDA build: the same repository, the tag plus the suffix the chart appends
        ...(plan.capacity.hardware === "gpu"
          ? [
              {
                name: "Build and push the GPU (CUDA) serving image",
                uses: ACTIONS.dockerBuild,
                with: {
                  context: "platform",
                  file: "platform/Dockerfile.gpu",
                  push: true,
                  tags: `${image}:${e("steps.tag.outputs.tag")}${GPU_IMAGE_TAG_SUFFIX}`,
                },
              },
            ]
          : []),
      ],
    },
  };
  const rollout = (environment: string, promote: boolean) => {
    const steps: Array<Record<string, unknown>> = [{ uses: ACTIONS.checkout }];
    if (promote) {
      // the generated sample model (stage: sample) is a stand-in: it never reaches production
      steps.push({
        name: "Refuse to promote a sample model",
        run: [
          "if grep -rlE '^stage: sample$' platform/models --include=model.yaml; then",
          '  echo "::error::platform/models holds a sample model (stage: sample, generated weights): publish a trained version before promoting"',
          "  exit 1",
          "fi",
        ].join("\n"),
      });
    }
    steps.push(...cloudLogin(plan));
    const tag = e("needs.build.outputs.tag");
    if (hasChart) {
      steps.push(
        { uses: ACTIONS.setupHelm, with: { version: HELM_VERSION } },
        ...clusterCredentials(plan, name),
      );
      if (!promote) {
        steps.push({
          name: mode === "batch" ? "Roll the scoring job to the new image" : "Start the rollout",
          run: `helm upgrade --install ${name} ${chart} --namespace ${name} --create-namespace --set image.repository=ghcr.io/${e("github.repository_owner")}/${name} --set image.tag=${tag} --wait`,
        });
      } else if (choice(plan, "deployment.strategy") === "canary") {
        steps.push({
          name: "Promote the canary after the gates passed",
          run: `kubectl argo rollouts promote ${workloadName(name, chartName(plan))} --namespace ${name}`,
        });
      } else {
        steps.push({
          name: "Confirm the rollout is healthy",
          run: `kubectl -n ${name} rollout status deploy/${workloadName(name, chartName(plan))} --timeout=10m`,
        });
      }
    } else if (!promote) {
      const deploy: Record<string, string> = {
        aws:
          mode === "batch"
            ? `aws events put-targets --rule ${name}-score --targets file://platform/aws-scheduled-task.json`
            : `aws ecs update-service --cluster ${name} --service ${name} --force-new-deployment`,
        gcp:
          mode === "batch"
            ? `gcloud run jobs update ${name}-score --image ghcr.io/${e("github.repository_owner")}/${name}:${tag} --region ${spec.cloud.region}`
            : `gcloud run deploy ${name} --image ghcr.io/${e("github.repository_owner")}/${name}:${tag} --region ${spec.cloud.region} --no-traffic --tag candidate`,
        azure:
          mode === "batch"
            ? `az containerapp job update --name ${name}-score --resource-group ${name}-rg --image ghcr.io/${e("github.repository_owner")}/${name}:${tag}`
            : `az containerapp update --name ${name} --resource-group ${name}-rg --image ghcr.io/${e("github.repository_owner")}/${name}:${tag} --revision-suffix ${tag}`,
      };
      steps.push({ name: "Deploy the new revision", run: deploy[provider] ?? "true" });
    } else {
      const promoteCmd: Record<string, string> = {
        aws: `aws ecs wait services-stable --cluster ${name} --services ${name}`,
        gcp:
          mode === "batch"
            ? "true"
            : `gcloud run services update-traffic ${name} --to-tags candidate=100 --region ${spec.cloud.region}`,
        azure: `az containerapp revision list --name ${name} --resource-group ${name}-rg -o table`,
      };
      steps.push({ name: "Shift traffic to the new revision", run: promoteCmd[provider] ?? "true" });
    }
    return {
      name: promote ? "Promote (requires approval on the production environment)" : "Deploy canary",
      "runs-on": "ubuntu-24.04",
      needs: promote ? ["build", "canary"] : ["build"],
      environment: environment,
      permissions: { contents: "read", "id-token": "write" },
      steps,
    };
  };
  deployJobs.canary = rollout("staging", false);
  deployJobs.promote = rollout("production", true);
  files[".github/workflows/deploy.yml"] = doc({
    name: "deploy",
    on: {
      push: { branches: ["main"], paths: ["platform/**", "deploy/**", "stackwright.yaml"] },
      workflow_dispatch: {},
    },
    permissions: { contents: "read" },
    concurrency: { group: "deploy", "cancel-in-progress": false },
    jobs: deployJobs,
  });

  const trigger = choice(plan, "retraining.trigger");
  const retrain = plan.decisions.find((d) => d.capability === "retraining.trigger")!;
  const schedule = String(retrain.params.schedule ?? "0 3 * * 0");
  const orchestration = choice(plan, "orchestration");
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
        "runs-on": "ubuntu-24.04",
        steps: [
          { uses: ACTIONS.checkout },
          ...cloudLogin(plan),
          ...(orchestration === "argo-workflows" ? clusterCredentials(plan, name) : []),
          { name: `Start the retraining pipeline (${orchestration})`, run: submit[orchestration] },
        ],
      },
    },
  });
  return files;
}
