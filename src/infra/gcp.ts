/** What the gcp Terraform builds (being written). */
import type { InventoryBuilder } from "./build.js";
import type { InventoryInput } from "./types.js";

export const GCP_BILLABLE: readonly string[] = [];

export function gcpInventory(_input: InventoryInput, _b: InventoryBuilder): void {}
