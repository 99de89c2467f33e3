/** What the Google Cloud Terraform (templates/terraform/gcp/) builds for a plan, resource by resource. */
import { addHelmReleases, addonsFor, facts, hours, type InventoryBuilder } from "./build.js";
import { addEndpointAlarms, managedInstanceFor } from "./managed-endpoint.js";
import { chartNameOf } from "./names.js";
import type { InventoryInput, Meter } from "./types.js";
import {
  auditStorage,
  averageReplicas,
  batchRunHours,
  imageStorage,
  natData,
  platformLogs,
  predictionLogs,
  replicatedData,
  requests,
  servedData,
  servingNodeDiskGb,
  storedData,
} from "./usage.js";

/**
 * GKE node pools of a regional cluster are replicated in three zones of the region (GKE's default
 * node locations; cluster.tf sets none): the system pool's node_count is per zone.
 */
const GKE_ZONES = 3;
const SYSTEM_NODES_PER_ZONE = 1;
/** Boot disk of every GKE node (pd-balanced, cluster.tf) and of the runner (pd-standard, runner.tf). */
const NODE_DISK_GB = 100;
const RUNNER_DISK_GB = 50;
/** Size of every Cloud Run container, service and job (serverless.tf). */
const RUN_VCPU = 1;
const RUN_GB = 2;
/** Memorystore for Redis instance size (online-store.tf): the M2 capacity tier (5-10 GB). */
const REDIS_GB = 5;
/** Rules of the Cloud Armor policy (waf.tf): OWASP expression, rate limit, default. */
const ARMOR_RULES = 3;
/** Cloud NAT bills per VM that uses the gateway up to this many, then a flat hourly rate. */
const NAT_VM_CAP = 32;

/**
 * Terraform block types that carry a charge on Google Cloud: each one the Terraform renders is a
 * resource of the inventory and priced. Free ones are not listed: IAM bindings, service accounts,
 * the network, subnet and router (the subnet's flow logs are priced as Platform logs on it all the
 * same), the instance template (the group's VM is what is billed), the HMAC key, secret versions (an
 * active version is priced on its secret), the key ring, the private-services range and peering, the
 * log sink (routing is free; the bucket it writes is priced), budgets and notification channels,
 * project services, the workload identity pool.
 *
 * google_project_iam_audit_config is listed: Admin Activity audit logs are free, but the Data Access
 * logs it turns on for every service are Cloud Logging ingestion, billed per GiB past the project's
 * free allotment.
 */
export const GCP_BILLABLE = [
  "google_compute_global_forwarding_rule",
  "google_container_cluster",
  "google_container_node_pool",
  "google_compute_router_nat",
  "google_kms_crypto_key",
  "google_storage_bucket",
  "google_artifact_registry_repository",
  "google_redis_instance",
  "google_secret_manager_secret",
  "google_compute_security_policy",
  "google_cloud_run_v2_service",
  "google_cloud_run_v2_job",
  "google_cloud_scheduler_job",
  "google_compute_region_instance_group_manager",
  "google_project_iam_audit_config",
  "google_vertex_ai_endpoint",
  "google_monitoring_alert_policy",
] as const;

const round2 = (n: number) => Math.round(n * 100) / 100;

export function gcpInventory(input: InventoryInput, b: InventoryBuilder): void {
  const f = facts(input);
  const { capacity, prices } = input;
  const system = prices.table.systemInstance;
  const key = "google_kms_crypto_key.main";
  const encrypted: string[] = [];
  const replicas = averageReplicas(input);
  const preProduction = f.preProductionNodes;

  // VMs in the private subnet (GKE nodes, the runner): what Cloud NAT, flow logs and node disks count
  const systemNodes = GKE_ZONES * SYSTEM_NODES_PER_ZONE;
  const batch = batchRunHours(input);
  // pre-production pods run in their namespaces on the serving pool, which has room for them beyond
  // production's replicas_max (total_max_node_count = replicas_max + preProductionNodes)
  const servingNodes = replicas + preProduction;
  const servingNodeHours = f.batch
    ? round2(batch.runs * batch.hoursPerRun * capacity.replicasMax)
    : hours(servingNodes);
  const vmHours = (f.cluster ? hours(systemNodes) + servingNodeHours : 0) + (f.runner ? hours(1) : 0);
  const peakVms =
    (f.cluster ? systemNodes + capacity.replicasMax + f.preProductionNodes : 0) + (f.runner ? 1 : 0);
  const inNetwork = f.cluster ? "the GKE nodes" : f.runner ? "the runner" : "";

  b.add({
    address: "google_compute_network.main",
    file: "network.tf",
    title: "VPC network (custom subnets, no external addresses on VMs)",
    // Cloud Run is not attached to it: only what is placed in it is on the private network
    implements: f.cluster || f.runner || f.onlineStore ? ["private-network"] : [],
  });
  b.add({
    address: "google_compute_subnetwork.private",
    file: "network.tf",
    title: "Private subnet (Private Google Access, flow logs)",
    // with no VM in it (Cloud Run is not attached to it) the subnet records no flows: nothing to price
    ...(inNetwork ? { item: "Platform logs" } : {}),
    meters: inNetwork
      ? [
          {
            price: "logIngestPerGb",
            ...platformLogs(
              `VPC flow-log records of ${inNetwork} (5-second aggregation, half sampled)`,
              f.cluster ? 5 : 1,
            ),
            unit: "GB of VPC flow logs",
          },
        ]
      : [],
    implements: ["flow-logs"],
  });
  const natMeters: Meter[] = [
    peakVms > NAT_VM_CAP
      ? {
          price: "natGatewayHourly",
          quantity: hours(1),
          unit: `gateway-hours (more than ${NAT_VM_CAP} VMs at peak: flat rate)`,
        }
      : {
          price: "natGatewayVmHourly",
          quantity: round2(vmHours),
          unit: "VM-hours of VMs using the gateway",
          ...(inNetwork
            ? {}
            : {
                assumption:
                  "no VM is in the network (Cloud Run is not attached to it): the gateway serves nothing",
              }),
        },
    {
      price: "publicIpv4Hourly",
      quantity: inNetwork ? hours(1) : 0,
      unit: "external IPv4 address-hours (NAT addresses allocated automatically)",
      assumption: inNetwork
        ? `one automatically allocated address covers ${inNetwork}`
        : "automatic allocation: no address while no VM uses the gateway",
    },
    {
      price: "natGatewayPerGb",
      ...(f.cluster
        ? natData(input)
        : f.runner
          ? { quantity: 5, assumption: "5 GB/month of the runner's downloads (actions, images, packages)" }
          : { quantity: 0, assumption: "nothing in the network sends traffic through NAT" }),
      unit: "GB processed",
    },
  ];
  b.add({
    address: "google_compute_router_nat.main",
    file: "network.tf",
    title: `Cloud NAT (one regional gateway${inNetwork ? ` for ${inNetwork}` : ", used by no VM"})`,
    item: "NAT gateways",
    meters: natMeters,
    implements: ["egress-nat"],
    attributes: { vmHours: round2(vmHours), peakVms },
  });

  // a multi-region plan's data bucket and image repository serve every region from the primary's stack,
  // in the multi-region location that holds both regions (another region's stack uses them)
  const dual = f.multiRegion && !f.secondary ? dualRegionOf(input) : null;
  const dualKey = "google_kms_crypto_key.dual_region";
  const dualEncrypted: string[] = [];
  // a Cloud KMS key: one active version a month, each yearly rotation adding one kept to decrypt
  const addKey = (address: string, title: string) =>
    b.add({
      address,
      file: "kms.tf",
      title,
      item: "Customer-managed keys",
      meters: [
        {
          price: "kmsKeyMonthly",
          quantity: 1,
          unit: "active key version-months (each yearly rotation adds one, kept to decrypt)",
        },
      ],
      implements: ["customer-managed-key", "encryption-at-rest"],
    });
  if (f.cmk) addKey(key, "Cloud KMS key (software, rotated yearly)");
  if (dual && f.cmk)
    addKey(
      dualKey,
      `Cloud KMS key in ${dual.kmsLocation} (the dual-region bucket's and the multi-region repository's; software, rotated yearly)`,
    );
  if (dual) {
    b.vars.dualRegion = true;
    b.vars.bucketLocation = dual.bucketLocation;
    b.vars.multiRegionLocation = dual.kmsLocation;
  }
  // where the image repository is: the primary's, which another region's stack pulls from
  b.vars.registryLocation = f.multiRegion ? dualRegionOf(input).kmsLocation : input.spec.cloud.region;

  // another region's stack reads and writes the primary's bucket and pulls from its repository
  if (!f.secondary) {
    const regions = input.spec.availability.regions;
    b.add({
      address: "google_storage_bucket.data",
      file: "storage.tf",
      title: dual
        ? `Data bucket, dual-region ${regions.join(" + ")} with turbo replication (versioned, uniform access, public access prevented, raw/ kept 90 days)`
        : "Data bucket (versioned, uniform access, public access prevented, raw/ kept 90 days)",
      item: "Object storage",
      meters: [
        dual
          ? {
              price: "dualRegionStoragePerGbMonth",
              ...storedData(input),
              unit: `GB-month (Standard, dual-region ${regions.join(" + ")})`,
            }
          : { price: "objectStoragePerGbMonth", ...storedData(input), unit: "GB-month (Standard, regional)" },
      ],
      implements: ["encryption-at-rest", "versioned-data", "data-retention"],
      attributes: dual ? { location: dual.bucketLocation, rpo: "ASYNC_TURBO" } : {},
    });
    (dual ? dualEncrypted : encrypted).push("google_storage_bucket.data");
    if (dual) {
      // what the dual-region's replication costs: the written data copied to the other region with turbo
      // replication (100% within 15 minutes), billed per GB in place of the default replication
      const usage = replicatedData(input, 1);
      b.resources
        .find((r) => r.address === "google_storage_bucket.data")!
        .meters.push({
          price: "turboReplicationPerGb",
          ...usage,
          unit: "GB replicated with turbo replication",
        });
    }

    b.add({
      address: "google_artifact_registry_repository.images",
      file: "registry.tf",
      title: dual
        ? `Artifact Registry repository of the serving image in the ${dual.kmsLocation} multi-region (every region's nodes pull from it; immutable tags)`
        : "Artifact Registry repository of the serving image (immutable tags)",
      item: "Container registry",
      meters: [{ price: "registryStoragePerGbMonth", ...imageStorage(input), unit: "GB-month" }],
    });
    (dual ? dualEncrypted : encrypted).push("google_artifact_registry_repository.images");
  }

  // the project's audit configuration and sink, deploy identities and budget: the primary's
  if (!f.secondary) projectResources(input, b, encrypted);

  // the serving core's logs: Cloud Run writes them to Cloud Logging itself, GKE ships them (its
  // logging_config turns on SYSTEM_COMPONENTS and WORKLOADS); no block of their own: priced on the API
  b.add({
    address: 'google_project_service.apis["logging.googleapis.com"]',
    file: "main.tf",
    title: `Cloud Logging: the ${f.cluster ? "cluster's system and workload" : "Cloud Run"} logs (_Default bucket, 30 days)`,
    item: "Prediction and service logs",
    meters: [
      { price: "logIngestPerGb", ...predictionLogs(input), unit: "GB ingested" },
      ...(f.cluster
        ? [
            {
              price: "logIngestPerGb",
              ...platformLogs("GKE system component logs", 5),
              unit: "GB ingested (system components)",
            },
          ]
        : []),
    ],
  });

  if (f.cluster)
    clusterResources(input, b, {
      replicas,
      preProduction,
      servingNodes,
      servingNodeHours,
      systemNodes,
      encrypted,
    });
  else if (input.choices["serving.runtime"] === "managed-endpoint")
    vertexResources(input, b, { replicas, encrypted });
  else serverlessResources(input, b, { replicas, encrypted });

  if (f.onlineStore) {
    const nodes = capacity.zones > 1 ? 2 : 1;
    const tier = nodes > 1 ? "STANDARD_HA" : "BASIC";
    b.add({
      address: "google_redis_instance.features",
      file: "online-store.tf",
      title: `Memorystore for Redis: ${REDIS_GB} GB, ${nodes > 1 ? "Standard tier (primary + replica in another zone)" : "Basic tier (one node)"}`,
      item: "Online feature store",
      meters: [
        {
          price: nodes > 1 ? "memorystoreStandardGbHourly" : "memorystoreBasicGbHourly",
          quantity: hours(REDIS_GB),
          // one instance: the Standard tier's rate includes its replica
          unit: `GB-hours (${REDIS_GB} GB instance${nodes > 1 ? ", replica included in the Standard rate" : ""})`,
        },
      ],
      implements: ["encryption-at-rest", "tls-in-transit"],
      attributes: { tier, memoryGb: REDIS_GB, nodes },
    });
    b.vars.onlineStoreNodes = nodes;
    b.vars.onlineStoreTier = tier;
    b.vars.onlineStoreGb = REDIS_GB;
    encrypted.push("google_redis_instance.features");
    b.add({
      address: "google_secret_manager_secret.features",
      file: "online-store.tf",
      title: "Secret: the feature store's rediss:// URL (AUTH string)",
      item: "Secrets",
      meters: [{ price: "secretVersionMonthly", quantity: 1, unit: "active secret version-months" }],
      implements: ["secret-store"],
    });
  }

  // the policy is global: in several regions the primary's protects the one global load balancer
  if (f.waf && !f.secondary) {
    // attached on a cluster: the chart's BackendConfig names it on the Ingress's backend, or the
    // global load balancer's backend service (multi-region); the serverless path builds no backend
    // service, so there it protects nothing
    const entry =
      b.has("google_compute_global_address.ingress") ||
      (f.multiRegion && addonsFor(input).some((a) => a.id === "gke-ingress"));
    b.add({
      address: "google_compute_security_policy.edge",
      file: "waf.tf",
      title: `Cloud Armor policy (OWASP rules, rate limit)${entry ? (f.multiRegion ? ": on the global load balancer's backend" : ": on the Ingress's backend") : ": not attached to an entry point"}`,
      item: "Web application firewall",
      meters: [
        { price: "cloudArmorPolicyMonthly", quantity: 1, unit: "policy-months" },
        {
          price: "cloudArmorRuleMonthly",
          quantity: ARMOR_RULES,
          unit: "rule-months (the default rule included)",
        },
      ],
      implements: entry ? ["waf", "waf-attached"] : ["waf"],
    });
    // the global load balancer's backend relates itself (gcpGlobalInventory)
    if (b.has("google_compute_global_address.ingress"))
      b.relate("protects", "google_compute_security_policy.edge", ["google_compute_global_address.ingress"]);
  }

  if (f.runner) {
    b.add({
      address: "google_compute_region_instance_group_manager.runner",
      file: "runner.tf",
      title: `Deploy runner: 1 x ${system} in the private subnet`,
      item: "Deploy runner inside the network",
      meters: [
        { price: `instance:${system}`, quantity: hours(1), unit: "instance-hours" },
        {
          price: "standardDiskPerGbMonth",
          quantity: RUNNER_DISK_GB,
          unit: "GB-month of runner disk (pd-standard)",
        },
      ],
      implements: ["deploy-identity"],
    });
    b.vars.runnerDiskGb = RUNNER_DISK_GB;
    b.add({
      address: "google_secret_manager_secret.runner",
      file: "runner.tf",
      title: "Secret: the runner's GitHub token (its version added by the operator)",
      item: "Secrets",
      meters: [
        {
          price: "secretVersionMonthly",
          quantity: 1,
          unit: "active secret version-months (the token the operator adds)",
        },
      ],
      implements: ["secret-store"],
    });
  }

  if (f.cmk) {
    b.relate("encrypts", key, encrypted);
    gcpKeyGrants(b, key, encrypted);
  }
  if (dual && f.cmk) {
    b.relate("encrypts", dualKey, dualEncrypted);
    gcpKeyGrants(b, dualKey, dualEncrypted, "_dual_region");
  }
}

/**
 * What the project holds once, in the primary's stack: the audit configuration and its sink, the
 * deploy identities (the Workload Identity Federation pool and a service account per environment,
 * whose project-wide roles reach every region's cluster) and the budget.
 */
function projectResources(input: InventoryInput, b: InventoryBuilder, encrypted: string[]): void {
  const f = facts(input);
  const auditItem = f.immutableAudit ? "Immutable audit trail" : "Audit trail";
  b.add({
    address: "google_project_iam_audit_config.all",
    file: "audit.tf",
    title: "Audit logs: Data Access (read and write) for every service, Admin Activity always on",
    item: auditItem,
    meters: [
      {
        price: "logIngestPerGb",
        quantity: 5,
        assumption: `about 5 GB/month of Data Access audit events (Admin Activity is free), kept 30 days in the _Default bucket${f.cluster ? "; the Kubernetes API's reads can raise it" : ""}: measure after a month`,
        unit: "GB of audit logs ingested",
      },
    ],
    implements: ["audit-trail"],
  });
  if (f.immutableAudit) {
    b.add({
      address: "google_storage_bucket.audit",
      file: "audit.tf",
      title: "Audit bucket (retention policy locked for 365 days)",
      item: auditItem,
      meters: [{ price: "auditLogPerGbMonth", ...auditStorage(true), unit: "GB-month" }],
      implements: ["audit-trail", "immutable-audit-trail"],
    });
    b.add({
      address: "google_logging_project_sink.audit",
      file: "audit.tf",
      title: "Log sink: every audit log to the locked bucket",
      implements: ["immutable-audit-trail"],
      relations: [{ kind: "writes", target: "google_storage_bucket.audit" }],
    });
    encrypted.push("google_storage_bucket.audit");
  }

  b.add({
    address: "google_iam_workload_identity_pool.github",
    file: "deploy.tf",
    title: "Workload Identity Federation pool: GitHub OIDC of var.github_repository only",
    implements: ["deploy-identity"],
  });
  const deployAccounts = f.environments.map((env) => `google_service_account.deploy["${env}"]`);
  for (const [i, env] of f.environments.entries())
    b.add({
      address: deployAccounts[i],
      file: "deploy.tf",
      title: `Deploy service account of the ${env} environment (no keys)`,
      implements: ["deploy-identity"],
    });
  b.relate("grants", "google_iam_workload_identity_pool.github", deployAccounts);

  if (f.budget)
    b.add({
      address: "google_billing_budget.monthly",
      file: "budget.tf",
      title: "Monthly budget with alerts at 80% forecast and 100% actual",
      implements: ["budget-alerts"],
    });
}

/**
 * The multi-region location that holds a multi-region plan's regions (rules/regions.yaml, dualRegion;
 * the contradictions refuse a pair without one): Cloud Storage names it US, EU or ASIA, Cloud KMS and
 * Artifact Registry us, europe or asia.
 */
export function dualRegionOf(input: InventoryInput): { bucketLocation: string; kmsLocation: string } {
  const location = input.dualRegion ?? "";
  const kms = ({ US: "us", EU: "europe", ASIA: "asia" } as Record<string, string>)[location];
  // a pair outside one location is a contradiction (DUAL_REGION_PAIR): the nearest location stands in
  return { bucketLocation: kms ? location : "US", kmsLocation: kms ?? "us" };
}

/**
 * Each Google service encrypts with the key through its project service agent, which must hold
 * cryptoKeyEncrypterDecrypter on it (kms.tf); the encrypted resources wait for their grant.
 */
function gcpKeyGrants(b: InventoryBuilder, key: string, encrypted: string[], suffix = ""): void {
  const kind = (name: string, agent: string, type: string, what: string) => ({
    holder: `google_kms_crypto_key_iam_member.${name}${suffix}`,
    id: `${name}${suffix}`,
    key,
    principal: `service-\${data.google_project.current.number}@${agent}.iam.gserviceaccount.com`,
    type,
    title: `${what} service agent may encrypt with ${suffix ? "the dual-region key" : "the key"}`,
  });
  b.grantKey(encrypted, [
    kind("storage", "gs-project-accounts", "google_storage_bucket", "Cloud Storage"),
    kind(
      "artifact_registry",
      "gcp-sa-artifactregistry",
      "google_artifact_registry_repository",
      "Artifact Registry",
    ),
    kind("gke", "container-engine-robot", "google_container_cluster", "GKE"),
    kind("memorystore", "cloud-redis", "google_redis_instance", "Memorystore"),
    kind("vertex_ai", "gcp-sa-aiplatform", "google_vertex_ai_endpoint", "Vertex AI"),
  ]);
}

interface Shared {
  replicas: number;
  encrypted: string[];
}

/** cluster.tf: GKE (regional, private nodes), its system and serving pools. */
function clusterResources(
  input: InventoryInput,
  b: InventoryBuilder,
  s: Shared & { preProduction: number; servingNodes: number; servingNodeHours: number; systemNodes: number },
): void {
  const f = facts(input);
  const { capacity, prices } = input;
  const system = prices.table.systemInstance;
  // the chart's pods: Workload Identity Federation gives its service account, in every environment's
  // namespace, the data bucket's objects
  b.vars.workloadServiceAccount = chartNameOf(input.spec.metadata.name);
  // a Workload Identity Federation principal names the project's pool, not a cluster: the primary's
  // grant holds for the same service account in the same namespace of every region's cluster
  if (!f.secondary)
    b.add({
      address: "google_storage_bucket_iam_member.workload",
      file: "workload.tf",
      title: "Workload identity: the chart's service account may use the data bucket's objects",
      implements: ["workload-identity"],
      relations: [{ kind: "grants", target: "google_storage_bucket.data" }],
    });
  b.add({
    address: "google_container_cluster.main",
    file: "cluster.tf",
    title: "GKE cluster (regional, private nodes, Workload Identity)",
    item: "Managed Kubernetes control plane",
    meters: [{ price: "clusterFeeHourly", quantity: hours(1), unit: "cluster-hours" }],
    implements: ["workload-identity", "private-network"],
  });
  s.encrypted.push("google_container_cluster.main");
  b.add({
    address: "google_container_node_pool.system",
    file: "cluster.tf",
    title: `System node pool: ${s.systemNodes} x ${system} (${SYSTEM_NODES_PER_ZONE} in each of ${GKE_ZONES} zones)`,
    item: "System node pool",
    meters: [
      { price: `instance:${system}`, quantity: hours(s.systemNodes), unit: "instance-hours" },
      {
        price: "blockStoragePerGbMonth",
        quantity: s.systemNodes * NODE_DISK_GB,
        unit: "GB-month of node disk (pd-balanced)",
      },
    ],
    attributes: { nodesPerZone: SYSTEM_NODES_PER_ZONE, zones: GKE_ZONES, instanceType: system },
  });
  b.vars.systemNodesPerZone = SYSTEM_NODES_PER_ZONE;
  b.vars.nodeDiskGb = NODE_DISK_GB;
  // the serving nodes' disk: the default, or room for an LLM engine's checkpoint and images
  const servingDisk = servingNodeDiskGb(input, NODE_DISK_GB);
  b.vars.servingDiskGb = servingDisk;

  const price = `instance:${capacity.instanceType}`;
  const nodeMeter: Meter = f.batch
    ? {
        price,
        quantity: s.servingNodeHours,
        unit: "instance-hours",
        assumption: `${batchRunHours(input).runs} runs/month x ${batchRunHours(input).hoursPerRun} h x ${capacity.replicasMax} nodes; nothing runs between runs`,
        ...(input.spotForBatch
          ? {
              discount: {
                fraction: prices.row("spotDiscount").usd,
                because: "Spot VMs (interruptible, retried)",
              },
            }
          : {}),
      }
    : {
        price,
        quantity: s.servingNodeHours,
        unit: `instance-hours (${s.replicas} average of ${capacity.replicasMin}-${capacity.replicasMax} in production${preProductionText(
          s.replicas,
          s.servingNodes,
          f.preProduction,
          capacity.replicasMax,
        )})`,
      };
  b.add({
    address: "google_container_node_pool.serving",
    file: "cluster.tf",
    title: `${f.gpu ? "GPU" : "Serving"} node pool: ${capacity.replicasMin}-${capacity.replicasMax} x ${capacity.instanceType}`,
    item: f.computeItem,
    meters: [
      nodeMeter,
      {
        price: "blockStoragePerGbMonth",
        quantity: round2((s.servingNodeHours / hours(1)) * servingDisk),
        unit: `GB-month of node disk (pd-balanced, ${servingDisk} GB per node${servingDisk > NODE_DISK_GB ? ": the LLM engine's checkpoint and images" : ""}, while the nodes run)`,
      },
    ],
    attributes: { min: capacity.replicasMin, max: capacity.replicasMax, instanceType: capacity.instanceType },
  });
  b.relate("pulls-from", "google_container_node_pool.serving", [
    "google_artifact_registry_repository.images",
  ]);
  const addons = addonsFor(input);
  addHelmReleases(b, addons);
  if (addons.some((a) => a.id === "external-secrets")) {
    // what External Secrets syncs into each environment's namespace: its own serving tokens
    // (Terraform generates them), beside the online store's URL (online-store.tf). Secret Manager is
    // the project's: every region's operator reads the primary's tokens (a client's token holds in
    // whichever region serves it), under the primary's grant to its project-wide principal
    if (!f.secondary) {
      b.add({
        address: "google_secret_manager_secret.serve_tokens",
        file: "secrets.tf",
        title: `Secret Manager: the serving tokens of ${f.environments.length > 1 ? `each environment (${f.environments.join(", ")})` : "the environment"}`,
        item: "Secrets",
        meters: [
          {
            price: "secretVersionMonthly",
            quantity: f.environments.length,
            unit: "active secret version-months",
          },
        ],
        implements: ["secret-store"],
      });
      b.add({
        address: "google_secret_manager_secret_iam_member.external_secrets_serve_tokens",
        file: "secrets.tf",
        title:
          "External Secrets' service account (a Workload Identity Federation principal) may read the chart's secrets",
        implements: ["workload-identity"],
      });
      b.relate("grants", "google_secret_manager_secret_iam_member.external_secrets_serve_tokens", [
        "google_secret_manager_secret.serve_tokens",
      ]);
    }
    if (input.choices["features.store"] === "online") {
      b.add({
        address: "google_secret_manager_secret_iam_member.external_secrets_online_store",
        file: "secrets.tf",
        title: "External Secrets' service account may read the online store's URL",
        implements: ["workload-identity"],
      });
      b.relate("grants", "google_secret_manager_secret_iam_member.external_secrets_online_store", [
        "google_secret_manager_secret.features",
      ]);
    }
  }
  if (addons.some((a) => a.id === "gke-ingress") && f.multiRegion) {
    // every region's pods are endpoints of the one global load balancer (infra/terraform/gcp/global)
  } else if (addons.some((a) => a.id === "gke-ingress")) {
    // the chart's Ingress: GKE builds an external Application Load Balancer on this address, with
    // the Cloud Armor policy on its backend (the chart's BackendConfig)
    b.add({
      address: "google_compute_global_address.ingress",
      file: "ingress.tf",
      title: "The Ingress's external Application Load Balancer (its forwarding rule on this address)",
      item: "Load balancer",
      meters: forwardingRuleMeters(
        input,
        "forwarding rule-hours (the address is assumed free while the rule uses it)",
      ),
      implements: ["tls-in-transit"],
    });
    b.vars.ingressAddress = true;
  } else if (f.realtime)
    b.exclude(
      "Load balancer",
      hours(prices.row("loadBalancerHourly").usd),
      "the chart's Service is ClusterIP: clients reach the serving core inside the cluster (namespaces labelled stackwright.dev/clients); an entry point from outside (its forwarding rule, and the backend service that would carry the Cloud Armor policy) is the customer's",
    );
}

/** serverless.tf: a Cloud Run service (or job, with its schedule) per environment. */
function serverlessResources(input: InventoryInput, b: InventoryBuilder, s: Shared): void {
  const f = facts(input);
  const { capacity, prices } = input;
  b.vars.serverlessCpu = RUN_VCPU;
  b.vars.serverlessMemoryGb = RUN_GB;
  b.add({
    address: "google_service_account.serving",
    file: "serverless.tf",
    title: "Serving service account: the identity Cloud Run runs as (no keys)",
    implements: ["workload-identity"],
  });
  const size = (vcpu: string, gb: string, vcpuHours: number, what: string, assumption?: string): Meter[] => [
    {
      price: vcpu,
      quantity: round2(vcpuHours * RUN_VCPU),
      unit: `vCPU-hours (${what})`,
      ...(assumption ? { assumption } : {}),
    },
    {
      price: gb,
      quantity: round2(vcpuHours * RUN_GB),
      unit: `GiB-hours (${what})`,
      ...(assumption ? { assumption } : {}),
    },
  ];

  if (f.batch) {
    const { runs, hoursPerRun } = batchRunHours(input);
    for (const env of f.environments) {
      const production = env === f.production;
      const taskHours = (production ? runs : 1) * hoursPerRun * capacity.replicasMax;
      b.add({
        address: `google_cloud_run_v2_job.score["${env}"]`,
        file: "serverless.tf",
        title: `Cloud Run job (${env}): ${capacity.replicasMax} tasks of ${RUN_VCPU} vCPU, ${RUN_GB} GiB${production ? ", scheduled" : ", run on demand"}`,
        item: production ? "Batch scoring compute" : "Pre-production environments",
        meters: size(
          "serverlessJobVcpuHourly",
          "serverlessJobGbHourly",
          taskHours,
          `${capacity.replicasMax} tasks`,
          production
            ? `${runs} runs/month x ${hoursPerRun} h x ${capacity.replicasMax} tasks; nothing runs between runs`
            : `runs only on demand (gcloud run jobs execute): one run a month at production's size assumed`,
        ),
      });
      b.relate("pulls-from", `google_cloud_run_v2_job.score["${env}"]`, [
        "google_artifact_registry_repository.images",
      ]);
    }
    b.add({
      address: "google_cloud_scheduler_job.score",
      file: "serverless.tf",
      title: `Cloud Scheduler job: starts production's scoring job (${input.spec.inference.batch.schedule ?? "daily"})`,
      item: "Batch scoring compute",
      meters: [{ price: "schedulerJobMonthly", quantity: 1, unit: "job-months" }],
      relations: [{ kind: "runs", target: `google_cloud_run_v2_job.score["${f.production}"]` }],
    });
    b.add({
      address: "google_secret_manager_secret.score_hmac",
      file: "serverless.tf",
      title: "Secret: the scoring job's Cloud Storage HMAC secret",
      item: "Secrets",
      meters: [{ price: "secretVersionMonthly", quantity: 1, unit: "active secret version-months" }],
      implements: ["secret-store"],
    });
    return;
  }

  for (const env of f.environments) {
    const production = env === f.production;
    const address = `google_cloud_run_v2_service.serving["${env}"]`;
    const instances = Math.max(1, s.replicas);
    b.add({
      address,
      file: "serverless.tf",
      title: production
        ? `Cloud Run service (${env}): ${Math.max(1, capacity.replicasMin)}-${capacity.replicasMax} instances, ${f.publicEndpoint ? "public HTTPS" : "internal and load balancer ingress"}`
        : `Cloud Run service (${env}): scales from zero, internal ingress only`,
      item: production ? f.computeItem : "Pre-production environments",
      meters: production
        ? [
            ...size(
              "serverlessVcpuHourly",
              "serverlessGbHourly",
              hours(instances),
              `${instances} average instances, request-based billing priced as always busy`,
            ),
            { price: "serverlessRequestsPerMillion", ...requests(input), unit: "million requests" },
          ]
        : size(
            "serverlessVcpuHourly",
            "serverlessGbHourly",
            22,
            "1 instance",
            "scales from zero: about an hour of one instance per working day (22 h/month) of pre-production testing",
          ),
      implements: production
        ? f.publicEndpoint
          ? ["tls-in-transit"]
          : ["tls-in-transit", "private-network"]
        : [],
    });
    b.relate("pulls-from", address, ["google_artifact_registry_repository.images"]);
  }
  if (f.realtime && !f.publicEndpoint)
    b.exclude(
      "Load balancer",
      hours(prices.row("loadBalancerHourly").usd),
      "production's Cloud Run service takes outside traffic only through a load balancer (ingress: internal and Cloud Load Balancing), and this Terraform builds none (no serverless NEG, backend service or forwarding rule): the entry point is the customer's",
    );
}

/** What the serving pool's node-hours add for pre-production namespaces, capped by the pool's maximum. */
function preProductionText(replicas: number, nodes: number, environments: string[], max: number): string {
  if (environments.length === 0) return "";
  const names = environments.join(", ");
  const extra = nodes - replicas;
  const capped = nodes < replicas + environments.length;
  if (extra === 0) return `; pre-production (${names}) shares those nodes: the pool holds at most ${max}`;
  return ` + ${extra} for pre-production (${names}) in their namespaces${capped ? `; the pool holds at most ${max}` : ""}`;
}

/**
 * vertex.tf: a Vertex AI endpoint per environment (priced at the prediction node rate of the machine
 * mirroring the sized one), the service account its deployed models run as, and the alert policies
 * that page on each endpoint's latency and error share. The deployed model itself (the release's
 * image on its nodes, with its autoscaling) is created by deploy.yml: the provider has no resource
 * for a custom model deployed to an endpoint.
 */
function vertexResources(input: InventoryInput, b: InventoryBuilder, s: Shared): void {
  const f = facts(input);
  const { capacity } = input;
  const instance = managedInstanceFor(input, b);
  b.add({
    address: "google_service_account.endpoint",
    file: "vertex.tf",
    title: "Endpoint service account: the identity the deployed models run as (no project roles, no keys)",
    implements: ["workload-identity"],
  });
  for (const env of f.environments) {
    const production = env === f.production;
    const address = `google_vertex_ai_endpoint.serving["${env}"]`;
    b.add({
      address,
      file: "vertex.tf",
      title: `Vertex AI endpoint (${env})${production ? `: ${capacity.replicasMin}-${capacity.replicasMax} x ${instance}` : `: 1 x ${instance}`}, IAM-authenticated predictions`,
      item: production ? f.computeItem : "Pre-production environments",
      meters: [
        {
          price: `instance:${instance}`,
          quantity: hours(production ? s.replicas : 1),
          unit: production
            ? `node-hours (${s.replicas} average of ${capacity.replicasMin}-${capacity.replicasMax}, the deployed model's nodes)`
            : `node-hours (1 node in ${env})`,
        },
      ],
      attributes: { instanceType: instance },
      implements: ["tls-in-transit"],
    });
    s.encrypted.push(address);
    b.relate("pulls-from", address, ["google_artifact_registry_repository.images"]);
  }
  addEndpointAlarms(b, f.environments.length, {
    type: "google_monitoring_alert_policy",
    file: "vertex.tf",
    what: "alert policy",
    does: "pages metadata.contacts",
    unit: "condition-months",
  });
}

/**
 * What joins the regions of a multi-region plan on Google Cloud (infra/terraform/gcp/global/, applied
 * after every region's stack and the chart in each): where the chart has an entry point, one global
 * external Application Load Balancer whose backend service holds every region's pods (the standalone
 * network endpoint groups GKE creates from the chart's Service), health-checked on the serving core's
 * readiness and protected by the Cloud Armor policy; active-passive prefers the primary's endpoints
 * and spills to the standby's when they are unhealthy or full. The data bucket (dual-region, turbo
 * replication) and the image repository (multi-region) are the primary stack's and need nothing here.
 */
export function gcpGlobalInventory(
  input: InventoryInput,
  b: InventoryBuilder,
  regions: readonly string[],
): void {
  if (!addonsFor(input).some((a) => a.id === "gke-ingress")) return;
  const active = input.spec.availability.failover === "active-active";
  const file = "global/routing.tf";
  b.add({
    address: "google_compute_global_address.serving",
    file,
    title:
      "The serving name's anycast address (one for every region: clients need no DNS change on failover)",
  });
  b.add({
    address: "google_compute_managed_ssl_certificate.serving",
    file,
    title: "Google-managed certificate for var.domain (provisioned once the name resolves to the address)",
  });
  b.add({
    address: "google_compute_health_check.serving",
    file,
    title: "Health check: the serving core's readiness (/v2/health/ready) on every endpoint, every 5 s",
  });
  b.add({
    address: "google_compute_backend_service.serving",
    file,
    title: `Backend service: every region's pods (${regions.join(", ")}), ${active ? "each client to the nearest healthy region with capacity" : `${regions[0]} preferred, the standby when it is unhealthy or full`}`,
    relations: [{ kind: "reads", target: "google_compute_health_check.serving" }],
  });
  if (b.has("google_compute_security_policy.edge"))
    b.relate("protects", "google_compute_security_policy.edge", ["google_compute_backend_service.serving"]);
  b.add({
    address: "google_compute_url_map.serving",
    file,
    title: "URL map: every path to the backend service",
  });
  b.add({
    address: "google_compute_target_https_proxy.serving",
    file,
    title: "HTTPS proxy: TLS with the managed certificate",
    implements: ["tls-in-transit"],
  });
  b.add({
    address: "google_compute_global_forwarding_rule.serving",
    file,
    title: "Global external Application Load Balancer: HTTPS on the anycast address",
    item: "Global routing",
    meters: forwardingRuleMeters(input, "forwarding rule-hours"),
    implements: ["tls-in-transit"],
    relations: [{ kind: "fronts", target: "google_compute_backend_service.serving" }],
  });
  for (const region of regions)
    b.add({
      address: `google_compute_firewall.${region.replaceAll("-", "_")}`,
      file,
      title: `Firewall of ${region}'s network: the load balancer's proxies and health checks to the serving port only`,
      implements: ["network-policy"],
    });
}

/** An external Application Load Balancer's forwarding rule: its hours and the data it processes. */
function forwardingRuleMeters(input: InventoryInput, hoursUnit: string): Meter[] {
  return [
    { price: "loadBalancerHourly", quantity: hours(1), unit: hoursUnit },
    { price: "loadBalancerCapacityUnitHourly", ...servedData(input), unit: "GB processed" },
  ];
}
