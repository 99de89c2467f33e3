/**
 * Terraform per cloud (infra/terraform/<cloud>/), from templates/terraform/<cloud>/*.tf.hbs. Which
 * files exist follows the decisions: a cluster or a serverless runtime, KMS keys only with
 * customer-managed keys, an online store only when chosen, a WAF only with private-with-waf, budget
 * guardrails only with a budget. `cloud.provider: kubernetes` emits no Terraform.
 *
 * What the delivery workflows act on comes from deliveryOf(plan) (src/generate/delivery.ts), never
 * restated here: the registry and image they push, a deploy identity per environment they deploy
 * through (output as the GitHub environment variables they read), the runner inside the network when
 * deploys or pushes cannot come from outside, and whether the cluster API answers allowed CIDRs. On a
 * serverless runtime every environment runs its own service or score job (the names delivery gives
 * them), which only that environment's deploy identity may update; only production's is public or
 * scheduled.
 */

import { EDGE_RETENTION_DAYS, EDGE_STORE_LAYOUT } from "../../edge/defaults.js";
import type { TextFileSet } from "../../fileset/index.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import {
  ADDON_CHARTS,
  ADDON_SERVICE_ACCOUNTS,
  type AddonRefs,
  AZURE_EDGE_CONTAINERS,
  AZURE_GATEWAY_SUBNET,
  addonSettingsOf,
  addonValues,
  azureSecretsVaultName,
  cloudSecretKeys,
  ENTRY_POINT_TAG,
  entryPointTagValue,
  gkeIngressAddressName,
  gkeNegName,
  hclName,
  INGRESS_CLASS,
  INGRESS_SOURCES,
} from "../../infra/index.js";
import { azureStorageName, azureStorageNameIn, cloudName } from "../../infra/names.js";
import { loadDefaultRuleSet } from "../../plan/index.js";
import type { Plan } from "../../plan/types.js";
import {
  AZURE_DATA_CONTAINER,
  batchLocations,
  CONTAINER_PORT,
  dataBucketName,
  dataLocation,
  scoreJobArgs,
  scoreSchedule,
  serveArgs,
} from "../commands.js";
import { deliveryOf, deployVariablesOf, SCORE_JOB_SUFFIX } from "../delivery.js";
import { EDGE_RELEASE, edgeReleaseVariables } from "../edge-release.js";
import { engineArgs, weightsLocation } from "../engine-deploy.js";
import { managedEndpointOf } from "../managed-endpoint.js";
import { ringsOf } from "../platform/edge.js";
import { clusterSecrets } from "../platform/serve-config.js";
import { HclExpression, hclValue, render, templateFiles } from "../render.js";

/** Labels every self-hosted runner adds to itself: the Terraform registers only the others. */
const IMPLICIT_RUNNER_LABELS = new Set(["self-hosted", "linux", "x64"]);

/**
 * The actions/runner release the runner instances install (they update themselves afterwards) and the
 * SHA-256 of its linux-x64 archive, checked before it is unpacked.
 */
const RUNNER_RELEASE = {
  version: "2.321.0",
  sha256: "ba46ba7ce3a4d7236b16fbe44419fb453bc08f866b24f04d549ec89f1722a29e",
};

function choice(plan: Plan, capability: string): string {
  return plan.decisions.find((d) => d.capability === capability)!.choice;
}

/** cron "m h dom mon dow" -> EventBridge Scheduler / Cloud Scheduler expressions. */
function scheduleExpression(cron: string): string {
  const macro: Record<string, string> = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
  };
  const five = macro[cron] ?? cron;
  const [m, h, dom, mon, dow] = five.split(/\s+/);
  // EventBridge wants 6 fields and exactly one of day-of-month / day-of-week as "?"
  const awsDom = dow !== "*" ? "?" : dom;
  const awsDow = dow !== "*" ? dow.replace(/\b0\b/g, "1").replace(/\b7\b/g, "1") : "?";
  return `cron(${m} ${h} ${awsDom} ${mon} ${awsDow} *)`;
}

export function terraformContext(plan: Plan): Record<string, unknown> {
  const spec = plan.requirements;
  const provider = spec.cloud.provider;
  const prices = loadDefaultRuleSet().prices.get(provider);
  const runtime = choice(plan, "serving.runtime");
  const mode = choice(plan, "serving.mode");
  const batch = mode === "batch";
  const cluster = runtime === "kubernetes";
  const managed = runtime === "managed-endpoint";
  const endpoint = managedEndpointOf(plan);
  const network = choice(plan, "security.network");
  const online = choice(plan, "features.store") === "online";
  const schedule = scoreSchedule(plan);
  const registry = choice(plan, "registry");
  const delivery = deliveryOf(plan);
  const runner = delivery.runner?.terraform ? delivery.runner : undefined;
  const inventory = plan.inventory;
  if (!inventory) throw new Error(`a ${provider} plan has no inventory`);
  const secretKeys = cloudSecretKeys(cloudName(spec.metadata.name, 40), provider, {
    region: spec.cloud.region,
    primaryRegion: spec.availability.regions[0],
  });
  return {
    header: GENERATED_HEADER,
    // a secondary region's stack names its resources after its own name (generateTerraform)
    secondary: false,
    name: cloudName(spec.metadata.name, 40),
    storageName: azureStorageNameIn(spec),
    // the Key Vault of the chart's secrets (Azure, secrets.tf), as the chart's SecretStore names it
    secretsVaultName: azureSecretsVaultName(azureStorageNameIn(spec)),
    owner: spec.metadata.owner || "unknown",
    // metadata.contacts: who budget and cost-anomaly notifications reach (budget_alert_emails' default)
    contacts: spec.metadata.contacts,
    specHashShort: plan.spec.hash.slice(7, 19),
    region: spec.cloud.region,
    instanceType: plan.capacity.instanceType.startsWith("serverless")
      ? (prices?.cpuInstances[1]?.name ?? "unused")
      : plan.capacity.instanceType,
    systemInstance: prices?.systemInstance ?? "",
    replicasMin: plan.capacity.replicasMin,
    replicasMax: Math.max(1, plan.capacity.replicasMax),
    gpu: plan.capacity.hardware === "gpu",
    gpuType: plan.capacity.gpuType ?? "",
    gpuMachine: plan.capacity.hardware === "gpu" ? plan.capacity.instanceType.replace(/-t4$/, "") : "",
    cluster,
    // a managed model endpoint (SageMaker), neither a cluster nor serverless containers
    managed,
    serverless: !cluster && !managed,
    serverlessService: !cluster && !managed && !batch,
    endpoint,
    // serve's options as the model's environment, in terraform fmt form inside locals (indent 2)
    endpointEnvironment: hclValue(endpoint?.environment ?? {}, 2),
    latencySloMs: spec.inference.latencyP99Ms,
    availabilityPercent: spec.availability.targetPercent,
    batch,
    scheduleExpression: scheduleExpression(schedule),
    cronSchedule: schedule.startsWith("@")
      ? (
          {
            "@hourly": "0 * * * *",
            "@daily": "0 0 * * *",
            "@weekly": "0 0 * * 0",
            "@monthly": "0 0 1 * *",
          } as Record<string, string>
        )[schedule]
      : schedule,
    cmk: choice(plan, "security.encryption") === "customer-managed-keys",
    waf: network === "private-with-waf",
    publicEndpoint: network === "public-tls",
    wafRateLimit: Math.max(100, Math.ceil(spec.inference.peakQps * 300 * 1.5)),
    onlineStore: online,
    // the command lines of the serverless service and of production's score job (src/generate/commands.ts);
    // each environment's own score command is in deployEnvironments
    serveCommand: serveArgs(),
    scoreCommand: scoreJobArgs(plan),
    port: CONTAINER_PORT,
    dataBucket: dataBucketName(plan),
    onlineStoreSecret: clusterSecrets(plan).onlineStore,
    onlineStoreNode:
      provider === "aws" ? (prices?.onlineStoreNode ?? "cache.r7g.large") : (prices?.onlineStoreNode ?? ""),
    audit: choice(plan, "security.audit"),
    immutableAudit: choice(plan, "security.audit") === "immutable-audit-trail",
    budget: spec.budget.monthlyUsd,
    registry,
    sagemakerRegistry: registry === "sagemaker-model-registry",
    vertexRegistry: registry === "vertex-model-registry",
    azuremlRegistry: registry === "azureml-registry",
    // the Azure Machine Learning workspace: the registry's, or the managed endpoints'
    mlWorkspace: registry === "azureml-registry" || managed,
    registryDescription: `Model versions of ${spec.metadata.name}`,
    offline: choice(plan, "features.offline"),
    // delivery (src/generate/delivery.ts): what the workflows push, deploy through and authenticate as
    deployAccess: delivery.access,
    publicApi: delivery.access === "public-endpoint",
    // on a serverless runtime each environment runs its own service or score job in the one stack:
    // the names the deploy workflow updates, and the score command line of that environment's job
    // (a pre-production job writes under its own prefix of the data bucket)
    productionEnvironment: delivery.environments[delivery.environments.length - 1].name,
    deployEnvironments: delivery.environments.map((env) => ({
      name: env.name,
      namespace: env.namespace,
      production: env.production,
      service: env.service,
      scoreJob: `${env.service}${SCORE_JOB_SUFFIX}`,
      scoreCommand: scoreJobArgs(plan, env.dataEnvironment || undefined),
    })),
    // the GitHub environment variables each environment's deploy jobs read (deployVariablesOf's order)
    deployVariables: deployVariablesOf(plan),
    imageRegistry: delivery.registry.registryName,
    image: delivery.registry.image,
    registryPrivate: delivery.registry.private,
    runner: Boolean(runner),
    runnerLabels: (runner?.labels ?? []).filter((label) => !IMPLICIT_RUNNER_LABELS.has(label)),
    runnerRelease: RUNNER_RELEASE,
    // what the chart's pods may do in the data bucket: score's input and each environment's predictions
    // (src/generate/commands.ts), as prefixes of the bucket
    // (and, where an LLM engine serves, the published checkpoint its pods copy: models/<name>/)
    workloadReads: [
      batchLocations(plan).input.slice(dataLocation(plan).length),
      ...(engineArgs(plan) ? [`${weightsLocation(plan).slice(dataLocation(plan).length)}*`] : []),
    ],
    workloadWrites: [
      ...new Set(
        delivery.environments.map(
          (env) =>
            `${batchLocations(plan, env.dataEnvironment || undefined).output.slice(dataLocation(plan).length)}*`,
        ),
      ),
    ],
    // the cluster add-ons (src/infra/addons.ts): every one's id; the Helm charts the Terraform
    // installs are inventory.vars.addons, by id
    addonIds: plan.addons.map((a) => a.id),
    helmAddons: false,
    addons: {},
    // the charts and service accounts the Pod Identity associations name, whatever installs them
    addonCharts: ADDON_CHARTS,
    addonServiceAccounts: ADDON_SERVICE_ACCOUNTS,
    // each Helm release's values (addonValues, the GitOps manifests' too), as HCL with the cloud's
    // references in place of names
    addonValues: Object.fromEntries(
      plan.addons.flatMap((a) =>
        a.install.via === "terraform"
          ? [
              [
                a.id,
                hclValue(
                  addonValues(
                    a.id as keyof typeof ADDON_CHARTS,
                    addonRefs(provider),
                    addonSettingsOf(plan.addons, provider),
                  ),
                  2,
                ),
              ],
            ]
          : [],
      ),
    ),
    externalSecrets: false,
    // GKE's load-balancer controllers: the Ingress's (one region) or the chart's NEGs (several)
    httpLoadBalancing: plan.addons.some((a) => a.id === "gke-ingress"),
    multiRegionRouting: plan.addons.some((a) => a.id === "gke-ingress") && inventory.secondaries.length > 0,
    loadBalancerSubnets: false,
    ingressAddress: false,
    applicationGateway: false,
    gatewaySubnet: AZURE_GATEWAY_SUBNET,
    ingressAddressName: gkeIngressAddressName(cloudName(spec.metadata.name, 40)),
    // the names the Terraform writes secrets under, as the chart's ExternalSecrets read them
    onlineStoreSecretKey: secretKeys.onlineStore,
    serveTokenSecrets: {
      environments: delivery.environments.map((env) => env.name),
      names: delivery.environments.map((env) => secretKeys.serveTokens(env.name)),
    },
    ingressClass: INGRESS_CLASS.aws,
    // the primary's stack of a multi-region plan (a secondary's context has no secondaries)
    multiRegion: inventory.secondaries.length > 0,
    // Azure: the registry's geo-replicas, and the resource groups the one budget watches
    geoReplicas: inventory.secondaries.map((s) => s.region),
    budgetGroups: [cloudName(spec.metadata.name, 40), ...inventory.secondaries.map((s) => s.name)].map(
      (n) => `${n}-rg`,
    ),
    // what a stack references, its own or (another region's stack, Azure) the primary's
    workloadIdentity: "azurerm_user_assigned_identity.workload",
    deployIdentity: "azurerm_user_assigned_identity.deploy",
    containerRegistry: "azurerm_container_registry.main",
    // a multi-region plan's dual-region bucket (Google Cloud): its two regions
    dualRegionLocations: spec.availability.regions.map((r) => r.toUpperCase()),
    dualRegionPair: spec.availability.regions.join(" and "),
    // what the inventory builds (src/infra/): the quantities the cost prices, read by the templates
    ...inventory.vars,
    // the files that hold the inventory's resources
    inventoryFiles: [...new Set(inventory.resources.map((r) => r.file.slice(r.file.lastIndexOf("/") + 1)))],
  };
}

/** What a Helm release's values reference in the Terraform (see AddonRefs). */
function addonRefs(provider: string): AddonRefs<HclExpression> {
  return provider === "aws"
    ? {
        clusterName: new HclExpression("module.eks.cluster_name"),
        region: new HclExpression("var.region"),
        vpc: { vpcId: new HclExpression("module.vpc.vpc_id") },
        webAcl: { wafv2AclArn: new HclExpression("aws_wafv2_web_acl.edge.arn") },
      }
    : {
        clusterName: new HclExpression("var.name"),
        region: new HclExpression("var.region"),
        vpc: {},
        webAcl: {},
      };
}

/** Files every stack has: providers, variables, outputs and the shared locals. */
const ALWAYS = new Set(["main.tf", "providers.tf", "variables.tf", "versions.tf", "outputs.tf"]);

/** Which template files a plan needs: the fixed ones, and those that hold a resource of the inventory. */
function wanted(file: string, ctx: Record<string, unknown>): boolean {
  return ALWAYS.has(file) || (ctx.inventoryFiles as string[]).includes(file);
}

export function generateTerraform(plan: Plan): TextFileSet {
  const provider = plan.requirements.cloud.provider;
  // nothing to build, nothing rendered (an on-device plan's cloud side: EDGE_CLOUD_SIDE_NOT_BUILT)
  if (provider === "kubernetes" || !plan.inventory?.resources.length) return {};
  const files: TextFileSet = {};
  // an on-device plan's cloud side: its own templates (<cloud>-edge/), one stack, nothing that serves
  const onDevice = choice(plan, "serving.runtime") === "on-device";
  const stacks = onDevice
    ? []
    : [
        { dir: "", ctx: terraformContext(plan) },
        // every other region: the same stack under its own names, in its own directory (and state)
        ...plan.inventory.secondaries.map((stack) => {
          const base = terraformContext({
            ...plan,
            requirements: {
              ...plan.requirements,
              cloud: { ...plan.requirements.cloud, region: stack.region },
            },
            inventory: { ...stack, secondaries: [] },
          });
          return {
            dir: `${stack.dir}/`,
            ctx: {
              ...base,
              name: stack.name,
              secondary: true,
              primaryRegion: plan.requirements.cloud.region,
              // the model registry is the primary's (its workspace, its versions)
              azuremlRegistry: false,
              mlWorkspace: false,
              multiRegionRouting: base.httpLoadBalancing,
              // Azure: the primary's identities, registry and secrets vault, found by name in its group
              primaryName: cloudName(plan.requirements.metadata.name, 40),
              primaryResourceGroup: `${cloudName(plan.requirements.metadata.name, 40)}-rg`,
              primarySecretsVault: azureSecretsVaultName(azureStorageNameIn(plan.requirements)),
              workloadIdentity: "data.azurerm_user_assigned_identity.workload",
              deployIdentity: "data.azurerm_user_assigned_identity.deploy",
              containerRegistry: "data.azurerm_container_registry.main",
              // production's environment, the region's own runners and deploy role variable (delivery.regions)
              ...regionalDelivery(plan, stack.region, base),
            },
          };
        }),
      ];
  const roots: Array<{ templates: string; dir: string; ctx: Record<string, unknown> }> = onDevice
    ? [{ templates: `${provider}-edge`, dir: "", ctx: edgeContext(plan) }]
    : stacks.map(({ dir, ctx }) => ({ templates: provider, dir, ctx }));
  // what joins the regions: its own root, applied after every region's
  const global = globalContext(plan);
  if (global) roots.push({ templates: `${provider}-global`, dir: "global/", ctx: global });
  for (const { templates, dir, ctx } of roots)
    for (const file of templateFiles(`terraform/${templates}`)) {
      if (!wanted(file, ctx)) continue;
      const text = render(`terraform/${templates}/${file}.hbs`, ctx);
      files[`infra/terraform/${provider}/${dir}${file}`] = `${text.replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
    }
  return files;
}

/**
 * The context of an on-device plan's cloud side (templates/terraform/<cloud>-edge/): the stores, the
 * device identities and the release role of the inventory, the key layout and retention the devices
 * and the release commands share (src/edge/defaults.ts).
 */
function edgeContext(plan: Plan): Record<string, unknown> {
  const spec = plan.requirements;
  const inventory = plan.inventory!;
  const rings = ringsOf(plan).map((r) => r.name);
  return {
    header: GENERATED_HEADER,
    name: cloudName(spec.metadata.name, 40),
    region: spec.cloud.region,
    owner: spec.metadata.owner || "unknown",
    specHashShort: plan.spec.hash.slice(7, 19),
    devices: spec.edge?.devices ?? 1,
    rings,
    ringList: rings.join(", "),
    lastRing: rings.at(-1),
    layout: EDGE_STORE_LAYOUT,
    bundleRetentionDays: EDGE_RETENTION_DAYS.bundles,
    telemetryRetentionDays: EDGE_RETENTION_DAYS.telemetry,
    cmk: inventory.resources.some(
      (r) => r.address === "aws_kms_key.main" || r.address === "azurerm_key_vault_key.main",
    ),
    keyGrants: inventory.vars.keyGrants ?? [],
    releaseEnvironment: EDGE_RELEASE.environment,
    releaseVariableNames: edgeReleaseVariables(spec.cloud.provider),
    inventoryFiles: inventory.resources.map((r) => r.file.slice(r.file.lastIndexOf("/") + 1)),
    ...(spec.cloud.provider === "azure" ? azureEdgeNames(spec, inventory) : {}),
  };
}

/** The Azure edge stack's names: its storage accounts' defaults and containers, the hub's units (the inventory's). */
function azureEdgeNames(spec: Plan["requirements"], inventory: NonNullable<Plan["inventory"]>) {
  const base = azureStorageName(spec.metadata.name).slice(0, 17);
  const hub = inventory.resources.find((r) => r.address === "azurerm_iothub.main")!;
  return {
    releasesAccount: `${base}bundles`,
    uploadsAccount: `${base}uploads`,
    releasesContainer: AZURE_EDGE_CONTAINERS.releases,
    uploadsContainer: AZURE_EDGE_CONTAINERS.uploads,
    hubUnits: hub.attributes.units,
    hubMessagesPerDay: hub.attributes.messagesPerDay,
  };
}

/** What a secondary region's stack renders for its deploys: its runners' labels, its role's variable. */
function regionalDelivery(plan: Plan, region: string, ctx: Record<string, unknown>): Record<string, unknown> {
  const delivery = deliveryOf(plan);
  const production = delivery.environments.at(-1)!.name;
  const target = delivery.regions.find((r) => r.region === region);
  const secrets = ctx.serveTokenSecrets as { environments: string[]; names: string[] };
  const at = secrets.environments.indexOf(production);
  return {
    // production only: pre-production runs in the primary region
    deployEnvironments: (ctx.deployEnvironments as Array<{ name: string }>).filter(
      (e) => e.name === production,
    ),
    serveTokenSecrets: { environments: [production], names: [secrets.names[at]] },
    ...(target
      ? {
          deployVariables: [target.roleVariable],
          runnerLabels: (target.runnerLabels ?? []).filter((label) => !IMPLICIT_RUNNER_LABELS.has(label)),
        }
      : {}),
  };
}

/**
 * The global root of a multi-region plan (infra/terraform/<cloud>/global/): every region with its
 * stack's name, data bucket and provider alias; which buckets replicate where; the routing's names.
 * Null when the inventory holds nothing global (one region).
 */
function globalContext(plan: Plan): Record<string, unknown> | null {
  const inventory = plan.inventory;
  const globalFiles = (inventory?.resources ?? [])
    .filter((r) => r.file.includes("/global/"))
    .map((r) => r.file.slice(r.file.lastIndexOf("/") + 1));
  if (!inventory || globalFiles.length === 0) return null;
  const spec = plan.requirements;
  const delivery = deliveryOf(plan);
  const regions = [
    { region: spec.cloud.region, stackName: cloudName(spec.metadata.name, 40) },
    ...inventory.secondaries.map((s) => ({ region: s.region, stackName: s.name })),
  ].map(({ region, stackName }, i) => ({
    region,
    stackName,
    primary: i === 0,
    alias: hclName(region),
    bucket: dataBucketName({ ...plan, requirements: { ...spec, cloud: { ...spec.cloud, region } } }),
  }));
  const active = spec.availability.failover === "active-active";
  if (spec.cloud.provider === "gcp") return gcpGlobalContext(plan, regions, globalFiles);
  if (spec.cloud.provider === "azure") return azureGlobalContext(plan, regions, globalFiles);
  const sources = (active ? regions : regions.slice(0, 1)).map((source) => ({
    ...source,
    to: regions.filter((r) => r.region !== source.region),
  }));
  return {
    header: GENERATED_HEADER,
    name: cloudName(spec.metadata.name, 40),
    primaryRegion: spec.cloud.region,
    regions,
    sources,
    destinations: regions.filter((r) => sources.some((s) => s.to.includes(r))),
    active,
    cmk: choice(plan, "security.encryption") === "customer-managed-keys",
    routed: globalFiles.includes("routing.tf"),
    images: inventory.resources.some((r) => r.address === "aws_ecr_replication_configuration.images"),
    imageDestinations: regions.slice(1),
    repository: delivery.registry.registryName,
    zoneName: `${cloudName(spec.metadata.name, 40)}.internal`,
    recordName: "serving",
    entryTagKey: ENTRY_POINT_TAG,
    entryTagValue: entryPointTagValue(delivery.release, delivery.environments.at(-1)!.namespace),
    inventoryFiles: [...new Set(globalFiles)],
  };
}

/**
 * The global root of a Google Cloud multi-region plan: the global load balancer over every region's
 * standalone NEGs (the chart's Service names them: gkeNegName), each region's network and cluster by
 * its stack's name, the Cloud Armor policy of the primary's stack, the health check on readiness.
 */
function gcpGlobalContext(
  plan: Plan,
  regions: Array<{ region: string; stackName: string; primary: boolean; alias: string }>,
  globalFiles: string[],
): Record<string, unknown> {
  const spec = plan.requirements;
  const delivery = deliveryOf(plan);
  const waf = choice(plan, "security.network") === "private-with-waf";
  return {
    header: GENERATED_HEADER,
    name: cloudName(spec.metadata.name, 40),
    primaryRegion: spec.cloud.region,
    regions,
    active: spec.availability.failover === "active-active",
    negName: gkeNegName(delivery.release, delivery.environments.at(-1)!.namespace),
    // the load balancer fills each endpoint up to the rate one replica serves (the capacity model's)
    maxRatePerEndpoint: Math.max(1, Math.floor(plan.capacity.perReplicaQps)),
    securityPolicy: waf ? cloudName(spec.metadata.name, 40) : "",
    port: CONTAINER_PORT,
    sourceRanges: INGRESS_SOURCES[INGRESS_CLASS.gcp],
    inventoryFiles: [...new Set(globalFiles)],
  };
}

/**
 * The global root of an Azure multi-region plan: each region's storage account and resource group by
 * its stack's names (the object replication from the primary's), and each region's Application
 * Gateway address behind Front Door.
 */
function azureGlobalContext(
  plan: Plan,
  regions: Array<{ region: string; stackName: string; primary: boolean; alias: string }>,
  globalFiles: string[],
): Record<string, unknown> {
  const spec = plan.requirements;
  const named = regions.map((r) => ({
    ...r,
    resourceGroup: `${r.stackName}-rg`,
    storageAccount: azureStorageNameIn({ ...spec, cloud: { ...spec.cloud, region: r.region } }),
  }));
  return {
    header: GENERATED_HEADER,
    name: cloudName(spec.metadata.name, 40),
    primaryRegion: spec.cloud.region,
    regions: named,
    primary: named[0],
    destinations: named.slice(1),
    container: AZURE_DATA_CONTAINER,
    active: spec.availability.failover === "active-active",
    routed: globalFiles.includes("routing.tf"),
    inventoryFiles: [...new Set(globalFiles)],
  };
}
