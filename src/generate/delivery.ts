/**
 * How a release travels, derived once from the Plan: the registry its image is pushed to, the
 * environments it passes through (each a GitHub environment with its own credentials), how deploys
 * reach the cluster, and the names they act on. The workflows (src/generate/ci), the Terraform (deploy
 * identities, runners, endpoint access, registry reachability) and the chart's per-environment values
 * all read this one derivation, so what a workflow pushes, installs and promotes is what the
 * Terraform builds and the chart renders.
 */
import {
  buildsDeployRunner,
  deploysOtherRegions,
  needsRunnerInNetwork,
  PRIVATE_REGISTRY,
} from "../infra/delivery.js";
import { syncsExternalSecrets } from "../infra/index.js";
import { azureStorageName, chartNameOf, cloudName, dns1123 } from "../infra/names.js";
import { choiceOf, choicesOf, decisionOf } from "../plan/index.js";
import type { Plan } from "../plan/types.js";

export const DEPLOY_ACCESS = ["gitops", "runner-in-network", "public-endpoint", "cloud-api"] as const;
export type DeployAccess = (typeof DEPLOY_ACCESS)[number];

/**
 * The GitHub environment variables each environment's deploy jobs read (`vars.X` resolves from the
 * job's environment first): the Terraform outputs exactly these per environment
 * (`github_environment_variables`), so the names cannot drift apart.
 */
export const DEPLOY_VARIABLES = {
  aws: ["AWS_DEPLOY_ROLE_ARN"],
  gcp: ["GCP_PROJECT_ID", "GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_DEPLOY_SERVICE_ACCOUNT"],
  azure: ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"],
  kubernetes: [],
} as const satisfies Record<string, readonly string[]>;

/**
 * On AKS the chart's pods sign in as the workload identity the Terraform creates (workload.tf), named
 * on their service account by its client ID, which exists only once the Terraform has run: the deploy
 * jobs read it from this GitHub environment variable (the output github_environment_variables).
 */
export const WORKLOAD_CLIENT_ID_VARIABLE = "AZURE_WORKLOAD_CLIENT_ID";
/** The service-account annotation and pod label the AKS workload identity webhook reads. */
export const WORKLOAD_CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id";
export const WORKLOAD_IDENTITY_POD_LABEL = "azure.workload.identity/use";

/** The GitHub environment variables a plan's deploy jobs read, as github_environment_variables outputs them. */
export function deployVariablesOf(plan: Plan): readonly string[] {
  const cloud = plan.requirements.cloud.provider;
  if (cloud !== "azure") return DEPLOY_VARIABLES[cloud];
  if (bindsAzureWorkloadIdentity(plan)) return [...DEPLOY_VARIABLES.azure, WORKLOAD_CLIENT_ID_VARIABLE];
  if (choiceOf(plan, "serving.runtime") === "managed-endpoint")
    return [...DEPLOY_VARIABLES.azure, AZUREML_ENDPOINT_VARIABLE];
  return DEPLOY_VARIABLES.azure;
}

/**
 * On Azure Machine Learning each environment's online endpoint is named with a random suffix (names are
 * unique in the region), known once the Terraform has run: the deploy jobs read it from this GitHub
 * environment variable (the output github_environment_variables).
 */
export const AZUREML_ENDPOINT_VARIABLE = "AZUREML_ENDPOINT";

/** Whether the chart runs on AKS, where its service account is bound to a workload identity by client ID. */
export function bindsAzureWorkloadIdentity(plan: Plan): boolean {
  return (
    plan.requirements.cloud.provider === "azure" &&
    plan.decisions.some((d) => d.capability === "serving.runtime" && d.choice === "kubernetes")
  );
}

/** The secret a deploy job on the team's own cluster reads its kubeconfig from (no cloud identity). */
export const KUBECONFIG_SECRET = "KUBECONFIG_DATA";

/**
 * Serverless service and job names: Azure Container Apps allow 32 characters, and the score job
 * appends "-score" (SCORE_JOB_SUFFIX).
 */
export const SERVICE_NAME_MAX = 26;
export const SCORE_JOB_SUFFIX = "-score";

export interface DeliveryEnvironment {
  /** the name in the spec and of the GitHub environment */
  name: string;
  /** the Kubernetes namespace the release is installed into (the workload's name for production) */
  namespace: string;
  production: boolean;
  /** values file beside values.yaml that this environment adds, chart-relative ("" for production) */
  valuesFile: string;
  /**
   * The environment's own service (and `<service>-score` job) on a serverless runtime: the workload's
   * name for production, `<name>-<environment>` before it
   */
  service: string;
  /** what this environment's score job passes to batchLocations ("" for production) */
  dataEnvironment: string;
}

export interface DeliveryRegistry {
  kind: "ecr" | "artifact-registry" | "acr" | "ghcr";
  /** the repository (ECR) / repository id (Artifact Registry) / registry (ACR) name the Terraform creates */
  registryName: string;
  /** the image's name inside it */
  image: string;
  /** public network access off (ACR here): only a runner inside the network can push */
  private: boolean;
}

export interface Delivery {
  access: DeployAccess;
  gitopsController?: "argocd" | "flux";
  /** in release order; the last one is production */
  environments: DeliveryEnvironment[];
  approval: boolean;
  /** the Helm release name every environment installs */
  release: string;
  chart: string;
  chartPath: string;
  registry: DeliveryRegistry;
  /**
   * Self-hosted runner labels for the jobs that must be inside the network (deploys against a private
   * cluster, pushes to a private registry); `terraform` when the generated Terraform builds them.
   */
  runner?: { labels: string[]; terraform: boolean };
  /** the chart values only the deploy knows, each from a GitHub environment variable */
  deployValues: DeployValue[];
  /**
   * The other regions production is deployed to, after the primary (multi-region plans whose other
   * regions the Terraform builds, deployed from the workflow: not under GitOps)
   */
  regions: DeliveryRegion[];
}

/** A secondary region's production release: its cluster, its deploy identity, its runner, its values. */
export interface DeliveryRegion {
  region: string;
  /** the region's cluster (its stack's name) */
  cluster: string;
  /** the GitHub environment variable holding that region's production deploy role */
  roleVariable: string;
  /** the chart's values file for the region, chart-relative */
  valuesFile: string;
  /** the self-hosted runner labels of that region's runners (with the region's own label) */
  runnerLabels?: string[];
}

/** The GitHub environment variable of a secondary region's deploy role (AWS_DEPLOY_ROLE_ARN_US_WEST_2). */
export function regionalVariable(variable: string, region: string): string {
  return `${variable}_${region.replaceAll("-", "_").toUpperCase()}`;
}

/**
 * A chart value set at deploy from a GitHub environment variable (helm --set-string, or the GitOps
 * release file): what exists only once the Terraform has run, or what the generator is not told.
 */
export interface DeployValue {
  variable: string;
  /** the value's path in the chart's values; each top-level key at most once */
  path: string[];
}

/** The chart values a plan's deploy sets from its GitHub environment variables. */
function deployValuesOf(plan: Plan): DeployValue[] {
  const cloud = plan.requirements.cloud.provider;
  const values: DeployValue[] = [];
  // the workload identity the pods sign in as (AKS), named by its client ID
  if (bindsAzureWorkloadIdentity(plan))
    values.push({
      variable: WORKLOAD_CLIENT_ID_VARIABLE,
      path: ["serviceAccount", "annotations", WORKLOAD_CLIENT_ID_ANNOTATION],
    });
  // where the chart's SecretStore reads: the GCP project, the Azure tenant
  if (syncsExternalSecrets(choicesOf(plan), cloud)) {
    if (cloud === "gcp")
      values.push({
        variable: "GCP_PROJECT_ID",
        path: ["externalSecrets", "provider", "gcpsm", "projectID"],
      });
    if (cloud === "azure")
      values.push({
        variable: "AZURE_TENANT_ID",
        path: ["externalSecrets", "provider", "azurekv", "tenantId"],
      });
  }
  return values;
}

/** The chart's name and directory (deploy/helm/<chart>): a DNS-1123 label of the workload's name. */
export function chartName(plan: Plan): string {
  return chartNameOf(plan.requirements.metadata.name);
}

export function deliveryOf(plan: Plan): Delivery {
  const spec = plan.requirements;
  const provider = spec.cloud.provider;
  const name = dns1123(spec.metadata.name, 40);
  const chart = chartName(plan);
  const access = decisionOf(plan, "deployment.access");
  const environmentsChoice = choiceOf(plan, "deployment.environments");
  const listed = spec.deployment.environments;
  const names = environmentsChoice === "production-only" ? [listed[listed.length - 1]] : listed;
  const environments = names.map((env, i) => {
    const production = i === names.length - 1;
    return {
      name: env,
      namespace: production ? name : dns1123(`${name}-${env}`, 63),
      production,
      valuesFile: production ? "" : `values-${env}.yaml`,
      service: cloudName(production ? spec.metadata.name : `${name}-${env}`, SERVICE_NAME_MAX),
      dataEnvironment: production ? "" : env,
    };
  });
  const registry: DeliveryRegistry =
    provider === "aws"
      ? {
          kind: "ecr",
          registryName: cloudName(spec.metadata.name, 40),
          image: cloudName(spec.metadata.name, 40),
          private: false,
        }
      : provider === "gcp"
        ? {
            kind: "artifact-registry",
            registryName: cloudName(spec.metadata.name, 40),
            image: name,
            private: false,
          }
        : provider === "azure"
          ? {
              kind: "acr",
              registryName: azureStorageName(spec.metadata.name),
              image: name,
              private: PRIVATE_REGISTRY.azure,
            }
          : { kind: "ghcr", registryName: "ghcr.io", image: name, private: false };
  const kind = access.choice as DeployAccess;
  const needsRunner = needsRunnerInNetwork(provider, kind);
  const runnerLabels = ["self-hosted", "linux", "x64", `${name}-deploy`];
  // the other regions the workflow deploys production to (the cluster runtime, not under GitOps)
  const secondaries = deploysOtherRegions(provider, choiceOf(plan, "serving.runtime"), kind)
    ? (plan.inventory?.secondaries ?? [])
    : [];
  return {
    access: kind,
    ...(kind === "gitops"
      ? { gitopsController: access.params.controller === "flux" ? "flux" : "argocd" }
      : {}),
    environments,
    approval: spec.deployment.approval,
    release: name,
    chart,
    chartPath: `deploy/helm/${chart}`,
    registry,
    deployValues: deployValuesOf(plan),
    regions: secondaries.map((stack) => ({
      region: stack.region,
      cluster: stack.name,
      // AWS: each region's own deploy role; Google Cloud: the environment's service account, whose
      // project-wide roles reach every region's cluster; Azure: the environment's identity, which each
      // region's stack grants its cluster
      roleVariable:
        provider === "gcp"
          ? DEPLOY_VARIABLES.gcp[2]
          : provider === "azure"
            ? DEPLOY_VARIABLES.azure[0]
            : regionalVariable(DEPLOY_VARIABLES.aws[0], stack.region),
      valuesFile: `values-region-${stack.region}.yaml`,
      ...(needsRunner ? { runnerLabels: [...runnerLabels, stack.region] } : {}),
    })),
    ...(needsRunner
      ? {
          runner: {
            // in several regions each region's runners carry its name: a job reaches its own region's cluster
            labels: secondaries.length > 0 ? [...runnerLabels, spec.cloud.region] : runnerLabels,
            terraform: buildsDeployRunner(provider, kind),
          },
        }
      : {}),
  };
}
