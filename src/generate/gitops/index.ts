/**
 * GitOps (deployment.access: gitops): what the controller inside the cluster syncs, one file per
 * environment under deploy/gitops/. Argo CD gets an Application, Flux a GitRepository and a
 * HelmRelease; each installs the release of src/generate/delivery.ts into the environment's namespace
 * from the chart, the environment's values file and the release values the deploy workflow commits
 * (deploy/releases/<environment>.yaml, absent until the first release). The cluster admin applies
 * these once; from then on a release is a commit.
 */
import { stringify } from "yaml";
import type { TextFileSet } from "../../fileset/index.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import {
  type ADDON_CHARTS,
  type Addon,
  type AddonId,
  addonSettingsOf,
  addonValues,
  GITOPS_ADDONS_FILE,
} from "../../infra/index.js";
import { cloudName } from "../../infra/names.js";
import type { Plan } from "../../plan/types.js";
import { releaseValuesPath } from "../ci/deploy.js";
import { type Delivery, type DeliveryEnvironment, deliveryOf } from "../delivery.js";

/** The branch the controllers follow: the one the deploy workflow commits release values to. */
export const GITOPS_BRANCH = "main";
const ARGOCD_NAMESPACE = "argocd";
const FLUX_NAMESPACE = "flux-system";

function doc(objects: Array<Record<string, unknown>>): string {
  return `# ${GENERATED_HEADER}\n${objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n")}`;
}

function valueFiles(delivery: Delivery, env: DeliveryEnvironment): string[] {
  return [
    `${delivery.chartPath}/values.yaml`,
    ...(env.valuesFile ? [`${delivery.chartPath}/${env.valuesFile}`] : []),
    releaseValuesPath(env),
  ];
}

function argoApplication(delivery: Delivery, env: DeliveryEnvironment, repository: string) {
  // Argo CD reads value files relative to the chart's path
  const depth = delivery.chartPath.split("/").length;
  const relative = (file: string) =>
    file.startsWith(`${delivery.chartPath}/`)
      ? file.slice(delivery.chartPath.length + 1)
      : `${"../".repeat(depth)}${file}`;
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: `${delivery.release}-${env.name}`, namespace: ARGOCD_NAMESPACE },
    spec: {
      project: "default",
      source: {
        repoURL: repository,
        targetRevision: GITOPS_BRANCH,
        path: delivery.chartPath,
        helm: {
          releaseName: delivery.release,
          valueFiles: valueFiles(delivery, env).map(relative),
          // the release values appear with the first release the workflow commits
          ignoreMissingValueFiles: true,
        },
      },
      destination: { server: "https://kubernetes.default.svc", namespace: env.namespace },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  };
}

function fluxObjects(delivery: Delivery, env: DeliveryEnvironment, repository: string) {
  const source = `${delivery.release}-${env.name}`;
  return [
    {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: source, namespace: FLUX_NAMESPACE },
      spec: { interval: "1m", url: repository, ref: { branch: GITOPS_BRANCH } },
    },
    {
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      metadata: { name: source, namespace: FLUX_NAMESPACE },
      spec: {
        interval: "5m",
        releaseName: delivery.release,
        targetNamespace: env.namespace,
        chart: {
          spec: {
            chart: delivery.chartPath,
            sourceRef: { kind: "GitRepository", name: source },
            valuesFiles: valueFiles(delivery, env),
            // the release values appear with the first release the workflow commits
            ignoreMissingValuesFiles: true,
            reconcileStrategy: "Revision",
          },
        },
        install: { remediation: { retries: 3 } },
        upgrade: { remediation: { retries: 3, remediateLastFailure: true } },
      },
    },
  ];
}

/**
 * The values of an add-on's chart under GitOps (addonValues, the Terraform's too): what the Terraform
 * passes by reference is named instead (the cluster, the VPC by its Name tag, the web ACL by name:
 * all var.name in infra/terraform/aws), so the manifests need nothing from the Terraform's state.
 */
function gitopsAddonValues(addon: Addon, plan: Plan): Record<string, unknown> {
  if (addon.install.via !== "gitops") return {};
  const name = cloudName(plan.requirements.metadata.name, 40);
  return addonValues(
    addon.id as keyof typeof ADDON_CHARTS,
    {
      clusterName: name,
      region: plan.requirements.cloud.region,
      vpc: { vpcTags: { Name: name } },
      webAcl: { wafv2AclName: name },
    },
    addonSettingsOf(plan.addons, plan.requirements.cloud.provider),
  );
}

/**
 * What Argo CD must not revert in an add-on's objects: istiod rewrites its validating webhooks'
 * failurePolicy once it is serving, which an unignored diff would undo on every sync.
 */
const ISTIO_WEBHOOKS = {
  group: "admissionregistration.k8s.io",
  kind: "ValidatingWebhookConfiguration",
  jqPathExpressions: [".webhooks[]?.failurePolicy"],
};
const IGNORED_DIFFERENCES: Partial<Record<AddonId, Array<Record<string, unknown>>>> = {
  "istio-base": [ISTIO_WEBHOOKS],
  istiod: [ISTIO_WEBHOOKS],
};

/** The cluster add-ons the GitOps controller installs (src/infra/addons.ts), one Helm chart each. */
function addonObjects(plan: Plan, controller: "argocd" | "flux"): Array<Record<string, unknown>> {
  const objects: Array<Record<string, unknown>> = [];
  for (const addon of plan.addons) {
    if (addon.install.via !== "gitops") continue;
    const { chart } = addon.install;
    const values = gitopsAddonValues(addon, plan);
    if (controller === "argocd")
      objects.push({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: { name: addon.id, namespace: ARGOCD_NAMESPACE },
        spec: {
          project: "default",
          source: {
            repoURL: chart.repository,
            chart: chart.chart,
            targetRevision: chart.version,
            helm: { releaseName: addon.id, valuesObject: values },
          },
          destination: { server: "https://kubernetes.default.svc", namespace: chart.namespace },
          syncPolicy: {
            automated: { prune: true, selfHeal: true },
            // CRDs too large for a client-side apply's annotation (the Prometheus operator's)
            syncOptions: ["CreateNamespace=true", "ServerSideApply=true"],
            // Applications have no order between them: one that needs another running (addon.after)
            // retries until it is
            ...(addon.after?.length
              ? { retry: { limit: 10, backoff: { duration: "30s", factor: 2, maxDuration: "5m" } } }
              : {}),
          },
          ...(IGNORED_DIFFERENCES[addon.id] ? { ignoreDifferences: IGNORED_DIFFERENCES[addon.id] } : {}),
        },
      });
    else
      objects.push(
        {
          apiVersion: "source.toolkit.fluxcd.io/v1",
          kind: "HelmRepository",
          metadata: { name: addon.id, namespace: FLUX_NAMESPACE },
          spec: { interval: "1h", url: chart.repository },
        },
        {
          apiVersion: "helm.toolkit.fluxcd.io/v2",
          kind: "HelmRelease",
          metadata: { name: addon.id, namespace: FLUX_NAMESPACE },
          spec: {
            interval: "30m",
            releaseName: addon.id,
            targetNamespace: chart.namespace,
            chart: {
              spec: {
                chart: chart.chart,
                version: chart.version,
                sourceRef: { kind: "HelmRepository", name: addon.id },
              },
            },
            ...(addon.after?.length ? { dependsOn: addon.after.map((name) => ({ name })) } : {}),
            install: { createNamespace: true, crds: "Create", remediation: { retries: 3 } },
            upgrade: { crds: "CreateReplace", remediation: { retries: 3 } },
            values,
          },
        },
      );
  }
  return objects;
}

export function generateGitops(plan: Plan): TextFileSet {
  const delivery = deliveryOf(plan);
  const repository = plan.requirements.deployment.repository;
  if (delivery.access !== "gitops" || repository === null) return {};
  const files: TextFileSet = {};
  const addons = addonObjects(plan, delivery.gitopsController === "flux" ? "flux" : "argocd");
  if (addons.length) files[GITOPS_ADDONS_FILE] = doc(addons);
  for (const env of delivery.environments)
    files[`deploy/gitops/${env.name}.yaml`] = doc(
      delivery.gitopsController === "flux"
        ? fluxObjects(delivery, env, repository)
        : [argoApplication(delivery, env, repository)],
    );
  return files;
}
