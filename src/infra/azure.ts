/** What the Azure Terraform (templates/terraform/azure/) builds for a plan, resource by resource. */
import { addHelmReleases, addonsFor, facts, hours, type InventoryBuilder } from "./build.js";
import { addEndpointAlarms, managedInstanceFor } from "./managed-endpoint.js";
import { chartNameOf } from "./names.js";
import type { InventoryInput, Meter } from "./types.js";
import {
  auditStorage,
  averageReplicas,
  batchRunHours,
  HOURS_PER_MONTH,
  imageStorage,
  natData,
  platformLogs,
  predictionLogs,
  replicatedData,
  requests,
  servedData,
  servingNodeDiskGb,
  storedData,
  type Usage,
} from "./usage.js";

/** Nodes of the AKS default (system) pool (cluster.tf renders it from `systemNodes`). */
const SYSTEM_NODES = 2;
/**
 * OS disk of every AKS node, managed (cluster.tf renders `nodeDiskGb`): a 128 GiB Premium SSD is a
 * P10, the tier `premiumSsdP10Monthly` prices. Change both together.
 */
const NODE_DISK_GB = 128;
/** Premium SSD tiers by size (GiB), each with the price row of its disk-month. */
const PREMIUM_SSD_TIERS = [
  { gib: 128, tier: "P10", price: "premiumSsdP10Monthly" },
  { gib: 256, tier: "P15", price: "premiumSsdP15Monthly" },
  { gib: 512, tier: "P20", price: "premiumSsdP20Monthly" },
  { gib: 1024, tier: "P30", price: "premiumSsdP30Monthly" },
  { gib: 2048, tier: "P40", price: "premiumSsdP40Monthly" },
] as const;

/** The smallest Premium SSD tier of at least `gib` (an LLM engine's checkpoint sizes the serving disks). */
function premiumSsdTier(gib: number): (typeof PREMIUM_SSD_TIERS)[number] {
  const tier = PREMIUM_SSD_TIERS.find((t) => t.gib >= gib);
  if (!tier)
    throw new Error(`a serving node disk of ${gib} GiB is larger than the largest tier priced (P40, 2 TiB)`);
  return tier;
}
/** The runner's OS disk, Standard HDD (runner.tf renders `runnerDiskGb`): 64 GiB is an S6. */
const RUNNER_DISK_GB = 64;
/** Instances of the runner's scale set (runner.tf renders `runnerInstances`). */
const RUNNER_INSTANCES = 1;
/** Container size of every container app and job (serverless.tf): 1 vCPU, 2 GiB. */
const APP_VCPU = 1;
const APP_GB = 2;
/**
 * Days the Log Analytics workspace keeps its data (main.tf renders `logRetentionDays`); the first
 * 31 are included in the ingestion price, the rest are billed per GB-month.
 */
const LOG_RETENTION_DAYS = 90;
const LOG_INCLUDED_DAYS = 31;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
/** Container Insights' own records (node and pod inventory, performance counters), per node. */
const CONTAINER_INSIGHTS_GB_PER_NODE = 3;
/** A pre-production container app scales from zero: the hours a release is exercised there. */
const PRE_PRODUCTION_ACTIVE_HOURS = 40;

/**
 * Terraform block types that carry a charge on Azure: each one the Terraform renders is a resource of
 * the inventory and priced. Not listed, because they carry no charge of their own:
 * - resource groups, virtual networks, subnets, NAT and private-DNS associations, user-assigned
 *   identities, federated credentials, role assignments, budgets;
 * - azurerm_container_app_environment: a consumption-only environment (no workload profiles) has no
 *   charge; its apps and jobs are billed per use, and the logs it sends are priced on it as the
 *   workspace's ingestion;
 * - azurerm_monitor_diagnostic_setting: free itself, and the Activity Log it exports is free to
 *   ingest into Log Analytics; the storage account it also writes to is priced;
 * - azurerm_web_application_firewall_policy: an Application Gateway WAF policy is billed only through
 *   the WAF_v2 gateway it is associated with (ingress.tf, priced there; on serverless runtimes none);
 * - azurerm_application_insights: workspace-based, its telemetry is billed as the workspace's
 *   ingestion, and nothing this Terraform deploys sends it any;
 * - azurerm_machine_learning_workspace: free; the compute and storage it uses are billed apart.
 */
/**
 * Private endpoints an Azure Machine Learning workspace's managed network creates for its online
 * deployments (isolation AllowOnlyApprovedOutbound, no FQDN rule, so no managed firewall): one each to
 * the workspace's container registry, storage account and key vault.
 */
const MANAGED_NETWORK_ENDPOINTS = 3;

/** The Application Gateway's autoscale minimum, and the capacity units each instance reserves (Azure's v2 SKU). */
const GATEWAY_MIN_INSTANCES = 1;
const CAPACITY_UNITS_PER_INSTANCE = 10;

export const AZURE_BILLABLE = [
  "azurerm_cdn_frontdoor_profile",
  "azurerm_storage_object_replication",
  "azurerm_application_gateway",
  "azurerm_log_analytics_workspace",
  "azurerm_public_ip",
  "azurerm_nat_gateway",
  "azurerm_key_vault",
  "azurerm_key_vault_key",
  "azurerm_storage_account",
  "azurerm_container_registry",
  "azurerm_private_endpoint",
  "azurerm_private_dns_zone",
  "azurerm_kubernetes_cluster",
  "azurerm_kubernetes_cluster_node_pool",
  "azurerm_container_app",
  "azurerm_container_app_job",
  "azurerm_redis_cache",
  "azurerm_linux_virtual_machine_scale_set",
  "azapi_resource",
  "azurerm_monitor_metric_alert",
] as const;

const round2 = (n: number) => Math.round(n * 100) / 100;

/** GB-months of retention beyond the included days, for a month's ingestion kept LOG_RETENTION_DAYS. */
function retained(gbPerMonth: number): number {
  return round2((gbPerMonth * (LOG_RETENTION_DAYS - LOG_INCLUDED_DAYS)) / DAYS_PER_MONTH);
}

/** Ingestion of `usage` into the workspace, and its retention past the included days. */
function logMeters(usage: Usage, what: string): Meter[] {
  return [
    { price: "logIngestPerGb", ...usage, unit: `GB ingested (${what})` },
    {
      price: "logRetentionPerGbMonth",
      quantity: retained(usage.quantity),
      unit: `GB-month retained past the ${LOG_INCLUDED_DAYS} included days`,
      assumption: `${usage.quantity} GB/month kept ${LOG_RETENTION_DAYS} days: ${LOG_RETENTION_DAYS - LOG_INCLUDED_DAYS} days billed`,
    },
  ];
}

export function azureInventory(input: InventoryInput, b: InventoryBuilder): void {
  const f = facts(input);
  const { capacity, prices, choices, spec } = input;
  const system = prices.table.systemInstance;
  const key = "azurerm_key_vault_key.main";
  const workspace = "azurerm_log_analytics_workspace.main";
  const registry = "azurerm_container_registry.main";
  const data = "azurerm_storage_account.data";
  const encrypted: string[] = [];
  // local.deploy_environments (deploy.tf) is deliveryOf's list: every listed environment unless the
  // plan deploys production only. The per-environment identities, apps and jobs are for_each over it.
  const listed = spec.deployment.environments;
  const deployEnvironments =
    choices["deployment.environments"] === "production-only" ? listed.slice(-1) : listed;
  const production = deployEnvironments[deployEnvironments.length - 1];
  const replicasMax = Math.max(1, capacity.replicasMax);
  const replicas = averageReplicas(input);

  // main.tf
  b.vars.logRetentionDays = LOG_RETENTION_DAYS;

  // network.tf: one NAT gateway, non-zonal (Azure places it; it serves the subnets in every zone)
  b.add({
    address: "azurerm_virtual_network.main",
    file: "network.tf",
    title: "Virtual network: private subnets, no public addresses on nodes or runners",
    implements: ["private-network"],
  });
  b.vars.zones = f.zones;
  const natTraffic: Usage = f.cluster
    ? {
        quantity: natData(input).quantity,
        assumption: `10% of ${spec.data.volumeGbPerDay} GB/day x 30 days leaves the nodes through NAT (the registry is reached through its private endpoint; the data storage account has none, so the nodes' blob traffic crosses the NAT too: measure and adjust)`,
      }
    : f.runner
      ? {
          quantity: 5,
          assumption:
            "about 5 GB/month of the runner's downloads (packages, tools, base images): on this runtime only the runners' subnet leaves through the NAT gateway",
        }
      : { quantity: 0, assumption: "no subnet of this runtime leaves through the NAT gateway" };
  const natSubnets = [...(f.cluster ? ["nodes"] : []), ...(f.runner ? ["runners"] : [])];
  b.add({
    address: "azurerm_nat_gateway.main",
    file: "network.tf",
    title: `NAT gateway (one, regional): egress of the ${natSubnets.join(" and ") || "no"} subnet${natSubnets.length === 1 ? "" : "s"}`,
    item: "NAT gateways",
    meters: [
      { price: "natGatewayHourly", quantity: hours(1), unit: "gateway-hours" },
      { price: "natGatewayPerGb", ...natTraffic, unit: "GB processed" },
    ],
    implements: ["egress-nat"],
    attributes: { natGateways: 1 },
  });
  b.add({
    address: "azurerm_public_ip.nat",
    file: "network.tf",
    title: "Public IP of the NAT gateway (Standard, static)",
    item: "NAT gateways",
    meters: [{ price: "publicIpHourly", quantity: hours(1), unit: "public IPv4 address-hours" }],
  });
  b.relate("fronts", "azurerm_public_ip.nat", ["azurerm_nat_gateway.main"]);

  // kms.tf
  if (f.cmk)
    azureKeyVault(
      b,
      f.cluster ? 5 : 0.1,
      f.cluster
        ? "about 50,000 wrap/unwrap calls a month: the AKS KMS plugin's health checks and data-key refreshes, and the storage account's key refreshes"
        : "about 1,000 wrap/unwrap calls a month: the storage account's key refreshes",
    );

  // storage.tf
  b.add({
    address: data,
    file: "storage.tf",
    title: `Data storage account (Blob, ZRS, versioned, private${f.cmk ? ", customer-managed key" : ""})`,
    item: "Object storage",
    meters: [{ price: "objectStorageZrsPerGbMonth", ...storedData(input), unit: "GB-month" }],
    implements: ["encryption-at-rest", "versioned-data"],
  });
  encrypted.push(data);

  // registry.tf: one registry, the primary's, geo-replicated into every other region of the plan
  // (another region's stack reaches it through a private endpoint of its own)
  const image = imageStorage(input);
  const georeplicas = f.multiRegion ? spec.availability.regions.slice(1) : [];
  if (!f.secondary)
    b.add({
      address: registry,
      file: "registry.tf",
      title: `Container registry (Premium${f.privateRegistry ? ", no public access" : ""}${georeplicas.length ? `, geo-replicated to ${georeplicas.join(", ")}` : ""})`,
      item: "Container registry",
      meters: [
        {
          price: "acrPremiumDaily",
          quantity: round2(DAYS_PER_MONTH),
          unit: `registry-days (500 GB included; ${image.quantity} GB of images kept: ${image.assumption})`,
        },
        // each geo-replica is billed as a Premium registry of its own
        ...(georeplicas.length
          ? [
              {
                price: "acrPremiumDaily",
                quantity: round2(DAYS_PER_MONTH * georeplicas.length),
                unit: `registry-days of the geo-replica${georeplicas.length > 1 ? "s" : ""} in ${georeplicas.join(", ")}`,
              },
            ]
          : []),
      ],
    });
  if (f.privateRegistry) {
    const imageGb = round2(0.3 + spec.model.sizeMb / 1024);
    // nodes and app replicas keep the image between runs; a job's replicas pull it on every run
    const { runs } = batchRunHours(input);
    const jobRuns = !f.cluster && f.batch ? runs + (deployEnvironments.length - 1) : 0;
    const pulls = jobRuns
      ? 4 + jobRuns * replicasMax
      : 4 * (1 + replicasMax + (f.cluster && !f.batch ? f.preProduction.length : 0));
    b.add({
      address: "azurerm_private_endpoint.registry",
      file: "registry.tf",
      title: "Private endpoint of the container registry",
      item: "Private endpoints",
      meters: [
        { price: "privateEndpointHourly", quantity: hours(1), unit: "endpoint-hours" },
        {
          price: "privateEndpointPerGb",
          quantity: round2(pulls * imageGb),
          unit: "GB processed",
          assumption: jobRuns
            ? `a ${imageGb} GB image pushed 4 times a month and pulled by ${replicasMax} replica${replicasMax > 1 ? "s" : ""} on each of ${jobRuns} job runs`
            : `4 releases/month, each a ${imageGb} GB image pushed once and pulled by up to ${pulls / 4 - 1} ${f.cluster ? "node" : "replica"}${pulls / 4 - 1 > 1 ? "s" : ""}`,
        },
      ],
      implements: ["private-network"],
    });
    if (b.has(registry)) b.relate("fronts", "azurerm_private_endpoint.registry", [registry]);
    b.add({
      address: "azurerm_private_dns_zone.registry",
      file: "registry.tf",
      title: "Private DNS zone privatelink.azurecr.io",
      item: "Private endpoints",
      meters: [{ price: "privateDnsZoneMonthly", quantity: 1, unit: "zone-months" }],
    });
  }
  const managed = choices["serving.runtime"] === "managed-endpoint";
  if ((choices.registry === "azureml-registry" || managed) && !f.secondary) {
    b.add({
      address: "azurerm_machine_learning_workspace.main",
      file: "registry.tf",
      title: `Azure Machine Learning workspace: ${[choices.registry === "azureml-registry" ? "the model registry" : "", managed ? "the online endpoints, in its managed network" : ""].filter(Boolean).join(", and ")}`,
      ...(managed
        ? {
            item: "Private endpoints",
            meters: [
              {
                price: "privateEndpointHourly",
                quantity: hours(MANAGED_NETWORK_ENDPOINTS),
                unit: "private endpoint-hours",
                assumption: `the managed network's private endpoints to the workspace's container registry, storage account and key vault (${MANAGED_NETWORK_ENDPOINTS}, created by Azure Machine Learning)`,
              },
            ],
          }
        : {}),
      implements: choices.registry === "azureml-registry" ? ["model-registry"] : [],
    });
    b.relate("writes", "azurerm_machine_learning_workspace.main", [data]);
    b.add({
      address: "azurerm_key_vault.ml",
      file: "registry.tf",
      title: "Key Vault of the Azure Machine Learning workspace",
      item: "Secrets",
      meters: [
        {
          price: "keyVaultOperationsPer10k",
          quantity: 0.1,
          unit: "10,000 secret operations",
          assumption: "about 1,000 secret reads a month by the workspace",
        },
      ],
      implements: ["secret-store"],
    });
  }

  // audit.tf: the Activity Log is free to ingest into Log Analytics (and kept there 90 days free); it
  // is the subscription's, exported once by the primary's stack
  if (!f.secondary) auditResources(input, b, workspace);

  if (f.cluster) {
    const cluster = "azurerm_kubernetes_cluster.main";
    const privateApi = choices["deployment.access"] !== "public-endpoint";
    b.add({
      address: cluster,
      file: "cluster.tf",
      title: `AKS cluster (Standard tier, ${privateApi ? "private API" : "API for allowed addresses"}, workload identity${f.cmk ? ", etcd encrypted with the key" : ""})`,
      item: "Managed Kubernetes control plane",
      meters: [{ price: "clusterFeeHourly", quantity: hours(1), unit: "cluster-hours" }],
      implements: privateApi ? ["workload-identity", "private-network"] : ["workload-identity"],
    });
    if (b.has(registry)) b.relate("pulls-from", cluster, [registry]);
    if (f.cmk) encrypted.push(cluster);
    // the chart's pods: a workload identity federated with the chart's service account in every
    // environment's namespace (the deploy annotates the account with its client ID)
    b.vars.workloadServiceAccount = chartNameOf(input.spec.metadata.name);
    b.add({
      address: "azurerm_federated_identity_credential.workload",
      file: "workload.tf",
      title: `Workload identity: the chart's service account in ${f.environments.length > 1 ? "each environment's namespace" : "its namespace"}`,
      implements: ["workload-identity"],
      relations: [{ kind: "grants", target: data }],
    });
    // one identity for every region's pods (the primary's): another region's stack federates its own
    // cluster's service account with it, so the client ID the deploy annotates holds everywhere
    if (!f.secondary)
      b.add({
        address: "azurerm_user_assigned_identity.workload",
        file: "workload.tf",
        title: "Workload identity: score's input and predictions in the data container",
      });
    // the default node pool is a block of the cluster's resource, not a resource of its own
    b.add({
      address: `${cluster}.default_node_pool[0]`,
      file: "cluster.tf",
      title: `System node pool: ${SYSTEM_NODES} x ${system}`,
      item: "System node pool",
      meters: [
        { price: `instance:${system}`, quantity: hours(SYSTEM_NODES), unit: "instance-hours" },
        {
          price: "premiumSsdP10Monthly",
          quantity: SYSTEM_NODES,
          unit: `disk-months (${NODE_DISK_GB} GiB managed OS disk per node)`,
        },
      ],
      attributes: { nodes: SYSTEM_NODES, instanceType: system },
    });
    b.vars.systemNodes = SYSTEM_NODES;
    b.vars.nodeDiskGb = NODE_DISK_GB;

    // the serving pool keeps max(replicas_min, 1) nodes (cluster.tf): at least one even between batch runs
    const floor = Math.max(1, capacity.replicasMin);
    const preProduction = f.preProductionNodes;
    let nodes: number;
    let compute: Meter;
    if (f.batch) {
      const { runs, hoursPerRun } = batchRunHours(input);
      const burst = Math.max(0, replicasMax - floor);
      const burstHours = round2(runs * hoursPerRun * burst);
      nodes = round2(floor + burstHours / HOURS_PER_MONTH);
      compute = {
        price: `instance:${capacity.instanceType}`,
        quantity: round2(hours(floor) + burstHours),
        unit: "instance-hours",
        assumption: `${floor} node always on (the pool's minimum) + ${runs} runs/month x ${hoursPerRun} h x ${burst} more node${burst === 1 ? "" : "s"}`,
      };
    } else {
      const average = Math.max(floor, replicas);
      nodes = average + preProduction;
      compute = {
        price: `instance:${capacity.instanceType}`,
        quantity: hours(nodes),
        unit: `instance-hours (${average} average of ${floor}-${replicasMax} in production${preProduction ? ` + ${preProduction} pre-production (${f.preProduction.join(", ")}) in their namespaces` : ""})`,
      };
    }
    // the serving nodes' OS disk: a P10, or the tier that holds an LLM engine's checkpoint and images
    const disk = premiumSsdTier(servingNodeDiskGb(input, NODE_DISK_GB));
    b.vars.servingDiskGb = disk.gib;
    b.add({
      address: "azurerm_kubernetes_cluster_node_pool.serving",
      file: "cluster.tf",
      title: `${f.gpu ? "GPU" : "Serving"} node pool: ${floor}-${replicasMax} x ${capacity.instanceType}`,
      item: f.computeItem,
      meters: [
        compute,
        {
          price: disk.price,
          quantity: nodes,
          unit: `disk-months (${disk.gib} GiB managed OS disk per node${disk.gib > NODE_DISK_GB ? ": the LLM engine's checkpoint and images" : ""})`,
        },
      ],
      attributes: { min: floor, max: replicasMax, instanceType: capacity.instanceType },
    });

    // Container Insights (oms_agent) ships the pods' stdout/stderr and its own records to the workspace
    const clusterNodes = Math.ceil(SYSTEM_NODES + nodes);
    b.add({
      address: workspace,
      file: "main.tf",
      title: `Log Analytics workspace (${LOG_RETENTION_DAYS} days): Container Insights records of ${clusterNodes} nodes`,
      item: "Platform logs",
      meters: logMeters(
        platformLogs(
          `Container Insights inventory and performance records (${CONTAINER_INSIGHTS_GB_PER_NODE} GB per node, ${clusterNodes} nodes)`,
          CONTAINER_INSIGHTS_GB_PER_NODE * clusterNodes,
        ),
        "Container Insights records",
      ),
    });
    b.add({
      address: `${cluster}.oms_agent[0]`,
      file: "cluster.tf",
      title: "Container Insights: the pods' logs to the Log Analytics workspace",
      item: "Prediction and service logs",
      meters: logMeters(predictionLogs(input), "container logs"),
    });
    b.relate("writes", `${cluster}.oms_agent[0]`, [workspace]);

    const addons = addonsFor(input);
    addHelmReleases(b, addons);
    if (addons.some((a) => a.id === "external-secrets")) {
      // what External Secrets syncs into each environment's namespace, as the chart's workload
      // identity: each environment's serving tokens (Terraform generates them) and the online store's URL
      const f = facts(input);
      const secrets = f.environments.length + (input.choices["features.store"] === "online" ? 1 : 0);
      b.add({
        address: "azurerm_key_vault.secrets",
        file: "secrets.tf",
        title: `Key Vault of the chart's secrets (the serving tokens of ${f.environments.join(", ")}${secrets > f.environments.length ? ", the online store's URL" : ""})`,
        item: "Secrets",
        meters: [
          {
            price: "keyVaultOperationsPer10k",
            quantity: (secrets * HOURS_PER_MONTH) / 10_000,
            unit: "10,000 secret operations",
            assumption: `External Secrets reads each of the ${secrets} secrets once an hour (refreshInterval 1h)`,
          },
        ],
        implements: ["secret-store"],
      });
      b.add({
        address: "azurerm_role_assignment.workload_reads_serve_tokens",
        file: "secrets.tf",
        title: "The chart's workload identity may read its secrets (Key Vault Secrets User on each secret)",
        implements: ["workload-identity"],
      });
      b.relate("grants", "azurerm_role_assignment.workload_reads_serve_tokens", [
        "azurerm_key_vault.secrets",
      ]);
    }
    if (addons.some((a) => a.id === "application-gateway-ingress")) {
      // the chart's Ingress: AKS's controller programs this gateway, which applies the WAF policy
      b.add({
        address: "azurerm_application_gateway.ingress",
        file: "ingress.tf",
        title: "Application Gateway WAF_v2 (the Ingress's entry point, with the WAF policy)",
        item: "Web application firewall",
        meters: [
          { price: "appGatewayWafV2Hourly", quantity: hours(1), unit: "gateway-hours (fixed)" },
          {
            price: "appGatewayWafV2CapacityUnitHourly",
            quantity: hours(GATEWAY_MIN_INSTANCES * CAPACITY_UNITS_PER_INSTANCE),
            unit: "capacity unit-hours",
            assumption: `the ${GATEWAY_MIN_INSTANCES} instance the gateway keeps (autoscale minimum) reserves ${CAPACITY_UNITS_PER_INSTANCE} capacity units; traffic above that adds more`,
          },
        ],
        implements: ["tls-in-transit"],
      });
      b.add({
        address: "azurerm_public_ip.gateway",
        file: "ingress.tf",
        title: "Public IPv4 address of the Application Gateway",
        item: "Web application firewall",
        meters: [{ price: "publicIpHourly", quantity: hours(1), unit: "address-hours" }],
      });
      b.vars.applicationGateway = true;
      b.vars.gatewayMinInstances = GATEWAY_MIN_INSTANCES;
    } else if (f.realtime)
      b.exclude(
        "Load balancer",
        hours(prices.row("loadBalancerHourly").usd),
        "the chart's Service is ClusterIP: clients reach the serving core inside the cluster (namespaces labelled stackwright.dev/clients); an entry point from outside (its Standard load balancer, and the Application Gateway that would apply the WAF policy) is the customer's",
      );
  } else if (managed) {
    azuremlResources(input, b, workspace);
  } else {
    const environment = "azurerm_container_app_environment.main";
    b.add({
      address: workspace,
      file: "main.tf",
      title: `Log Analytics workspace (${LOG_RETENTION_DAYS} days): Container Apps system logs`,
      item: "Platform logs",
      meters: logMeters(platformLogs("Container Apps system logs", 1), "Container Apps system logs"),
    });
    b.add({
      address: environment,
      file: "serverless.tf",
      title: `Container Apps environment (consumption, ${f.publicEndpoint ? "external" : "internal"} ingress): the apps' console logs to Log Analytics`,
      item: "Prediction and service logs",
      meters: logMeters(predictionLogs(input), "container console logs"),
      implements: f.publicEndpoint ? [] : ["private-network"],
    });
    b.relate("writes", environment, [workspace]);
    b.add({
      address: "azurerm_user_assigned_identity.serving",
      file: "serverless.tf",
      title: `Identity the ${f.batch ? "jobs" : "apps"} run as (pulls the image${f.batch ? ", reads and writes the data container" : ""})`,
      implements: ["workload-identity"],
    });
    b.relate("pulls-from", "azurerm_user_assigned_identity.serving", [registry]);
    const app = (count: number, hoursEach: number, what: string, assumption?: string): Meter[] => [
      {
        price: "serverlessVcpuHourly",
        quantity: round2(count * hoursEach * APP_VCPU),
        unit: `vCPU-hours (${what})`,
        ...(assumption ? { assumption } : {}),
      },
      {
        price: "serverlessGbHourly",
        quantity: round2(count * hoursEach * APP_GB),
        unit: `GiB-hours (${what})`,
        ...(assumption ? { assumption } : {}),
      },
    ];
    const targets: string[] = [];
    if (f.batch) {
      const { runs, hoursPerRun } = batchRunHours(input);
      for (const env of deployEnvironments) {
        const isProduction = env === production;
        const address = `azurerm_container_app_job.score["${env}"]`;
        const perMonth = isProduction ? runs : 1;
        b.add({
          address,
          file: "serverless.tf",
          title: `Container Apps job (${env})${isProduction ? `: scheduled, ${replicasMax} replicas per run` : ": started on demand"}`,
          item: isProduction ? "Batch scoring compute" : "Pre-production environments",
          meters: app(
            perMonth * replicasMax,
            hoursPerRun,
            `${replicasMax} replicas of ${APP_VCPU} vCPU, ${APP_GB} GiB`,
            isProduction
              ? `${runs} runs/month x ${hoursPerRun} h x ${replicasMax} replicas; nothing runs between runs`
              : `one test run a month in ${env}, ${hoursPerRun} h x ${replicasMax} replicas`,
          ),
        });
        targets.push(address);
      }
    } else {
      const floor = Math.max(1, capacity.replicasMin);
      const average = Math.max(floor, replicas);
      for (const env of deployEnvironments) {
        const isProduction = env === production;
        const address = `azurerm_container_app.serving["${env}"]`;
        b.add({
          address,
          file: "serverless.tf",
          title: `Container app (${env})${isProduction ? `: ${floor}-${replicasMax} replicas` : ": scales from zero, internal ingress"}`,
          item: isProduction ? f.computeItem : "Pre-production environments",
          meters: isProduction
            ? [
                ...app(average, HOURS_PER_MONTH, `${average} average replicas, active rate`),
                ...(f.realtime
                  ? [
                      {
                        price: "containerAppsRequestsPerMillion",
                        ...requests(input),
                        unit: "million requests",
                      },
                    ]
                  : []),
              ]
            : app(
                1,
                PRE_PRODUCTION_ACTIVE_HOURS,
                `1 replica in ${env}`,
                `1 replica active about ${PRE_PRODUCTION_ACTIVE_HOURS} h a month while releases are tested; no charge while scaled to zero`,
              ),
          implements: isProduction && f.realtime ? ["tls-in-transit"] : [],
        });
        targets.push(address);
      }
    }
    b.relate("runs", environment, targets);
  }

  // online-store.tf: Standard tier is a primary and a replica, priced as one cache
  if (f.onlineStore) {
    const cache = "azurerm_redis_cache.features";
    b.add({
      address: cache,
      file: "online-store.tf",
      title: `${prices.table.onlineStoreNode}: primary + replica, TLS 1.2 only, no public access`,
      item: "Online feature store",
      meters: [{ price: "onlineStoreNodeHourly", quantity: hours(1), unit: "cache-hours" }],
      implements: ["tls-in-transit"],
    });
    const lookups = f.batch ? null : requests(input);
    b.add({
      address: "azurerm_private_endpoint.features",
      file: "online-store.tf",
      title: "Private endpoint of the online feature store",
      item: "Private endpoints",
      meters: [
        { price: "privateEndpointHourly", quantity: hours(1), unit: "endpoint-hours" },
        {
          price: "privateEndpointPerGb",
          quantity: lookups ? round2((lookups.quantity * 1e6 * 2048) / 1e9) : 1,
          unit: "GB processed",
          assumption: lookups
            ? `2 KB of feature lookup in and out per request x ${lookups.quantity} million requests/month`
            : "about 1 GB/month of feature reads and writes",
        },
      ],
      implements: ["private-network"],
    });
    b.relate("fronts", "azurerm_private_endpoint.features", [cache]);
  }

  // waf.tf: the policy itself is not billed; the gateway that applies it is
  if (f.waf) {
    // on a cluster the Application Gateway applies it (ingress.tf): the gateway carries the charge
    const gateway = b.has("azurerm_application_gateway.ingress");
    b.add({
      address: "azurerm_web_application_firewall_policy.edge",
      file: "waf.tf",
      title: `WAF policy (OWASP 3.2, prevention, rate limit)${gateway ? ": on the Application Gateway" : ": not attached to an entry point"}`,
      implements: gateway ? ["waf", "waf-attached"] : ["waf"],
    });
    if (gateway)
      b.relate("protects", "azurerm_web_application_firewall_policy.edge", [
        "azurerm_application_gateway.ingress",
      ]);
    else if (f.realtime)
      b.exclude(
        "Web application firewall",
        hours(prices.row("appGatewayWafV2Hourly").usd),
        "the WAF policy is associated with nothing: the Application Gateway (WAF_v2, fixed hourly charge; capacity units on top) or Front Door that applies it in front of the entry point is the customer's until it is generated",
      );
  }

  // runner.tf
  if (f.runner) {
    const runner = "azurerm_linux_virtual_machine_scale_set.runner";
    b.add({
      address: runner,
      file: "runner.tf",
      title: `Deploy runner: ${RUNNER_INSTANCES} x ${system} inside the VNet`,
      item: "Deploy runner inside the network",
      meters: [
        { price: `instance:${system}`, quantity: hours(RUNNER_INSTANCES), unit: "instance-hours" },
        {
          price: "standardHddS6Monthly",
          quantity: RUNNER_INSTANCES,
          unit: `disk-months (${RUNNER_DISK_GB} GiB Standard HDD OS disk)`,
        },
      ],
      implements: ["deploy-identity"],
      attributes: { instances: RUNNER_INSTANCES, instanceType: system },
    });
    b.vars.runnerInstances = RUNNER_INSTANCES;
    b.vars.runnerDiskGb = RUNNER_DISK_GB;
    b.add({
      address: "azurerm_key_vault.runner",
      file: "runner.tf",
      title: "Key Vault of the runner's GitHub token",
      item: "Secrets",
      meters: [
        {
          price: "keyVaultOperationsPer10k",
          quantity: 0.01,
          unit: "10,000 secret operations",
          assumption: "about 100 secret reads a month: the runner reads its token when it starts",
        },
      ],
      implements: ["secret-store"],
    });
    b.relate("reads", runner, ["azurerm_key_vault.runner"]);
  }

  // deploy.tf: another region's stack grants the primary's identities its cluster (the same
  // AZURE_CLIENT_ID deploys every region)
  if (f.secondary && f.cluster)
    b.add({
      address: "azurerm_role_assignment.deploy_cluster_user",
      file: "deploy.tf",
      title: `The primary's deploy identity of ${f.production} may reach this region's cluster (and write its namespace)`,
      implements: ["deploy-identity"],
      relations: [{ kind: "grants", target: "azurerm_kubernetes_cluster.main" }],
    });
  for (const env of f.secondary ? [] : deployEnvironments) {
    const address = `azurerm_user_assigned_identity.deploy["${env}"]`;
    b.add({
      address,
      file: "deploy.tf",
      title: `Deploy identity (${env}, GitHub OIDC federated credential)`,
      implements: ["deploy-identity"],
    });
    const own = f.cluster
      ? ["azurerm_kubernetes_cluster.main"]
      : [f.batch ? `azurerm_container_app_job.score["${env}"]` : `azurerm_container_app.serving["${env}"]`];
    b.relate("grants", address, [registry, ...own]);
  }

  // budget.tf: in several regions one budget over every region's resource group (the primary's stack)
  if (f.budget && !f.secondary)
    b.add({
      address: f.multiRegion
        ? "azurerm_consumption_budget_subscription.monthly"
        : "azurerm_consumption_budget_resource_group.monthly",
      file: "budget.tf",
      title: f.multiRegion
        ? `Monthly budget of every region's resource group (${spec.availability.regions.join(", ")}), alerts at 80% (forecast) and 100%`
        : "Monthly budget of the resource group, alerts at 80% (forecast) and 100%",
      implements: ["budget-alerts"],
    });

  if (f.cmk) {
    b.relate("encrypts", key, encrypted);
    azureKeyGrants(b, key, encrypted);
  }
}

/**
 * azureml.tf: an Azure Machine Learning managed online endpoint per environment (azapi: azurerm has
 * none), priced at the rate of the virtual machine size mirroring the sized one; its identity may pull
 * from the registry; its console logs go to Log Analytics; and alert rules page on each endpoint's
 * latency and 5xx answers. The deployments themselves (the release's image on its instances, with
 * their autoscale setting) are created by deploy.yml, one per release.
 */
function azuremlResources(input: InventoryInput, b: InventoryBuilder, workspace: string): void {
  const f = facts(input);
  const { capacity } = input;
  const instance = managedInstanceFor(input, b);
  b.add({
    address: workspace,
    file: "main.tf",
    title: `Log Analytics workspace (${LOG_RETENTION_DAYS} days): the endpoints' console logs`,
    item: "Prediction and service logs",
    meters: logMeters(predictionLogs(input), "endpoint console logs"),
  });
  for (const env of f.environments) {
    const production = env === f.production;
    const address = `azapi_resource.endpoint["${env}"]`;
    const replicas = averageReplicas(input);
    b.add({
      address,
      file: "azureml.tf",
      title: `Azure ML managed online endpoint (${env})${production ? `: ${capacity.replicasMin}-${capacity.replicasMax} x ${instance}` : `: 1 x ${instance}`}, Entra ID tokens`,
      item: production ? f.computeItem : "Pre-production environments",
      meters: [
        {
          price: `instance:${instance}`,
          quantity: hours(production ? replicas : 1),
          unit: production
            ? `instance-hours (${replicas} average of ${capacity.replicasMin}-${capacity.replicasMax}, the live deployment's instances)`
            : `instance-hours (1 instance in ${env})`,
        },
      ],
      attributes: { instanceType: instance },
      implements: ["tls-in-transit", "workload-identity"],
    });
    b.relate("pulls-from", address, ["azurerm_container_registry.main"]);
    b.relate("writes", address, [workspace]);
  }
  addEndpointAlarms(b, f.environments.length, {
    type: "azurerm_monitor_metric_alert",
    file: "azureml.tf",
    what: "alert rule",
    does: "pages metadata.contacts",
    unit: "monitored time series-months",
  });
}

/** The subscription's Activity Log export (and its write-once copy): the primary's stack only. */
function auditResources(input: InventoryInput, b: InventoryBuilder, workspace: string): void {
  const f = facts(input);
  b.add({
    address: "azurerm_monitor_diagnostic_setting.activity_log",
    file: "audit.tf",
    title: `Activity Log export (administrative, security, policy) to Log Analytics${f.immutableAudit ? " and to write-once storage" : ""}`,
    implements: ["audit-trail"],
  });
  b.relate("writes", "azurerm_monitor_diagnostic_setting.activity_log", [workspace]);
  if (f.immutableAudit) {
    b.add({
      address: "azurerm_storage_account.audit",
      file: "audit.tf",
      title: "Audit storage account (ZRS, 365-day immutability policy, created unlocked)",
      item: "Immutable audit trail",
      meters: [{ price: "objectStorageZrsPerGbMonth", ...auditStorage(true), unit: "GB-month" }],
      implements: ["audit-trail", "immutable-audit-trail"],
    });
    b.relate("writes", "azurerm_monitor_diagnostic_setting.activity_log", ["azurerm_storage_account.audit"]);
  }
}

/** kms.tf: the Key Vault (Premium, HSM-backed) and its key, priced on the key operations assumed. */
export function azureKeyVault(b: InventoryBuilder, operationsPer10k: number, assumption: string): void {
  b.add({
    address: "azurerm_key_vault.main",
    file: "kms.tf",
    title: "Key Vault Premium (HSM-backed, purge-protected) of the customer-managed key",
    item: "Customer-managed keys",
    meters: [
      {
        price: "keyVaultHsmOperationsPer10k",
        quantity: operationsPer10k,
        unit: "10,000 key operations",
        assumption,
      },
    ],
  });
  b.add({
    address: "azurerm_key_vault_key.main",
    file: "kms.tf",
    title: "Key Vault key (RSA-HSM 3072, rotated before it expires)",
    item: "Customer-managed keys",
    meters: [{ price: "keyVaultHsmKeyMonthly", quantity: 1, unit: "HSM-protected key-months" }],
    implements: ["customer-managed-key", "encryption-at-rest"],
  });
}

/**
 * The Key Vault authorizes by Azure RBAC: whoever runs Terraform creates the key as Crypto Officer;
 * the storage account's identity wraps its account key with it; the cluster's identity encrypts etcd
 * with it (KMS). Each grant is a role assignment in kms.tf that its user waits for.
 */
export function azureKeyGrants(b: InventoryBuilder, key: string, encrypted: string[]): void {
  const kind = (id: string, principal: string, role: string, what: string) => ({
    holder: `azurerm_role_assignment.${id}`,
    id,
    principal,
    role,
    title: `Key grant: ${what}`,
  });
  b.grantKey(encrypted, [
    {
      ...kind(
        "key_officer",
        "data.azurerm_client_config.current.object_id",
        "Key Vault Crypto Officer",
        "whoever runs Terraform may create and rotate the key",
      ),
      targets: [key],
    },
    {
      ...kind(
        "key_storage",
        "azurerm_user_assigned_identity.storage.principal_id",
        "Key Vault Crypto Service Encryption User",
        "the storage account's identity may wrap its keys",
      ),
      type: "azurerm_storage_account",
    },
    {
      ...kind(
        "key_cluster",
        "azurerm_user_assigned_identity.cluster.principal_id",
        "Key Vault Crypto User",
        "the cluster's identity may encrypt etcd (KMS)",
      ),
      type: "azurerm_kubernetes_cluster",
    },
  ]);
}

/**
 * What joins the regions of a multi-region plan on Azure (infra/terraform/azure/global/, applied after
 * every region's stack and the chart in each): the primary's data container replicated into every
 * other region's account (object replication: asynchronous, and the destination container is
 * read-only while the policy holds), and, where the chart has an entry point (each region's
 * Application Gateway), Azure Front Door over the gateways, probing the serving core's readiness
 * through each (active-active: every healthy region by latency; active-passive: the primary first).
 */
export function azureGlobalInventory(
  input: InventoryInput,
  b: InventoryBuilder,
  regions: readonly string[],
): void {
  for (const region of regions.slice(1)) {
    b.add({
      address: `azurerm_storage_object_replication.${region.replaceAll("-", "_")}`,
      file: "global/replication.tf",
      title: `Object replication of the data container from ${regions[0]} to ${region} (asynchronous; the replica is read-only)`,
      item: "Cross-region replication",
      meters: [
        { price: "interRegionTransferPerGb", ...replicatedData(input, 1), unit: "GB sent between regions" },
      ],
      implements: ["versioned-data"],
    });
  }
  if (!addonsFor(input).some((a) => a.id === "application-gateway-ingress")) return;
  const active = input.spec.availability.failover === "active-active";
  const file = "global/routing.tf";
  const calls = requests(input);
  b.add({
    address: "azurerm_cdn_frontdoor_profile.serving",
    file,
    title: "Azure Front Door (Standard): one anycast entry for every region",
    item: "Global routing",
    meters: [
      { price: "frontDoorStandardMonthly", quantity: 1, unit: "profile-months (base fee)" },
      {
        price: "frontDoorRequestsPer10k",
        quantity: round2(calls.quantity * 100),
        unit: "10,000 requests",
        assumption: calls.assumption,
      },
      {
        price: "frontDoorEgressPerGb",
        ...servedData(input),
        unit: "GB from the edge to clients",
      },
    ],
  });
  b.add({
    address: "azurerm_cdn_frontdoor_endpoint.serving",
    file,
    title:
      "Front Door endpoint: the HTTPS name clients call (its azurefd.net domain, Front Door's certificate)",
    implements: ["tls-in-transit"],
  });
  b.add({
    address: "azurerm_cdn_frontdoor_origin_group.serving",
    file,
    title:
      "Origin group: a probe of the serving core's readiness (/v2/health/ready) through each region's gateway every 30 s",
  });
  for (const [i, region] of regions.entries()) {
    const address = `azurerm_cdn_frontdoor_origin.${region.replaceAll("-", "_")}`;
    b.add({
      address,
      file,
      title: `Origin: ${region}'s Application Gateway (${active ? "same priority: the nearest healthy region" : i === 0 ? "priority 1" : "priority 2: while the primary is unhealthy"})`,
      relations: [{ kind: "fronts", target: "azurerm_cdn_frontdoor_origin_group.serving" }],
    });
  }
  b.add({
    address: "azurerm_cdn_frontdoor_route.serving",
    file,
    title: "Route: every path over HTTPS to the origin group",
    relations: [{ kind: "fronts", target: "azurerm_cdn_frontdoor_origin_group.serving" }],
  });
}
