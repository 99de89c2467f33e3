/** Schemas of the rule files in rules/: checked at load, so a bad rule file fails fast with its path. */
import { z } from "zod";
import { EDGE_HARDWARE } from "../requirements/schema.js";

/**
 * What implements a control, as the control catalogs name it (`needs`). Each is found as evidence in
 * the generated tree: Terraform resources of the inventory, objects of the chart, workflow jobs
 * (src/plan/evidence.ts); a control whose mechanism is not generated is the customer's.
 */
export const MECHANISMS = [
  "private-network",
  "network-policy",
  "waf-attached",
  "tls-in-transit",
  "mtls",
  "encryption-at-rest",
  "customer-managed-key",
  "audit-trail",
  "immutable-audit-trail",
  "workload-identity",
  "deploy-identity",
  "secret-store",
  "external-secrets",
  "vault",
  "versioned-data",
  "data-retention",
  "erasure",
  "alert-rules",
  "change-approval",
  "budget-alerts",
] as const;
export type MechanismName = (typeof MECHANISMS)[number];

/**
 * Service prices every cloud's table must have (the cost model's common meters); a table may add
 * meters of its own cloud (the inventory names them: src/infra/).
 */
export const SERVICE_PRICE_KEYS = [
  "clusterFeeHourly",
  "natGatewayHourly",
  "natGatewayPerGb",
  "loadBalancerHourly",
  "loadBalancerCapacityUnitHourly",
  "objectStoragePerGbMonth",
  "onlineStoreNodeHourly",
  "logIngestPerGb",
  "serverlessVcpuHourly",
  "serverlessGbHourly",
  "kmsKeyMonthly",
  "auditLogPerGbMonth",
  "spotDiscount",
] as const;

/**
 * The rule-file schemas, built on first use: a cold start that loads the build's rules snapshot never
 * constructs them.
 */
function build() {
  const API_VERSION = z.literal("stackwright.dev/v1");
  /** "capability=choice" or "capability=a|b" */
  const patternRef = z
    .string()
    .regex(/^[a-z.]+=[a-z0-9-]+(\|[a-z0-9-]+)*$/, "expected capability=choice[|choice]");

  const patternSchema = z
    .object({
      title: z.string().min(1),
      description: z.string().min(1),
      requires: z.array(patternRef).default([]),
      excludes: z.array(patternRef).default([]),
    })
    .strict();

  const patternCatalogSchema = z
    .object({
      apiVersion: API_VERSION,
      kind: z.literal("PatternCatalog"),
      capabilities: z.record(
        z.string(),
        z.object({ title: z.string().min(1), patterns: z.record(z.string(), patternSchema) }).strict(),
      ),
    })
    .strict();

  /** A spec fragment merged onto a minimal spec: a case the rule must win (match) or must not (nearMiss). */
  const ruleExampleSchema = z.record(z.string(), z.unknown());

  const ruleSchema = z
    .object({
      id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "rule ids are kebab-case"),
      capability: z.string(),
      description: z.string().min(1),
      priority: z.number().int().min(0).max(1000),
      /** condition in the expression language; absent = the capability's default rule */
      when: z.string().optional(),
      choice: z.string(),
      because: z.string().min(1),
      inputs: z.array(z.string()).default([]),
      alternatives: z
        .array(z.object({ choice: z.string(), rejectedBecause: z.string().min(1) }).strict())
        .default([]),
      /** a judgement call: the advisor may pick any of these (the rule's choice among them) */
      openChoices: z.array(z.string()).optional(),
      /** parameter values; strings starting with "=" are expressions */
      params: z.record(z.string(), z.unknown()).default({}),
      examples: z
        .object({ match: z.array(ruleExampleSchema).min(1), nearMiss: z.array(ruleExampleSchema).min(1) })
        .strict(),
    })
    .strict();

  const ruleFileSchema = z
    .object({ apiVersion: API_VERSION, kind: z.literal("DecisionRules"), rules: z.array(ruleSchema).min(1) })
    .strict();

  const controlFileSchema = z
    .object({
      apiVersion: API_VERSION,
      kind: z.literal("ControlCatalog"),
      framework: z.enum(["pci-dss", "hipaa", "gdpr", "soc2"]),
      title: z.string(),
      reference: z.string(),
      controls: z
        .array(
          z
            .object({
              id: z.string().min(1),
              title: z.string().min(1),
              /** decisions that satisfy the control: "capability" (any choice but none) or "capability=a|b" */
              satisfiedBy: z.array(z.string().regex(/^[a-z.]+(=[a-z0-9-]+(\|[a-z0-9-]+)*)?$/)).min(1),
              /** the control is in scope only when this decision holds ("capability=a|b"), e.g. public endpoints */
              appliesWhen: patternRef.optional(),
              /** the mechanisms that implement it, each found in the generated tree or the customer's */
              needs: z.array(z.enum(MECHANISMS)).min(1),
              /** what the customer must do where a mechanism is not generated */
              customer: z.string().min(1),
            })
            .strict(),
        )
        .min(1),
    })
    .strict();

  /** stored: copied from the cited source on asOf; recalled: from memory of that page, to re-check */
  const provenance = z.enum(["stored", "recalled"]);
  const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
  const priced = z
    .object({
      usd: z.number().nonnegative(),
      unit: z.string(),
      /** the official pricing page */
      source: z.string().min(1),
      provenance: provenance.optional(),
      /** for a stored row: the page the rate was copied from on asOf (it states the rate) */
      copiedFrom: z.string().url().optional(),
      asOf: date.optional(),
      /** the same rate whatever region the plan is in (a global service such as Azure Front Door) */
      global: z.boolean().optional(),
    })
    .strict()
    .refine((row) => row.provenance !== "stored" || (row.copiedFrom && row.asOf), {
      message: "a stored row names the page it was copied from (copiedFrom) and the date (asOf)",
    });
  /** a region's own rate of a row of the base table: the number, or the number with its own source */
  const regionalRate = z.union([
    z.number().nonnegative(),
    z
      .object({
        usd: z.number().nonnegative(),
        source: z.string().min(1).optional(),
        provenance: provenance.optional(),
        asOf: date.optional(),
      })
      .strict(),
  ]);

  const instanceSchema = z
    .object({
      name: z.string(),
      vcpu: z.number().positive(),
      memoryGb: z.number().positive(),
      hourlyUsd: z.number().positive(),
      source: z.string().min(1),
      provenance: provenance.optional(),
      asOf: date.optional(),
    })
    .strict();

  const gpuRowSchema = instanceSchema
    .extend({
      /** the cloud's accelerator name */
      gpu: z.string(),
      gpuCount: z.number().int().positive(),
      /** a GPU in rules/models.yaml `gpus` */
      gpuModel: z.string(),
    })
    .strict();

  /**
   * A managed model endpoint's hourly rate (SageMaker real-time inference, a Vertex AI prediction
   * node) for an instance type of the table, which the capacity model sizes on: `instance` names the
   * cpu or gpu row it mirrors; `machineType` is what the hosting service is asked for when it differs
   * from `name` (Vertex AI: the machine type, its accelerator from the mirrored GPU row).
   */
  const managedEndpointRowSchema = z
    .object({
      name: z.string(),
      instance: z.string(),
      machineType: z.string().optional(),
      hourlyUsd: z.number().positive(),
      source: z.string().min(1),
      provenance: provenance.optional(),
      copiedFrom: z.string().url().optional(),
      asOf: date.optional(),
    })
    .strict();

  const priceTableSchema = z
    .object({
      apiVersion: API_VERSION,
      kind: z.literal("PriceTable"),
      cloud: z.enum(["aws", "gcp", "azure", "kubernetes"]),
      region: z.string(),
      pricesAsOf: date,
      /** how the rows were obtained unless a row says otherwise */
      provenance,
      currency: z.literal("USD"),
      note: z.string().optional(),
      cpuInstances: z.array(instanceSchema).min(1),
      // a GPU row names the cloud's accelerator (what its Terraform asks for) and the GPU model in
      // rules/models.yaml whose sourced figures the capacity model reads (filled in by the loader)
      gpuInstances: z.array(gpuRowSchema).min(1),
      managedEndpointInstances: z.array(managedEndpointRowSchema).default([]),
      systemInstance: z.string(),
      onlineStoreNode: z.string(),
      services: z
        .object(
          Object.fromEntries(SERVICE_PRICE_KEYS.map((key) => [key, priced])) as Record<
            (typeof SERVICE_PRICE_KEYS)[number],
            typeof priced
          >,
        )
        .catchall(priced),
      /**
       * Other regions' rates, row by row (services and instances by name), each region with the date
       * and provenance of its rows; a row a region does not list is priced at the base region's rate
       * and the plan says so.
       */
      regions: z
        .record(
          z.string(),
          z
            .object({
              pricesAsOf: date,
              provenance,
              source: z.string().min(1).optional(),
              services: z.record(z.string(), regionalRate).default({}),
              instances: z.record(z.string(), regionalRate).default({}),
            })
            .strict(),
        )
        .default({}),
    })
    .strict();

  /** rules/models.yaml: architectures by name, with the figures the capacity model derives compute from */
  const architectureSchema = z
    .object({
      family: z.enum(["vision", "encoder", "llm"]),
      title: z.string().min(1),
      parametersMillions: z.number().positive(),
      /** parameters looked up rather than multiplied (embedding tables): memory, not FLOPs */
      embeddingParametersMillions: z.number().nonnegative().optional(),
      /** vision: multiply-accumulates per image at imageSize x imageSize */
      gmacs: z.number().positive().optional(),
      imageSize: z.number().int().positive().optional(),
      /** transformers */
      layers: z.number().int().positive().optional(),
      hiddenSize: z.number().int().positive().optional(),
      heads: z.number().int().positive().optional(),
      kvHeads: z.number().int().positive().optional(),
      contextTokens: z.number().int().positive().optional(),
      source: z.string().url(),
      basis: z.string().min(1),
    })
    .strict()
    .superRefine((a, ctx) => {
      const needs: Record<string, Array<keyof typeof a>> = {
        vision: ["gmacs", "imageSize"],
        encoder: ["layers", "hiddenSize", "heads"],
        llm: ["layers", "hiddenSize", "heads", "kvHeads", "contextTokens"],
      };
      for (const key of needs[a.family])
        if (a[key] === undefined)
          ctx.addIssue({ code: "custom", path: [key], message: `a ${a.family} architecture needs ${key}` });
    });
  const sourced = z
    .object({ value: z.number().positive(), source: z.string().url(), basis: z.string().min(1) })
    .strict();
  /** one GPU model's figures, from its datasheet: what every price row with that GPU is sized from */
  const gpuSchema = z
    .object({
      title: z.string().min(1),
      memoryGb: z.number().positive(),
      /** dense FP16 tensor TFLOPS (no sparsity) */
      fp16Tflops: z.number().positive(),
      /** dense FP8 tensor TFLOPS, on GPUs that have FP8 tensor cores (Ada, Hopper) */
      fp8Tflops: z.number().positive().optional(),
      bandwidthGbps: z.number().positive(),
      source: z.string().url(),
      basis: z.string().min(1),
    })
    .strict();
  /** one edge device class's figures (edge.hardware), each with its source */
  const deviceSchema = z
    .object({
      title: z.string().min(1),
      /** effective FP32 GFLOP/s of ONNX Runtime on the device */
      gflops: z.number().positive(),
      /** the accelerator the serving core can use there */
      accelerator: z.enum(["none", "cuda"]),
      /** whether gflops comes from a measured model (else it is estimated) */
      measured: z.boolean(),
      source: z.string().url(),
      basis: z.string().min(1),
    })
    .strict();
  const modelCatalogSchema = z
    .object({
      apiVersion: API_VERSION,
      kind: z.literal("ModelCatalog"),
      architectures: z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/), architectureSchema),
      /** GPU models the price tables' rows name (gpuModel) */
      gpus: z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/), gpuSchema),
      /** the device classes of edge and embedded plans */
      devices: z.object(
        Object.fromEntries(EDGE_HARDWARE.map((h) => [h, deviceSchema])) as Record<
          (typeof EDGE_HARDWARE)[number],
          typeof deviceSchema
        >,
      ),
      /** the serving core's own memory on a device, measured (bench/edge/memory-bench.js) */
      deviceRuntime: z
        .object({
          baseMb: z.number().positive(),
          mbPerModelMb: z.number().positive(),
          benchmark: z.string().min(1),
          basis: z.string().min(1),
        })
        .strict(),
      /** what an LLM's serving is sized from, each figure with its source */
      serving: z
        .object({
          decodeBandwidthEfficiency: sourced,
          prefillUtilization: sourced,
          gpuMemoryUtilization: sourced,
          maxSequences: sourced,
          kvCacheBytes: sourced,
        })
        .strict(),
      /** what a training run is sized from */
      training: z
        .object({ utilization: sourced, bytesPerTrainedParameter: sourced, bytesPerToken: sourced })
        .strict(),
    })
    .strict();

  const regionFileSchema = z
    .object({
      apiVersion: API_VERSION,
      kind: z.literal("Regions"),
      clouds: z.record(
        z.string(),
        z.record(
          z.string(),
          z
            .object({
              jurisdiction: z.enum(["us", "eu", "uk", "ch", "other"]),
              hipaaEligible: z.boolean(),
              note: z.string().optional(),
              /** the second region a multi-region plan picks when the spec names none */
              failoverTo: z.string().optional(),
              /** Google Cloud: the multi-region location whose configurable dual-regions include it */
              dualRegion: z.enum(["US", "EU", "ASIA"]).optional(),
            })
            .strict(),
        ),
      ),
      /** what a regional failover loses and how long it takes, per cloud (figures with their sources) */
      multiRegion: z.record(
        z.string(),
        z
          .object({
            routing: z
              .object({
                mechanism: z.string(),
                detectMinutes: z.number().nonnegative(),
                switchMinutes: z.number().nonnegative(),
                basis: z.string(),
                source: z.string().url(),
              })
              .strict(),
            stores: z.record(
              z.enum(["online-store", "data-bucket"]),
              z
                .object({
                  mechanism: z.string(),
                  rpoMinutes: z.number().nonnegative().optional(),
                  perRegion: z.boolean().optional(),
                  basis: z.string().optional(),
                  source: z.string().url(),
                })
                .strict()
                .refine((s) => (s.rpoMinutes === undefined) === (s.perRegion === true), {
                  message: "a store has either rpoMinutes (replicated) or perRegion: true",
                }),
            ),
          })
          .strict(),
      ),
    })
    .strict();
  return {
    patternSchema,
    patternCatalogSchema,
    ruleSchema,
    ruleFileSchema,
    controlFileSchema,
    instanceSchema,
    priceTableSchema,
    regionFileSchema,
    modelCatalogSchema,
  };
}

let built: ReturnType<typeof build> | undefined;
export function ruleFileSchemas(): ReturnType<typeof build> {
  built ??= build();
  return built;
}

type Schemas = ReturnType<typeof build>;
export type PatternCatalog = z.infer<Schemas["patternCatalogSchema"]>;
export type RuleDefinition = z.infer<Schemas["ruleSchema"]>;
export type ControlCatalog = z.infer<Schemas["controlFileSchema"]>;
export type InstancePrice = z.infer<Schemas["instanceSchema"]>;
/** A price table as its file holds it (GPU rows name their model). */
export type PriceTableFile = z.infer<Schemas["priceTableSchema"]>;
/** A GPU row with its model's figures from rules/models.yaml filled in by the loader. */
export type GpuInstancePrice = PriceTableFile["gpuInstances"][number] & {
  gpuMemoryGb: number;
  /** dense FP16 tensor TFLOPS per GPU */
  gpuTflops: number;
  /** dense FP8 tensor TFLOPS per GPU, where it has FP8 tensor cores */
  gpuFp8Tflops?: number;
  gpuBandwidthGbps: number;
};
/** A price table as the rule set holds it: GPU rows carry their model's figures. */
export type PriceTable = Omit<PriceTableFile, "gpuInstances"> & { gpuInstances: GpuInstancePrice[] };
export type RegionCatalog = z.infer<Schemas["regionFileSchema"]>;
export type ModelCatalog = z.infer<Schemas["modelCatalogSchema"]>;
export type Architecture = ModelCatalog["architectures"][string];
