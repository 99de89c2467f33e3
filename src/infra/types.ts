/**
 * The inventory: the cloud resources a plan needs, each with the Terraform address and file it is
 * rendered to, what it costs (meters against the price table) and how it relates to the others
 * (which key encrypts it, what fronts or protects it, which identity it grants). The Terraform
 * generators render from it (which files exist and the quantities they build), the cost model prices
 * it, the control matrix cites it as evidence and the diagram draws it. Pure: no disk, no clock.
 */
import type { MechanismName } from "../engine/index.js";
import type { ResolvedSpec } from "../requirements/index.js";

export type InventoryCloud = "aws" | "gcp" | "azure";

/** A mechanism a resource implements, cited as evidence by the controls that rely on it. */
export type Mechanism =
  | Extract<
      MechanismName,
      | "private-network"
      | "network-policy"
      | "waf-attached"
      | "tls-in-transit"
      | "encryption-at-rest"
      | "customer-managed-key"
      | "audit-trail"
      | "immutable-audit-trail"
      | "workload-identity"
      | "deploy-identity"
      | "secret-store"
      | "versioned-data"
      | "data-retention"
      | "budget-alerts"
      | "alert-rules"
    >
  // what the diagram and readers see, not a control's need: a WAF built (attached or not), NAT, flow logs
  | "waf"
  | "egress-nat"
  | "flow-logs"
  | "model-registry";

export interface Relation {
  kind: "encrypts" | "protects" | "fronts" | "runs" | "reads" | "writes" | "pulls-from" | "grants";
  /** the address of the other resource */
  target: string;
}

/** One priced quantity of a resource: price-table row x monthly quantity. */
export interface Meter {
  /** a key of the price table's services, or `instance:<name>` for an instance-hour */
  price: string;
  quantity: number;
  /** what the quantity counts ("gateway-hours", "GB-month") */
  unit: string;
  /** usage-based quantities are assumptions: how the number was reached, and its basis */
  assumption?: string;
  /** a fraction taken off the row's price (spot), with why */
  discount?: { fraction: number; because: string };
}

export interface Resource {
  /** Terraform address: `aws_kms_key.main`, `module.eks.module.eks_managed_node_group["serving"]` */
  address: string;
  /** the generated file that holds its root block: `infra/terraform/aws/kms.tf` */
  file: string;
  /** a short human name for tables and the diagram */
  title: string;
  /** the cost item that prices it (resources with meters only) */
  item?: string;
  meters: Meter[];
  relations: Relation[];
  implements: Mechanism[];
  /** what the Terraform builds with it (counts, sizes, flags the templates read) */
  attributes: Record<string, string | number | boolean>;
}

/**
 * What a plan costs that this Terraform does not build: shown beside the cost with an estimate, never
 * counted in the total, each with who provides it.
 */
export interface Excluded {
  name: string;
  monthlyUsd: number;
  reason: string;
}

export interface Inventory {
  cloud: InventoryCloud;
  region: string;
  zones: number;
  resources: Resource[];
  excluded: Excluded[];
  /** the quantities and flags the Terraform templates render from (NAT gateways, node counts, ...) */
  vars: Record<string, TemplateValue>;
  /**
   * the other regions of a multi-region plan: each the same stack under its own names, in
   * infra/terraform/<cloud>/regions/<region>/, priced at its region's rates (empty in one region)
   */
  secondaries: RegionalInventory[];
}

/** A secondary region's stack: its resources (files under its own directory) and what names it. */
export interface RegionalInventory extends Omit<Inventory, "secondaries"> {
  /** the workload name its resources are named after (the spec's, suffixed with the region) */
  name: string;
  /** its directory under infra/terraform/<cloud>/ */
  dir: string;
  /** what it runs: the full peak (active-active) or a warm standby at the minimum (active-passive) */
  role: "active" | "standby";
}

/** What a template reads from the inventory: scalars, lists of records (the key grants), records by id (the add-on charts). */
export type TemplateValue =
  | string
  | number
  | boolean
  | Array<Record<string, string | number | boolean | string[] | Array<Record<string, string | string[]>>>>
  | Record<string, Record<string, string | number | boolean | string[]>>;

/**
 * Who must be allowed to use a customer-managed key for the resources it encrypts: the grant the
 * Terraform renders (a key-policy statement on AWS, an IAM member on GCP, a role assignment on Azure),
 * named by `id`, with the addresses of the resources it serves. Every `encrypts` relation of a key
 * has a grant; the inventory test fails on a dangling one.
 */
export interface KeyGrant {
  id: string;
  /** the principal, as the template renders it */
  principal: string;
  /** the role granted, where the cloud grants by role (Azure) */
  role?: string;
  /** the encrypted resources this grant serves */
  targets: string[];
  /** the key it grants, where a stack has more than one (its address) */
  key?: string;
}

/** The capacity the inventory builds (the plan's capacity, structurally: infra sits below plan/). */
/** The serving.engine choices that run an LLM engine in the chart (rules/patterns.yaml). */
export const LLM_ENGINES = ["vllm", "tgi"] as const;
export type LlmEngineId = (typeof LLM_ENGINES)[number];

/** Whether the plan's serving.engine is an LLM engine. */
export function runsLlmEngine(choices: Record<string, string>): boolean {
  return (LLM_ENGINES as readonly string[]).includes(choices["serving.engine"] ?? "");
}

export interface InventoryCapacity {
  replicasMin: number;
  replicasMax: number;
  hardware: "cpu" | "gpu";
  instanceType: string;
  zones: number;
  regions: number;
  perReplicaQps: number;
  targetUtilization: number;
  /** an LLM's sizing: the checkpoint each serving node holds when an LLM engine serves it */
  llm?: { checkpointGb: number };
  /** the weights' precision (an on-device plan may serve int8 where FP32 does not fit the device) */
  precision?: string;
}

/**
 * A training run as the plan sizes it (src/plan/training.ts): on what, how long, how often. The
 * Terraform does not build its compute (the orchestrator runs it): the cost shows it apart.
 */
export interface InventoryTraining {
  instance: string;
  hourlyUsd: number;
  /** instances one run spans (sharded when the model's training state exceeds one) */
  instances: number;
  hoursPerRun: number;
  runsPerMonth: number;
  basis: string;
}

export interface InventoryInput {
  spec: ResolvedSpec;
  choices: Record<string, string>;
  capacity: InventoryCapacity;
  prices: import("./prices.js").RegionalPrices;
  averageQps: number;
  /** rows per second one batch replica scores (run duration) */
  batchRowsPerSecond: number;
  /** cost candidates: what the budget search may change */
  spotForBatch: boolean;
  singleNatGateway: boolean;
  /** the training runs the plan sizes (estimated apart: the orchestrator's compute) */
  training?: InventoryTraining;
  /**
   * Google Cloud: the multi-region location whose configurable dual-regions hold the primary region
   * (rules/regions.yaml): where a multi-region plan's data bucket and image repository live
   */
  dualRegion?: string | null;
  /**
   * a secondary region's stack (multi-region): the same Terraform without what one account needs once
   * (the multi-region audit trail, the account's budget), rendered into infra/terraform/<cloud>/<dir>
   */
  secondary?: { dir: string; name: string };
}
