/**
 * The inventory stage: Plan decisions and sizes -> the cloud resources that implement them
 * (src/infra/types.ts). Below the cost and control code (plan/ reads it) and above the engine.
 */
import { AWS_BILLABLE, awsGlobalInventory, awsInventory } from "./aws.js";
import { AZURE_BILLABLE, azureGlobalInventory, azureInventory } from "./azure.js";
import { buildsRegions, facts, InventoryBuilder } from "./build.js";
import { awsEdgeInventory, azureEdgeInventory } from "./edge.js";
import { GCP_BILLABLE, gcpGlobalInventory, gcpInventory } from "./gcp.js";
import { cloudName, regionalName } from "./names.js";
import { regionalPrices } from "./prices.js";
import type { Inventory, InventoryCloud, InventoryInput } from "./types.js";

export {
  ADDON_CHARTS,
  ADDON_SERVICE_ACCOUNTS,
  type Addon,
  type AddonChart,
  type AddonId,
  type AddonRefs,
  type AddonSettings,
  AWS_LOAD_BALANCER_SUBNETS,
  AWS_VPC_CIDR,
  AZURE_GATEWAY_SUBNET,
  addonSettingsOf,
  addonsOf,
  addonValues,
  azureSecretsVaultName,
  type ClusterNeeds,
  cloudSecretKeys,
  clusterNeeds,
  ENTRY_POINT_TAG,
  entryPointTagValue,
  GITOPS_ADDONS_FILE,
  gkeIngressAddressName,
  gkeNegName,
  INGRESS_CLASS,
  INGRESS_SOURCES,
  MESH_DATAPLANE_LABEL,
  MESH_PORTS,
  MONITORING_NAMESPACE,
  SECRET_STORES,
  syncsExternalSecrets,
} from "./addons.js";
export { hclName } from "./aws.js";
export { addonsFor, buildsRegions, facts, MULTI_REGION_CLOUDS } from "./build.js";
export {
  buildsDeployRunner,
  deploysOtherRegions,
  needsRunnerInNetwork,
  PRIVATE_REGISTRY,
} from "./delivery.js";
export { AZURE_EDGE_CONTAINERS, EDGE_CLOUDS, PROMOTE_RUNS_PER_MONTH } from "./edge.js";
export { regionalName } from "./names.js";
export {
  ageInDays,
  type PriceRow,
  type RegionalPrices,
  regionalPrices,
  STALE_PRICES_DAYS,
  UnknownPriceError,
} from "./prices.js";
export type * from "./types.js";
export { averageReplicas, batchRunHours, HOURS_PER_MONTH, runsPerMonth, storedData } from "./usage.js";
export { expiredPins, KUBERNETES_VERSIONS, type PinnedVersion } from "./versions.js";

/** Block types and modules that carry a charge, per cloud: every one rendered is priced. */
export const BILLABLE: Readonly<Record<InventoryCloud, readonly string[]>> = {
  aws: AWS_BILLABLE,
  gcp: GCP_BILLABLE,
  azure: AZURE_BILLABLE,
};

const BUILDERS = { aws: awsInventory, gcp: gcpInventory, azure: azureInventory } as const;

/** The resources the plan needs; null on the team's own cluster (no Terraform). */
export function inventoryOf(input: InventoryInput): Inventory | null {
  const cloud = input.spec.cloud.provider;
  if (cloud === "kubernetes") return null;
  // an edge or embedded plan: nothing serves in the cloud; its cloud side (the bundle store, the
  // fleet's identities, telemetry) is built where the cloud has a managed device registry (AWS IoT
  // Core, Azure IoT Hub: EDGE_CLOUDS); elsewhere nothing is built and nothing priced
  // (EDGE_CLOUD_SIDE_NOT_BUILT)
  if (input.choices["serving.runtime"] === "on-device") {
    const b = new InventoryBuilder(cloud, "");
    if (cloud === "aws") awsEdgeInventory(input, b);
    else if (cloud === "azure") azureEdgeInventory(input, b);
    return {
      cloud,
      region: input.spec.cloud.region,
      zones: 1,
      resources: b.resources,
      excluded: b.excluded,
      vars: b.vars,
      secondaries: [],
    };
  }
  const { regions, failover } = input.spec.availability;
  const active = failover === "active-active";
  // active-active: routing shares the traffic between the regions, each sized for the whole peak;
  // active-passive: the primary serves and the others stand by warm at their minimum
  const share = active ? input.averageQps / regions.length : input.averageQps;
  const multi = buildsRegions(input);
  const primary = regionalStack({ ...input, averageQps: share }, (b) => {
    // what joins the regions lives beside the primary's stack (global/), priced at its rates
    if (multi && cloud === "aws")
      awsGlobalInventory(input, b, regions, b.vars.loadBalancerSubnets !== undefined);
    if (multi && cloud === "gcp") gcpGlobalInventory(input, b, regions);
    if (multi && cloud === "azure") azureGlobalInventory(input, b, regions);
  });
  const secondaries = multi
    ? regions.slice(1).map((region) => {
        const dir = `regions/${region}`;
        const name = regionalName(cloudName(input.spec.metadata.name, 40), region);
        const stack = regionalStack({
          ...input,
          spec: { ...input.spec, cloud: { ...input.spec.cloud, region } },
          prices: regionalPrices(input.prices.table, region),
          averageQps: active ? share : 0,
          secondary: { dir, name },
        });
        return { ...stack, name, dir, role: active ? ("active" as const) : ("standby" as const) };
      })
    : [];
  return { ...primary, secondaries };
}

function regionalStack(
  input: InventoryInput,
  extra: (b: InventoryBuilder) => void = () => {},
): Omit<Inventory, "secondaries"> {
  const cloud = input.spec.cloud.provider as InventoryCloud;
  const b = new InventoryBuilder(cloud, input.secondary?.dir ?? "");
  BUILDERS[cloud](input, b);
  extra(b);
  const f = facts(input);
  // every cloud's serving pool leaves room for pre-production's replicas and a release's surge
  b.vars.preProductionNodes = f.preProductionNodes;
  b.vars.rolloutSurgeNodes = f.rolloutSurgeNodes;
  b.vars.servingExtraNodes = f.preProductionNodes + f.rolloutSurgeNodes;
  // training runs once, wherever the primary's orchestrator runs it
  if (!input.secondary) excludeTraining(input, b);
  return {
    cloud,
    region: input.spec.cloud.region,
    zones: f.zones,
    resources: b.resources,
    excluded: b.excluded,
    vars: b.vars,
  };
}

/**
 * Training runs where the orchestration decision runs it (the retrain workflow only starts it): its
 * compute is estimated beside the cost (the plan sizes it: src/plan/training.ts), not priced as a
 * resource this Terraform builds.
 */
function excludeTraining(input: InventoryInput, b: InventoryBuilder): void {
  const t = input.training;
  if (!t) return;
  b.exclude(
    "Training runs",
    t.runsPerMonth * t.hoursPerRun * t.instances * t.hourlyUsd,
    `training runs on the compute of the orchestrator (${input.choices.orchestration}), which the retrain workflow starts and this Terraform does not build: ${t.runsPerMonth} runs/month x ${t.hoursPerRun} h on ${t.instances > 1 ? `${t.instances} x ` : ""}${t.instance} (${t.basis})`,
  );
}

/** The root block an address renders in: `module.eks.module.x["a"]` -> `module.eks`, `a.b["k"]` -> `a.b`. */
export function blockOf(address: string): string {
  const [first, second] = address.split(".");
  return `${first}.${second.replace(/\[.*$/, "")}`;
}
