/**
 * The requirements spec (stackwright.yaml, v1): the one zod schema that gives the TypeScript types,
 * the defaults, the JSON Schema (`stackwright schema`) and the validation messages. Field names are
 * the product's interface: add fields, never rename them.
 */
import { z } from "zod";
import { COUNT, DAYS, DURATION_MS, HOURS, quantity, SIZE_GB, SIZE_MB } from "./units.js";

// zod's JIT compiles a fast path per object schema with `new Function` on first use: that costs more
// than it saves for a CLI that parses one spec per process, and it needs eval.
z.config({ jitless: true });

export const SPEC_API_VERSION = "stackwright.dev/v1";
export const SPEC_KIND = "Requirements";

export const USE_CASE_KINDS = [
  "tabular-classification",
  "tabular-regression",
  "forecasting",
  "recommendation",
  "computer-vision",
  "nlp-classification",
  "llm-generation",
  "anomaly-detection",
  "embedding-search",
] as const;
export const FRAMEWORKS = [
  "sklearn",
  "xgboost",
  "lightgbm",
  "pytorch",
  "tensorflow",
  "huggingface",
  "onnx",
] as const;
export const MODEL_FORMATS = ["onnx", "pickle", "savedmodel", "torchscript", "safetensors", "gguf"] as const;
export const INFERENCE_MODES = ["auto", "realtime", "batch", "streaming"] as const;
export const TRAFFIC_PATTERNS = ["steady", "diurnal", "spiky", "scheduled"] as const;
export const DATA_SOURCES = [
  "kafka",
  "kinesis",
  "pubsub",
  "eventhubs",
  "s3",
  "gcs",
  "blob",
  "postgres",
  "mysql",
  "bigquery",
  "snowflake",
  "redshift",
  "databricks",
  "api",
] as const;
/** Sources that are event logs: what streaming ingestion and streaming serving read from. */
export const EVENT_LOG_SOURCES = ["kafka", "kinesis", "pubsub", "eventhubs"] as const;
export const FRESHNESS = ["realtime", "minutes", "hours", "daily"] as const;
export const TRAINING_CADENCES = ["daily", "weekly", "monthly", "on-drift"] as const;
export const BUDGET_PRIORITIES = ["cost", "balanced", "performance"] as const;
export const COMPLIANCE_FRAMEWORKS = ["pci-dss", "hipaa", "gdpr", "soc2"] as const;
export const DATA_RESIDENCIES = ["any", "eu", "us"] as const;
export const CLOUD_PROVIDERS = ["aws", "gcp", "azure", "kubernetes"] as const;
export const FEATURE_TYPES = ["float", "int", "bool", "string"] as const;

/** Region used when `cloud.region` is left out, per provider. */
export const DEFAULT_REGIONS: Readonly<Record<(typeof CLOUD_PROVIDERS)[number], string>> = {
  aws: "us-east-1",
  gcp: "us-central1",
  azure: "eastus",
  kubernetes: "default",
};

const positive = (units: Parameters<typeof quantity>[0], base: string) =>
  quantity(units, base).pipe(z.number().positive());
const nonNegative = (units: Parameters<typeof quantity>[0], base: string) =>
  quantity(units, base).pipe(z.number().nonnegative());

const metadataSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, "a name is required: it names every generated resource")
      .max(200)
      .describe("Workload name; normalized per target (k8s DNS-1123, cloud name limits)."),
    owner: z.string().max(200).default("").describe("Team or person that owns the workload."),
  })
  .strict();

const useCaseSchema = z
  .object({
    kind: z.enum(USE_CASE_KINDS).default("tabular-classification"),
    description: z.string().max(4000).default(""),
  })
  .strict();

const modelSchema = z
  .object({
    framework: z.enum(FRAMEWORKS).default("sklearn"),
    format: z.enum(MODEL_FORMATS).default("onnx"),
    sizeMb: positive(SIZE_MB, "mb").default(50).describe("Serialized model size in MB (or '1.5GB')."),
    parametersMillions: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe("Parameter count in millions; null when not a neural network or unknown."),
    gpu: z
      .union([z.literal("auto"), z.boolean()])
      .default("auto")
      .describe("auto lets the capacity model decide from size, parameters and latency."),
  })
  .strict();

const batchSchema = z
  .object({
    schedule: z
      .string()
      .trim()
      .regex(/^(@(hourly|daily|weekly|monthly))$|^(\S+\s+){4}\S+$/, {
        message: 'expected a 5-field cron expression ("0 2 * * 1") or @hourly|@daily|@weekly|@monthly',
      })
      .nullable()
      .default(null),
    rowsPerRun: nonNegative(COUNT, "").nullable().default(null),
    deadlineHours: positive(HOURS, "h").nullable().default(null),
  })
  .strict();

const inferenceSchema = z
  .object({
    mode: z.enum(INFERENCE_MODES).default("auto"),
    latencyP99Ms: positive(DURATION_MS, "ms").default(200).describe("p99 latency SLO in ms (or '0.2s')."),
    peakQps: nonNegative(COUNT, "").default(10).describe("Peak requests per second (or '3k')."),
    averageQps: nonNegative(COUNT, "")
      .nullable()
      .default(null)
      .describe("Average requests per second; null estimates it from peak and traffic pattern."),
    trafficPattern: z.enum(TRAFFIC_PATTERNS).default("steady"),
    batch: batchSchema.default({ schedule: null, rowsPerRun: null, deadlineHours: null }),
  })
  .strict();

const dataSchema = z
  .object({
    volumeGbPerDay: nonNegative(SIZE_GB, "gb").default(1),
    sources: z.array(z.enum(DATA_SOURCES)).default([]),
    featureFreshness: z.enum(FRESHNESS).default("daily"),
    labelDelayDays: nonNegative(DAYS, "d").default(7),
    containsPii: z.boolean().default(false),
  })
  .strict();

const featureFieldSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    type: z.enum(FEATURE_TYPES).default("float"),
    description: z.string().max(1000).default(""),
  })
  .strict();

const featuresSchema = z
  .object({
    entityKey: z
      .string()
      .trim()
      .min(1)
      .max(120)
      .default("id")
      .describe("Key the online store is looked up by."),
    fields: z
      .array(featureFieldSchema)
      .max(4096)
      .default([])
      .describe("Model input features in input order; empty lets stackwright declare f0..f7."),
  })
  .strict();

const trainingSchema = z
  .object({
    cadence: z.enum(TRAINING_CADENCES).default("weekly"),
    gpu: z.boolean().default(false),
    datasetGb: nonNegative(SIZE_GB, "gb").default(10),
  })
  .strict();

const availabilitySchema = z
  .object({
    targetPercent: z.number().min(90).max(99.999).default(99.5),
    multiRegion: z.boolean().default(false),
  })
  .strict();

const budgetSchema = z
  .object({
    monthlyUsd: nonNegative(COUNT, "")
      .nullable()
      .default(null)
      .describe("Monthly budget in USD; null for none."),
    priority: z.enum(BUDGET_PRIORITIES).default("balanced"),
  })
  .strict();

const cloudSchema = z
  .object({
    provider: z.enum(CLOUD_PROVIDERS).default("aws"),
    region: z.string().trim().min(1).max(64).nullable().default(null),
  })
  .strict()
  .transform((cloud) => ({
    provider: cloud.provider,
    region: cloud.region ?? DEFAULT_REGIONS[cloud.provider],
  }));

const teamSchema = z
  .object({
    size: z.number().int().positive().max(10_000).default(3),
    existingTools: z.array(z.string().trim().min(1).max(60)).default([]),
  })
  .strict();

export const specSchema = z
  .object({
    apiVersion: z.literal(SPEC_API_VERSION).default(SPEC_API_VERSION),
    kind: z.literal(SPEC_KIND).default(SPEC_KIND),
    metadata: metadataSchema,
    useCase: useCaseSchema.default({ kind: "tabular-classification", description: "" }),
    model: modelSchema.default({
      framework: "sklearn",
      format: "onnx",
      sizeMb: 50,
      parametersMillions: null,
      gpu: "auto",
    }),
    inference: inferenceSchema.default({
      mode: "auto",
      latencyP99Ms: 200,
      peakQps: 10,
      averageQps: null,
      trafficPattern: "steady",
      batch: { schedule: null, rowsPerRun: null, deadlineHours: null },
    }),
    data: dataSchema.default({
      volumeGbPerDay: 1,
      sources: [],
      featureFreshness: "daily",
      labelDelayDays: 7,
      containsPii: false,
    }),
    features: featuresSchema.default({ entityKey: "id", fields: [] }),
    training: trainingSchema.default({ cadence: "weekly", gpu: false, datasetGb: 10 }),
    availability: availabilitySchema.default({ targetPercent: 99.5, multiRegion: false }),
    budget: budgetSchema.default({ monthlyUsd: null, priority: "balanced" }),
    compliance: z.array(z.enum(COMPLIANCE_FRAMEWORKS)).default([]),
    dataResidency: z.enum(DATA_RESIDENCIES).default("any"),
    cloud: cloudSchema.default({ provider: "aws", region: DEFAULT_REGIONS.aws }),
    team: teamSchema.default({ size: 3, existingTools: [] }),
  })
  .strict();

/** A spec after parsing: every default filled in, every quantity in its base unit. */
export type Spec = z.output<typeof specSchema>;
/** What a user may write: partial, with units. */
export type SpecInput = z.input<typeof specSchema>;
export type UseCaseKind = (typeof USE_CASE_KINDS)[number];
export type ComplianceFramework = (typeof COMPLIANCE_FRAMEWORKS)[number];
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];
export type DataSource = (typeof DATA_SOURCES)[number];
