/**
 * The Plan: the only thing generators read. `plan --format json` prints exactly this shape; fields
 * may be added, none renamed. The zod schema is the source of the type and of MCP output schemas.
 */
import { z } from "zod";
import { availabilitySchema } from "./availability.js";

export const CAPABILITIES = [
  "serving.mode",
  "serving.runtime",
  "serving.hardware",
  "serving.batching",
  "serving.caching",
  "serving.optimization",
  "scaling.strategy",
  "deployment.strategy",
  "reliability.fallback",
  "features.store",
  "features.offline",
  "data.ingestion",
  "data.versioning",
  "registry",
  "tracking",
  "orchestration",
  "monitoring.metrics",
  "monitoring.drift",
  "monitoring.performance",
  "retraining.trigger",
  "security.encryption",
  "security.network",
  "security.identity",
  "security.audit",
  "security.secrets",
  // added after the first release: at the end, so the ADR numbers of the others stay
  "deployment.access",
  "deployment.environments",
  "serving.engine",
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const alternativeSchema = z.object({ choice: z.string(), rejectedBecause: z.string() });

export const decisionSchema = z.object({
  capability: z.enum(CAPABILITIES),
  choice: z.string(),
  rule: z.string(),
  because: z.string(),
  inputs: z.array(z.string()),
  alternatives: z.array(alternativeSchema),
  params: z.record(z.string(), z.unknown()),
  /** choices the rules allow an advisor to pick among (a judgement call); absent when rules decide alone */
  openChoices: z.array(z.string()).optional(),
  /** who made the final pick: the rules, or the LLM advisor among `openChoices` (recorded in the lock file) */
  decidedBy: z.enum(["rules", "advisor"]).default("rules"),
});
export type Decision = z.infer<typeof decisionSchema>;

/** Where a control is implemented: a file of the generated tree and a locator inside it. */
export const evidenceSchema = z.object({
  file: z.string(),
  /** a Terraform address, a Kubernetes `Kind/name` (chart files: against the helm render), or a workflow `job` */
  locator: z.string(),
});

export const controlSchema = z.object({
  framework: z.enum(["pci-dss", "hipaa", "gdpr", "soc2"]),
  id: z.string(),
  title: z.string(),
  satisfiedBy: z.array(z.string()),
  /** implemented: every mechanism it relies on is generated (evidence); customer: what the customer must do */
  status: z.enum(["implemented", "customer"]),
  evidence: z.array(evidenceSchema),
  /** for `customer`: what is not generated and what the customer must do */
  customer: z.string().optional(),
});
export type Evidence = z.infer<typeof evidenceSchema>;
export type Control = z.infer<typeof controlSchema>;

export const capacitySchema = z.object({
  replicasMin: z.number().int().nonnegative(),
  replicasMax: z.number().int().nonnegative(),
  hardware: z.enum(["cpu", "gpu"]),
  instanceType: z.string(),
  zones: z.number().int().positive(),
  regions: z.number().int().positive(),
  gpuType: z.string().nullable(),
  gpuMemoryGb: z.number().nullable(),
  perReplicaQps: z.number(),
  targetUtilization: z.number(),
  estimatedFrom: z.string(),
  precision: z.enum(["fp32", "fp16", "fp8", "int8", "int4"]),
  /** present when the per-replica figure is measured (stackwright calibrate), not estimated */
  measured: z
    .object({
      /** the machine, the model file and the date */
      on: z.string(),
      device: z.string(),
      /** the measured batch the replica is sized at */
      batchRows: z.number(),
      p99Ms: z.number(),
      rowsPerSecondPerUnit: z.number(),
      unit: z.enum(["vcpu", "gpu"]),
    })
    .optional(),
  /** an LLM's serving from first principles (src/plan/capacity.ts, sizeLlm) */
  llm: z
    .object({
      /** the GPUs of one replica in one tensor-parallel group */
      tensorParallel: z.number(),
      contextTokens: z.number(),
      outputTokens: z.number(),
      sessionsPerReplica: z.number(),
      ttftMs: z.number(),
      interTokenMs: z.number(),
      weightsGb: z.number(),
      kvCacheGbPerSession: z.number(),
      /** the share of each GPU's memory the engine may take (weights, activations, KV cache) */
      gpuMemoryUtilization: z.number(),
      /** the checkpoint one replica copies and loads, GB (16-bit when FP8 is quantized at load) */
      checkpointGb: z.number(),
    })
    .optional(),
});
export type Capacity = z.infer<typeof capacitySchema>;

/** One priced quantity: a resource's meter at a price-table row. */
export const costLineSchema = z.object({
  resource: z.string(),
  price: z.string(),
  quantity: z.number(),
  unit: z.string(),
  unitUsd: z.number(),
  monthlyUsd: z.number(),
  source: z.string(),
  asOf: z.string(),
  provenance: z.enum(["stored", "recalled"]),
  /** the region whose rate it is */
  region: z.string(),
  /** usage-based quantity: how it was assumed */
  assumption: z.string().optional(),
  discount: z.object({ fraction: z.number(), because: z.string() }).optional(),
});

export const costItemSchema = z.object({
  name: z.string(),
  monthlyUsd: z.number(),
  detail: z.string(),
  source: z.string(),
  /** the Terraform addresses of what it prices (empty on the team's own cluster: see assumption) */
  resources: z.array(z.string()),
  lines: z.array(costLineSchema),
  /** set when any quantity is usage-based or the item is an estimate of something not built here */
  assumption: z.string().optional(),
  /** a secondary region's item: the region whose stack holds its resources (absent: cost.region) */
  region: z.string().optional(),
});
export const costSchema = z.object({
  monthlyUsd: z.number(),
  budgetUsd: z.number().nullable(),
  currency: z.literal("USD"),
  items: z.array(costItemSchema),
  pricesAsOf: z.string(),
  /** the region the rates are for */
  region: z.string(),
  /** what the platform needs that this Terraform does not build: estimated, not in the total */
  excluded: z.array(z.object({ name: z.string(), monthlyUsd: z.number(), reason: z.string() })),
});
export type Cost = z.infer<typeof costSchema>;
export type CostItem = z.infer<typeof costItemSchema>;
export type CostLine = z.infer<typeof costLineSchema>;

const regionalInventoryFields = {
  cloud: z.enum(["aws", "gcp", "azure"]),
  region: z.string(),
  zones: z.number(),
  resources: z.array(
    z.object({
      address: z.string(),
      file: z.string(),
      title: z.string(),
      item: z.string().optional(),
      meters: z.array(
        z.object({
          price: z.string(),
          quantity: z.number(),
          unit: z.string(),
          assumption: z.string().optional(),
          discount: z.object({ fraction: z.number(), because: z.string() }).optional(),
        }),
      ),
      relations: z.array(z.object({ kind: z.string(), target: z.string() })),
      implements: z.array(z.string()),
      attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    }),
  ),
  excluded: z.array(z.object({ name: z.string(), monthlyUsd: z.number(), reason: z.string() })),
  vars: z.record(z.string(), z.unknown()),
};
export const inventorySchema = z.object({
  ...regionalInventoryFields,
  secondaries: z.array(
    z.object({
      ...regionalInventoryFields,
      name: z.string(),
      dir: z.string(),
      role: z.enum(["active", "standby"]),
    }),
  ),
});

const addonChartSchema = z.object({
  repository: z.string(),
  chart: z.string(),
  version: z.string(),
  appVersion: z.string(),
  namespace: z.string(),
  source: z.string(),
});

/** A cluster add-on the chart needs and how it is installed (src/infra/addons.ts). */
export const addonSchema = z.object({
  id: z.string(),
  title: z.string(),
  because: z.string(),
  provides: z.object({
    groups: z.array(z.string()).optional(),
    resources: z.array(z.string()).optional(),
    ingressClasses: z.array(z.string()).optional(),
    services: z.array(z.string()).optional(),
    capabilities: z.array(z.string()).optional(),
  }),
  install: z.discriminatedUnion("via", [
    z.object({ via: z.literal("cloud"), address: z.string(), file: z.string(), how: z.string() }),
    z.object({ via: z.literal("terraform"), address: z.string(), file: z.string(), chart: addonChartSchema }),
    z.object({ via: z.literal("gitops"), file: z.string(), chart: addonChartSchema }),
    z.object({ via: z.literal("customer"), chart: addonChartSchema }),
  ]),
  after: z.array(z.string()).optional(),
});

export const warningSchema = z.object({
  code: z.string(),
  message: z.string(),
  suggestion: z.string().optional(),
  path: z.string().optional(),
  severity: z.enum(["error", "warning"]).default("warning"),
});
export type PlanWarning = z.infer<typeof warningSchema>;

/** A value the user did not give: the schema's default, or one that follows other fields (`because`). */
export const defaultValueSchema = z.object({
  path: z.string(),
  value: z.unknown(),
  source: z.literal("default"),
  because: z.string().optional(),
});
export type DefaultValue = z.infer<typeof defaultValueSchema>;

export const planSchema = z.object({
  spec: z.object({ name: z.string(), hash: z.string() }),
  ruleSet: z.object({ hash: z.string(), version: z.string() }),
  decisions: z.array(decisionSchema),
  controls: z.array(controlSchema),
  capacity: capacitySchema,
  /** a multi-region plan's regions, failover model and recovery objectives (null in one region) */
  availability: availabilitySchema.nullable(),
  cost: costSchema,
  /** the cloud resources the plan builds (null on the team's own cluster): Terraform, cost and evidence read it */
  inventory: inventorySchema.nullable(),
  /** what the chart needs from its cluster beyond the core API, and how each is installed (none off a cluster) */
  addons: z.array(addonSchema),
  warnings: z.array(warningSchema),
  /** every requirement the user did not give, with the value the plan used */
  defaults: z.array(defaultValueSchema),
  /** the resolved spec (all defaults filled in): generators read names, region and features from here */
  requirements: z.record(z.string(), z.unknown()),
});
export type Plan = Omit<z.infer<typeof planSchema>, "requirements" | "inventory" | "addons"> & {
  requirements: import("../requirements/schema.js").ResolvedSpec;
  inventory: import("../infra/index.js").Inventory | null;
  addons: import("../infra/index.js").Addon[];
};
