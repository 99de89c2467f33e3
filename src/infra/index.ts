/**
 * The inventory stage: Plan decisions and sizes -> the cloud resources that implement them
 * (src/infra/types.ts). Below the cost and control code (plan/ reads it) and above the engine.
 */
import { AWS_BILLABLE, awsInventory } from "./aws.js";
import { AZURE_BILLABLE, azureInventory } from "./azure.js";
import { facts, InventoryBuilder } from "./build.js";
import { GCP_BILLABLE, gcpInventory } from "./gcp.js";
import type { Inventory, InventoryCloud, InventoryInput } from "./types.js";

export { PRIVATE_REGISTRY, buildsDeployRunner, needsRunnerInNetwork } from "./delivery.js";
export { ageInDays, type PriceRow, type RegionalPrices, regionalPrices, STALE_PRICES_DAYS, UnknownPriceError } from "./prices.js";
export type * from "./types.js";
export { HOURS_PER_MONTH, runsPerMonth } from "./usage.js";

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
  const b = new InventoryBuilder(cloud);
  BUILDERS[cloud](input, b);
  return {
    cloud,
    region: input.spec.cloud.region,
    zones: facts(input).zones,
    resources: b.resources,
    excluded: b.excluded,
    vars: b.vars,
  };
}

/** The root block an address renders in: `module.eks.module.x["a"]` -> `module.eks`, `a.b["k"]` -> `a.b`. */
export function blockOf(address: string): string {
  const [first, second] = address.split(".");
  return `${first}.${second.replace(/\[.*$/, "")}`;
}
