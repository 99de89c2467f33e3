/**
 * Cluster add-ons: what the chart a plan renders needs from its cluster beyond the Kubernetes core
 * API (a CRD's controller, a device plugin, an ingress class, a Prometheus to query, nodes that come
 * and go with the replicas), and how each is installed on each cloud. One source: the chart's values
 * read `clusterNeeds` for which objects to render, and the Terraform and GitOps manifests read
 * `addonsOf` for what to install, so the two cannot disagree. A test renders the chart with real helm
 * and checks every need it finds is met by an installed add-on (test/infra/addons.test.ts).
 *
 * Install paths: the cloud's managed add-on where one exists (an EKS add-on, a GKE node-pool setting,
 * an AKS cluster profile), otherwise a pinned Helm chart installed the way the plan reaches the cluster
 * (deployment.access): an Argo CD Application / Flux HelmRelease under GitOps, a `helm_release` in the
 * Terraform otherwise (run from inside the network where the API is private: the deploy runner). On
 * the team's own cluster (no Terraform) every add-on is a prerequisite the team installs.
 */

import { regionalName } from "./names.js";

/** The chart's needs, decided once from the plan (the helm values render these objects). */
export interface ClusterNeeds {
  /** Argo Rollouts' Rollout and AnalysisTemplate (canary or blue-green) */
  rollouts: boolean;
  /** KEDA's ScaledObject (queue depth or consumer lag) */
  keda: boolean;
  /** the Prometheus operator's ServiceMonitor and PrometheusRule */
  prometheusRules: boolean;
  /** a Prometheus the canary gates and KEDA query (prometheus-operated.monitoring) */
  prometheusQueried: boolean;
  /** nvidia.com/gpu requested by the serving pods */
  gpu: boolean;
  /** an Ingress: the entry point the WAF protects (realtime serving behind private-with-waf) */
  ingress: boolean;
  /**
   * the chart's Secrets synced from the cloud's secret store by External Secrets (security.secrets =
   * external-secrets: Secrets Manager, Secret Manager or Key Vault)
   */
  externalSecrets: boolean;
  /** nodes added and removed with the pods (the serving pool's min < max: replicas that scale, pre-production's) */
  nodeAutoscaling: boolean;
  /**
   * mutual TLS between services (security.identity = workload-identity-mtls): the pods join Istio's
   * ambient mesh and a PeerAuthentication makes mTLS STRICT for them
   */
  mesh: boolean;
}

export function clusterNeeds(
  choices: Record<string, string>,
  hardware: "cpu" | "gpu",
  cloud: string,
  /** whether the serving pool's pods can outgrow its minimum: replicas that scale, or pre-production's */
  podsOutgrowMinimum = false,
): ClusterNeeds {
  const mode = choices["serving.mode"];
  const serving = mode !== "batch";
  const strategy = choices["deployment.strategy"];
  const scaling = choices["scaling.strategy"];
  const rollouts = serving && (strategy === "canary" || strategy === "blue-green");
  const keda = serving && (scaling === "hpa-queue-depth" || scaling === "keda-consumer-lag");
  const prometheusRules = choices["monitoring.metrics"] === "prometheus";
  return {
    rollouts,
    keda,
    prometheusRules,
    // the canary and blue-green analyses and the KEDA Prometheus triggers query it
    prometheusQueried: rollouts || keda,
    gpu: hardware === "gpu",
    ingress: mode === "realtime" && choices["security.network"] === "private-with-waf",
    externalSecrets: syncsExternalSecrets(choices, cloud),
    nodeAutoscaling: serving && podsOutgrowMinimum,
    mesh: choices["security.identity"] === "workload-identity-mtls",
  };
}

/** What a rendered chart needs that an add-on provides. */
export interface Provides {
  /** API groups of the objects it serves (argoproj.io, keda.sh, monitoring.coreos.com) */
  groups?: string[];
  /** extended resources pods request (nvidia.com/gpu) */
  resources?: string[];
  /** an ingress class it implements */
  ingressClasses?: string[];
  /** a Service `<name>.<namespace>` it creates that the chart's queries address */
  services?: string[];
  /** a cluster capability with no object of its own (nodes scaled with the pods) */
  capabilities?: string[];
}

/** A Helm chart at a pinned version, with where the pin was read. */
export interface AddonChart {
  repository: string;
  chart: string;
  version: string;
  appVersion: string;
  namespace: string;
  /** the release tag and file the version was read from */
  source: string;
}

export type AddonId =
  | "aws-load-balancer-controller"
  | "cluster-autoscaler"
  | "nvidia-device-plugin"
  | "argo-rollouts"
  | "keda"
  | "kube-prometheus-stack"
  | "external-secrets"
  | "gke-ingress"
  | "application-gateway-ingress"
  | "istio-base"
  | "istiod"
  | "istio-cni"
  | "ztunnel";

export type AddonInstall =
  /** the cloud manages it: a Terraform block of the cluster turns it on */
  | { via: "cloud"; address: string; file: string; how: string }
  /** a helm_release in the Terraform */
  | { via: "terraform"; address: string; file: string; chart: AddonChart }
  /** an Argo CD Application or Flux HelmRelease the GitOps controller syncs */
  | { via: "gitops"; file: string; chart: AddonChart }
  /** the team's own cluster: a prerequisite the team installs */
  | { via: "customer"; chart: AddonChart };

export interface Addon {
  id: AddonId;
  title: string;
  /** why the plan needs it: the decision whose chart objects need it */
  because: string;
  provides: Provides;
  install: AddonInstall;
  /** the add-ons installed before it (what it needs to be running first): Terraform's depends_on, Flux's dependsOn */
  after?: AddonId[];
}

const ISTIO_VERSION = "1.30.3";

/**
 * The charts, at each project's newest release read on 2026-12-03 from its Chart.yaml at the release
 * tag (tag, commit and file beside each); the values the Terraform sets were checked against the
 * chart's values.yaml at the same tag.
 */
export const ADDON_CHARTS: Readonly<
  Record<Exclude<AddonId, "gke-ingress" | "application-gateway-ingress">, AddonChart>
> = {
  "aws-load-balancer-controller": {
    repository: "https://aws.github.io/eks-charts",
    chart: "aws-load-balancer-controller",
    version: "3.5.0",
    appVersion: "v3.5.0",
    namespace: "kube-system",
    // IngressClassParams has spec.wafv2AclArn since v2.14.0 (chart 1.14.0)
    source:
      "kubernetes-sigs/aws-load-balancer-controller v3.5.0 (11eb202c97e4ae2ee45e0658c4cde9a4b59f33d4) helm/aws-load-balancer-controller/Chart.yaml",
  },
  "cluster-autoscaler": {
    repository: "https://kubernetes.github.io/autoscaler",
    chart: "cluster-autoscaler",
    version: "9.59.0",
    // the autoscaler's minor follows Kubernetes' (EKS 1.35, src/infra/versions.ts)
    appVersion: "1.35.0",
    namespace: "kube-system",
    source:
      "kubernetes/autoscaler cluster-autoscaler-chart-9.59.0 (5a0b98e45f896e98132737240ac131a519d3b33d) cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml",
  },
  "nvidia-device-plugin": {
    repository: "https://nvidia.github.io/k8s-device-plugin",
    chart: "nvidia-device-plugin",
    version: "0.20.0",
    appVersion: "0.20.0",
    namespace: "kube-system",
    source:
      "NVIDIA/k8s-device-plugin v0.20.0 (1b826acc6af3079d8923bac395c3124b8861a9a6) deployments/helm/nvidia-device-plugin/Chart.yaml",
  },
  "argo-rollouts": {
    repository: "https://argoproj.github.io/argo-helm",
    chart: "argo-rollouts",
    version: "2.41.0",
    appVersion: "v1.9.0",
    namespace: "argo-rollouts",
    source:
      "argoproj/argo-helm argo-rollouts-2.41.0 (8796aeaa82428f96c3a20293f75a1a805f99d32b) charts/argo-rollouts/Chart.yaml",
  },
  keda: {
    repository: "https://kedacore.github.io/charts",
    chart: "keda",
    version: "2.20.2",
    appVersion: "2.20.2",
    namespace: "keda",
    source: "kedacore/charts v2.20.2 (cbb9bb8ce0809dc9048f72302f7c09765d66ed56) keda/Chart.yaml",
  },
  "kube-prometheus-stack": {
    repository: "https://prometheus-community.github.io/helm-charts",
    chart: "kube-prometheus-stack",
    version: "88.5.3",
    appVersion: "v0.93.1",
    namespace: "monitoring",
    source:
      "prometheus-community/helm-charts kube-prometheus-stack-88.5.3 (ea930baeebeba39f56d6b44e351f23b2a072a600) charts/kube-prometheus-stack/Chart.yaml",
  },
  "external-secrets": {
    repository: "https://charts.external-secrets.io",
    chart: "external-secrets",
    version: "2.9.0",
    appVersion: "v2.9.0",
    namespace: "external-secrets",
    // serves external-secrets.io/v1 (v1beta1 no longer served)
    source:
      "external-secrets/external-secrets helm-chart-2.9.0 (cc5bfbc2234ace9cb0caff4ea89c435cf517b27b) deploy/charts/external-secrets/Chart.yaml",
  },
  // Istio's charts carry version 1.0.0 in the repository; the release build stamps the tag's version
  // on what it publishes to the chart repository, so the pin is the release tag
  "istio-base": istioChart("base", "manifests/charts/base"),
  istiod: istioChart("istiod", "manifests/charts/istio-control/istio-discovery"),
  "istio-cni": istioChart("cni", "manifests/charts/istio-cni"),
  ztunnel: istioChart("ztunnel", "manifests/charts/ztunnel"),
};

/** Istio's newest release on 2026-12-03 (1.30.3, tagged 2026-07-13), whose charts install ambient mode. */
function istioChart(chart: string, path: string): AddonChart {
  return {
    repository: "https://istio-release.storage.googleapis.com/charts",
    chart,
    version: ISTIO_VERSION,
    appVersion: ISTIO_VERSION,
    namespace: "istio-system",
    source: `istio/istio ${ISTIO_VERSION} (56df41f63e513f834c9a3af33d8aed82d1d961f2) ${path}/Chart.yaml`,
  };
}

/**
 * The cloud secret stores the chart's ExternalSecrets read, by cloud, as External Secrets names the
 * provider: Secrets Manager, Secret Manager, Key Vault (the Terraform writes the chart's secrets to
 * each: secrets.tf).
 */
export const SECRET_STORES: Readonly<Record<string, string>> = { aws: "aws", gcp: "gcpsm", azure: "azurekv" };

const SECRET_STORE_TITLES: Readonly<Record<string, string>> = {
  aws: "Secrets Manager",
  gcp: "Secret Manager",
  azure: "Key Vault",
};

/** Whether the chart's Secrets are synced by External Secrets (the plan chose it, on a cloud whose store is generated). */
export function syncsExternalSecrets(choices: Record<string, string>, cloud: string): boolean {
  return (
    choices["serving.runtime"] === "kubernetes" &&
    choices["security.secrets"] === "external-secrets" &&
    Object.hasOwn(SECRET_STORES, cloud)
  );
}

/**
 * The secrets the Terraform writes to the cloud's store and External Secrets syncs into the cluster,
 * under the names the store holds them: the online store's URL, and each environment's serving
 * tokens. Secrets Manager names take paths; Secret Manager IDs and Key Vault names take dashes.
 */
export function cloudSecretKeys(
  name: string,
  cloud: string,
  where?: { region: string; primaryRegion: string },
): {
  onlineStore: string;
  serveTokens: (environment: string) => string;
} {
  const sep = cloud === "aws" ? "/" : "-";
  // Secret Manager's names are the project's, not a region's: each region's own online store URL
  // (another region's stack, its own store) is named after that stack; the serving tokens are shared
  const store =
    cloud === "gcp" && where && where.region !== where.primaryRegion
      ? regionalName(name, where.region)
      : name;
  return {
    onlineStore: `${store}${sep}online-store`,
    serveTokens: (environment) => `${name}${sep}${environment}${sep}serve-tokens`,
  };
}

/**
 * The Key Vault the Terraform writes the chart's secrets to on Azure (secrets.tf): named after the
 * storage account (globally unique like it, 3-24 characters), so the chart's SecretStore can name
 * its URL without reading Terraform state.
 */
export function azureSecretsVaultName(storageAccountName: string): string {
  return `${storageAccountName.slice(0, 21)}sec`;
}

/**
 * What an add-on's values name in the cloud: the cluster, its region, the VPC and the web ACL. The
 * Terraform passes references (module.eks.cluster_name, module.vpc.vpc_id, the ACL's ARN); GitOps
 * manifests, which cannot read Terraform state, pass the names the Terraform gives them.
 */
export interface AddonRefs<V> {
  clusterName: V;
  region: V;
  /** vpcId, or vpcTags to find it by */
  vpc: Record<string, unknown>;
  /** wafv2AclArn, or wafv2AclName */
  webAcl: Record<string, unknown>;
}

/** What an add-on's values depend on beyond names: the cloud, and whether the pods are in the mesh. */
export interface AddonSettings {
  cloud: string;
  /** the chart's pods are in the ambient mesh (ClusterNeeds.mesh): Prometheus joins it to scrape them */
  mesh: boolean;
}

/** The settings of a plan's add-ons, from the add-ons it installs. */
export function addonSettingsOf(addons: readonly Addon[], cloud: string): AddonSettings {
  return { cloud, mesh: addons.some((a) => a.id === "ztunnel") };
}

/**
 * The label that puts a pod in Istio's ambient mesh (the CNI agent redirects its traffic through the
 * node's ztunnel; istio-cni's values.yaml, ambient.enablementSelectors).
 */
export const MESH_DATAPLANE_LABEL: Readonly<Record<string, string>> = {
  "istio.io/dataplane-mode": "ambient",
};

/**
 * Where mesh traffic reaches a pod, which a NetworkPolicy must admit: ztunnel tunnels it to port 15008
 * (HBONE), and the kubelet's probes arrive from the link-local address ambient mode rewrites them to
 * (Istio's "Ambient and Kubernetes NetworkPolicy").
 */
export const MESH_PORTS = { hbone: 15008, probeSource: "169.254.7.127/32" } as const;

/** The service accounts of the add-ons that get a cloud role (their Pod Identity associations). */
export const ADDON_SERVICE_ACCOUNTS = {
  "cluster-autoscaler": "cluster-autoscaler",
  "aws-load-balancer-controller": "aws-load-balancer-controller",
  "external-secrets": "external-secrets",
} as const;

/**
 * The values each add-on's chart is installed with, one source for the Terraform's helm_release and
 * the GitOps manifests (every key checked against the chart's values.yaml at its pinned tag).
 */
export function addonValues<V>(
  id: keyof typeof ADDON_CHARTS,
  refs: AddonRefs<V>,
  settings: AddonSettings,
): Record<string, unknown> {
  // GKE's CNI binaries live elsewhere and its system-node-critical pods need a ResourceQuota in their
  // namespace: the charts' gke platform profile sets both
  const platform = settings.cloud === "gcp" ? { global: { platform: "gke" } } : {};
  switch (id) {
    case "cluster-autoscaler":
      // adds serving nodes while pods are pending and removes idle ones, within each managed node
      // group's min and max (EKS tags their Auto Scaling groups for auto-discovery)
      return {
        cloudProvider: "aws",
        awsRegion: refs.region,
        autoDiscovery: { clusterName: refs.clusterName },
        rbac: { serviceAccount: { name: ADDON_SERVICE_ACCOUNTS[id] } },
      };
    case "aws-load-balancer-controller":
      // the ingress class the chart's Ingress names: an internal ALB, with the web ACL applied to
      // every load balancer of the class
      return {
        clusterName: refs.clusterName,
        region: refs.region,
        ...refs.vpc,
        serviceAccount: { name: ADDON_SERVICE_ACCOUNTS[id] },
        createIngressClassResource: true,
        ingressClass: INGRESS_CLASS.aws,
        ingressClassParams: {
          create: true,
          name: INGRESS_CLASS.aws,
          spec: { scheme: "internal", ...refs.webAcl },
        },
      };
    case "nvidia-device-plugin":
      // on the GPU nodes (their label and taint); the chart's default affinity wants
      // node-feature-discovery labels, which these nodes do not carry
      return {
        nodeSelector: { "stackwright.dev/pool": "gpu" },
        affinity: null,
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      };
    case "argo-rollouts":
      return { installCRDs: true };
    case "keda":
      return { crds: { install: true } };
    case "kube-prometheus-stack":
      // the operator's Prometheus selects every namespace's ServiceMonitors and rules, not only the
      // release's own
      return {
        prometheus: {
          prometheusSpec: {
            serviceMonitorSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
            ruleSelectorNilUsesHelmValues: false,
            // in the mesh its scrapes reach pods whose mTLS is STRICT
            ...(settings.mesh ? { podMetadata: { labels: { ...MESH_DATAPLANE_LABEL } } } : {}),
          },
        },
      };
    case "external-secrets":
      return { installCRDs: true, serviceAccount: { name: ADDON_SERVICE_ACCOUNTS[id] } };
    case "istio-base":
      // the CRDs (PeerAuthentication among them) and the default revision's validation
      return {};
    case "istiod":
      return { profile: "ambient" };
    case "istio-cni":
      return { profile: "ambient", ...platform };
    case "ztunnel":
      return { profile: "ambient", ...platform };
  }
}

/**
 * The tag the AWS Load Balancer Controller puts on the Ingress's load balancer (the chart's
 * alb.ingress.kubernetes.io/tags annotation), by which the multi-region routing finds each region's
 * production entry point: `<release>.<namespace>`.
 */
export const ENTRY_POINT_TAG = "stackwright.dev/entry-point";

export function entryPointTagValue(release: string, namespace: string): string {
  return `${release}.${namespace}`;
}

/**
 * The standalone network endpoint groups GKE creates in each zone from the chart's Service (its
 * cloud.google.com/neg annotation, service.yaml): `<release>-<namespace>`, cut to 63 characters, which
 * the multi-region global load balancer (infra/terraform/gcp/global) looks up in every region's zones.
 */
export function gkeNegName(release: string, namespace: string): string {
  return `${release}-${namespace}`.slice(0, 63).replace(/-+$/, "");
}

/** The global address GKE puts the chart's Ingress on (ingress.tf, and the Ingress's annotation). */
export function gkeIngressAddressName(name: string): string {
  return `${name}-ingress`;
}

/** The AWS VPC's address range (network.tf). */
export const AWS_VPC_CIDR = "10.40.0.0/16";

/**
 * The VPC's load-balancer subnets (network.tf: the intra subnets, one /24 per zone, with no route out
 * and nothing else in them): the internal ALB the Ingress gets lives there, so the chart's
 * NetworkPolicy admits the load balancer from this range and not from the whole VPC, where the pods
 * themselves have their addresses.
 */
export const AWS_LOAD_BALANCER_SUBNETS = "10.40.208.0/21";

/**
 * The ingress class the chart's Ingress names, per cloud: the AWS Load Balancer Controller's, and
 * GKE's own controller (an external Application Load Balancer; GKE reads the class from the
 * kubernetes.io/ingress.class annotation, not from ingressClassName), and AKS's Application Gateway
 * Ingress Controller add-on.
 */
export const INGRESS_CLASS: Readonly<Record<"aws" | "gcp" | "azure", string>> = {
  aws: "alb",
  gcp: "gce",
  azure: "azure-application-gateway",
};

/** The subnet of the Azure Application Gateway (ingress.tf): the chart's NetworkPolicy admits it. */
export const AZURE_GATEWAY_SUBNET = "10.40.20.0/24";

/**
 * Where each ingress class's load balancer reaches the pods from, which the chart's NetworkPolicy
 * admits: the ALB's subnets (AWS), Google's front ends and health checkers (GKE, GCP's
 * load-balancing firewall documentation), the Application Gateway's subnet (AKS).
 */
export const INGRESS_SOURCES: Readonly<Record<string, readonly string[]>> = {
  [INGRESS_CLASS.aws]: [AWS_LOAD_BALANCER_SUBNETS],
  [INGRESS_CLASS.gcp]: ["130.211.0.0/22", "35.191.0.0/16"],
  [INGRESS_CLASS.azure]: [AZURE_GATEWAY_SUBNET],
};

/** The namespace the Prometheus the chart queries runs in (PROMETHEUS_ADDRESS: prometheus-operated.monitoring). */
export const MONITORING_NAMESPACE = "monitoring";

export interface AddonContext {
  cloud: "aws" | "gcp" | "azure" | "kubernetes";
  choices: Record<string, string>;
  hardware: "cpu" | "gpu";
  /** deployment.access: gitops installs charts through the controller */
  access: string;
  /** the serving pool's pods can outgrow its minimum (replicas min < max, or pre-production namespaces) */
  podsOutgrowMinimum: boolean;
}

/** The file the GitOps add-on manifests are written to. */
export const GITOPS_ADDONS_FILE = "deploy/gitops/addons.yaml";

/** The add-ons a plan's cluster needs and how each is installed; none off a cluster. */
export function addonsOf(ctx: AddonContext): Addon[] {
  if (ctx.choices["serving.runtime"] !== "kubernetes") return [];
  const { cloud } = ctx;
  const needs = clusterNeeds(ctx.choices, ctx.hardware, cloud, ctx.podsOutgrowMinimum);
  const helm = (id: keyof typeof ADDON_CHARTS, address: string): AddonInstall => {
    const chart = ADDON_CHARTS[id];
    if (cloud === "kubernetes") return { via: "customer", chart };
    if (ctx.access === "gitops") return { via: "gitops", file: GITOPS_ADDONS_FILE, chart };
    return { via: "terraform", address, file: "addons.tf", chart };
  };
  const addons: Addon[] = [];
  if (needs.nodeAutoscaling) {
    const provides = { capabilities: ["node-autoscaling"] };
    const because =
      "the serving pods outgrow the node pool's minimum (replicas that scale, or pre-production's): nodes follow them";
    if (cloud === "gcp")
      addons.push({
        id: "cluster-autoscaler",
        title: "GKE cluster autoscaler (the serving node pool's autoscaling)",
        because,
        provides,
        install: {
          via: "cloud",
          address: "google_container_node_pool.serving",
          file: "cluster.tf",
          how: "autoscaling { min_node_count, max_node_count }",
        },
      });
    else if (cloud === "azure")
      addons.push({
        id: "cluster-autoscaler",
        title: "AKS cluster autoscaler (the serving node pool's auto scaling)",
        because,
        provides,
        install: {
          via: "cloud",
          address: "azurerm_kubernetes_cluster_node_pool.serving",
          file: "cluster.tf",
          how: "auto_scaling_enabled = true, min_count, max_count",
        },
      });
    else
      addons.push({
        id: "cluster-autoscaler",
        title: "Cluster Autoscaler (the managed node groups' Auto Scaling groups, found by tag)",
        because,
        provides,
        install: helm("cluster-autoscaler", "helm_release.cluster_autoscaler"),
      });
  }
  if (needs.gpu) {
    const because = "serving.hardware=gpu: the pods request nvidia.com/gpu";
    const provides = { resources: ["nvidia.com/gpu"] };
    if (cloud === "gcp")
      addons.push({
        id: "nvidia-device-plugin",
        title: "GKE-managed NVIDIA driver and device plugin",
        because,
        provides,
        install: {
          via: "cloud",
          address: "google_container_node_pool.serving",
          file: "cluster.tf",
          how: "guest_accelerator { gpu_driver_installation_config }",
        },
      });
    else
      addons.push({
        id: "nvidia-device-plugin",
        title: "NVIDIA device plugin",
        because,
        provides,
        install: helm("nvidia-device-plugin", "helm_release.nvidia_device_plugin"),
      });
  }
  if (needs.rollouts)
    addons.push({
      id: "argo-rollouts",
      title: "Argo Rollouts",
      because: `deployment.strategy=${ctx.choices["deployment.strategy"]}: the chart renders a Rollout`,
      provides: { groups: ["argoproj.io"] },
      install: helm("argo-rollouts", "helm_release.argo_rollouts"),
    });
  if (needs.keda) {
    const because = `scaling.strategy=${ctx.choices["scaling.strategy"]}: the chart renders a ScaledObject`;
    const provides = { groups: ["keda.sh"] };
    if (cloud === "azure")
      addons.push({
        id: "keda",
        title: "AKS-managed KEDA add-on",
        because,
        provides,
        install: {
          via: "cloud",
          address: "azurerm_kubernetes_cluster.main",
          file: "cluster.tf",
          how: "workload_autoscaler_profile { keda_enabled = true }",
        },
      });
    else
      addons.push({
        id: "keda",
        title: "KEDA",
        because,
        provides,
        install: helm("keda", "helm_release.keda"),
      });
  }
  if (needs.prometheusRules || needs.prometheusQueried)
    addons.push({
      id: "kube-prometheus-stack",
      title: "Prometheus operator, Prometheus and Alertmanager (kube-prometheus-stack)",
      because: needs.prometheusRules
        ? "monitoring.metrics=prometheus: the chart renders a ServiceMonitor and PrometheusRule"
        : "the canary gates and KEDA query Prometheus",
      provides: {
        groups: ["monitoring.coreos.com"],
        services: [`prometheus-operated.${MONITORING_NAMESPACE}`],
      },
      install: helm("kube-prometheus-stack", "helm_release.kube_prometheus_stack"),
    });
  if (needs.externalSecrets)
    addons.push({
      id: "external-secrets",
      title: `External Secrets Operator (the chart's Secrets from ${SECRET_STORE_TITLES[cloud] ?? "the cloud's secret store"})`,
      because: "security.secrets=external-secrets: the chart renders a SecretStore and ExternalSecrets",
      provides: { groups: ["external-secrets.io"] },
      install: helm("external-secrets", "helm_release.external_secrets"),
    });
  if (needs.ingress && cloud === "gcp")
    addons.push({
      id: "gke-ingress",
      title:
        "GKE Ingress and its NEG controller (the external Application Load Balancer, with the Cloud Armor policy on its backend; or the pods' network endpoint groups a multi-region plan's global load balancer reaches)",
      because:
        "security.network=private-with-waf: the chart's entry point (its Ingress, or its Service's endpoint groups behind the global load balancer) is what the Cloud Armor policy protects",
      provides: {
        ingressClasses: [INGRESS_CLASS.gcp],
        groups: ["cloud.google.com"],
        capabilities: ["network-endpoint-groups"],
      },
      install: {
        via: "cloud",
        address: "google_container_cluster.main",
        file: "cluster.tf",
        how: "addons_config { http_load_balancing }",
      },
    });
  if (needs.ingress && cloud === "azure")
    addons.push({
      id: "application-gateway-ingress",
      title:
        "Application Gateway Ingress Controller (the WAF_v2 gateway, with the WAF policy, in front of the pods)",
      because:
        "security.network=private-with-waf: the chart's Ingress is the entry point the WAF policy protects",
      provides: { ingressClasses: [INGRESS_CLASS.azure] },
      install: {
        via: "cloud",
        address: "azurerm_kubernetes_cluster.main",
        file: "cluster.tf",
        how: "ingress_application_gateway { gateway_id }",
      },
    });
  if (needs.ingress && cloud === "aws")
    addons.push({
      id: "aws-load-balancer-controller",
      title: "AWS Load Balancer Controller (the Ingress's ALB, with the WAF web ACL)",
      because: "security.network=private-with-waf: the chart's Ingress is the entry point the WAF protects",
      provides: { ingressClasses: [INGRESS_CLASS.aws] },
      install: helm("aws-load-balancer-controller", "helm_release.aws_load_balancer_controller"),
    });
  if (needs.mesh) {
    // Istio in ambient mode: mTLS between every pair of pods in the mesh without a sidecar in any of
    // them (probes, Prometheus and batch jobs keep working unchanged), one mechanism on every cloud.
    // AKS's managed Istio add-on runs sidecars only and GKE's managed mesh needs a fleet membership;
    // both would make the chart differ by cloud.
    const because =
      "security.identity=workload-identity-mtls: the chart's pods join the ambient mesh and its PeerAuthentication makes mTLS STRICT";
    // istiod validates against the base chart's CRDs; the CNI agent and ztunnel take their
    // configuration and certificates from istiod
    const mesh: Array<[keyof typeof ADDON_CHARTS, string, string, Provides, AddonId[]]> = [
      [
        "istio-base",
        "Istio base (the mesh's CRDs)",
        "helm_release.istio_base",
        { groups: ["security.istio.io"] },
        [],
      ],
      [
        "istiod",
        "istiod (the mesh's control plane and certificate authority: each pod's SPIFFE identity)",
        "helm_release.istiod",
        { capabilities: ["mesh-control-plane"] },
        ["istio-base"],
      ],
      [
        "istio-cni",
        "Istio CNI agent (redirects the mesh pods' traffic to ztunnel)",
        "helm_release.istio_cni",
        { capabilities: ["mesh-redirection"] },
        ["istiod"],
      ],
      [
        "ztunnel",
        "ztunnel (each node's proxy: mTLS between the mesh's pods)",
        "helm_release.ztunnel",
        { capabilities: ["mesh-mtls"] },
        ["istiod"],
      ],
    ];
    for (const [id, title, address, provides, after] of mesh)
      addons.push({ id, title, because, provides, install: helm(id, address), after });
  }
  return addons;
}
