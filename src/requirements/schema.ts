/**
 * The requirements spec (stackwright.yaml, v1): the one zod schema that gives the TypeScript types,
 * the defaults, the JSON Schema (`stackwright schema`) and the validation messages. Field names are
 * the product's interface: add fields, never rename them.
 */
import { z } from "zod";
import { COUNT, DAYS, DURATION_MS, HOURS, MINUTES, quantity, SIZE_GB, SIZE_MB } from "./units.js";

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
export const INFERENCE_MODES = ["auto", "realtime", "batch", "streaming", "edge", "embedded"] as const;
/** The device classes inference runs on in edge and embedded modes (rules/devices.yaml has their figures). */
export const EDGE_HARDWARE = ["cpu-x86", "cpu-arm", "jetson", "npu", "browser"] as const;
export const EDGE_CONNECTIVITY = ["always", "intermittent", "offline"] as const;
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
/** How a new version reaches traffic, when the spec states it; auto leaves it to the rules. */
export const DEPLOYMENT_STRATEGIES = ["auto", "canary", "blue-green", "shadow", "rolling"] as const;
/** How the delivery pipeline reaches a private cluster, when the spec states it. */
export const DEPLOYMENT_ACCESS = ["auto", "gitops", "runner-in-network", "public-endpoint"] as const;
/** How the regions of a multi-region plan share traffic. */
export const FAILOVER_MODELS = ["active-passive", "active-active"] as const;
/** Environments a release passes through unless the spec lists its own (the last one is production). */
export const DEFAULT_ENVIRONMENTS = ["staging", "production"] as const;

/**
 * p99 latency assumed when `inference.latencyP99Ms` is left out, per decided serving mode: a realtime
 * endpoint gets a typical interactive budget (200 ms, the budget web APIs commonly hold a request to),
 * a stream consumer a few seconds end to end, and a batch run its deadline (the `deadlineHours`
 * parameter of the batch rule that decided the mode), and inference on a device the 100 ms a machine or
 * an application acts within (a line camera at 10 frames a second). Each is marked `source: default`
 * in the plan.
 */
export const MODE_LATENCY_DEFAULTS_MS = { realtime: 200, streaming: 5000, edge: 100, embedded: 100 } as const;
/** Peak QPS assumed when neither `inference.peakQps` nor `inference.averageQps` is given. */
export const DEFAULT_PEAK_QPS = 10;

/** Region used when `cloud.region` is left out and neither residency nor HIPAA narrows it, per provider. */
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
    contacts: z
      .array(z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "expected an email address (name@example.com)"))
      .max(20)
      .default([])
      .describe(
        "Email addresses that receive budget, cost-anomaly and alert notifications; empty, they reach nobody (a warning).",
      ),
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
    architecture: z
      .string()
      .trim()
      .regex(
        /^[a-z0-9][a-z0-9.-]*$/,
        "expected an architecture name from rules/models.yaml, such as resnet50",
      )
      .nullable()
      .default(null)
      .describe(
        "A known architecture (rules/models.yaml: resnet50, vit-b16, yolov8s, bert-base, llama-3-8b, llama-3-70b, mistral-7b): its published size and compute size the replicas.",
      ),
    gflopsPerRow: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe("Measured or published GFLOP per prediction (one row): overrides the estimate."),
    embeddingParametersMillions: z
      .number()
      .nonnegative()
      .nullable()
      .default(null)
      .describe(
        "Parameters in embedding tables (looked up, not multiplied): they need memory on every replica, not FLOPs.",
      ),
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

const llmSchema = z
  .object({
    contextTokens: z
      .number()
      .int()
      .positive()
      .max(10_000_000)
      .nullable()
      .default(null)
      .describe(
        "Tokens one session holds (prompt and answer); default the architecture's context, at most 4096.",
      ),
    outputTokens: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .default(256)
      .describe("Tokens generated per answer."),
    concurrentSessions: z
      .number()
      .int()
      .positive()
      .max(10_000_000)
      .nullable()
      .default(null)
      .describe("Sessions generating at once at peak; default peak QPS x the p99 budget (Little's law)."),
    ttftMs: positive(DURATION_MS, "ms")
      .nullable()
      .default(null)
      .describe("Longest time to the first token ('800ms')."),
    interTokenMs: positive(DURATION_MS, "ms")
      .nullable()
      .default(null)
      .describe("Longest time between two generated tokens ('40ms')."),
    streaming: z.boolean().default(true).describe("Tokens are streamed to the caller as they are generated."),
  })
  .strict();

const inferenceSchema = z
  .object({
    mode: z.enum(INFERENCE_MODES).default("auto"),
    latencyP99Ms: positive(DURATION_MS, "ms")
      .nullable()
      .default(null)
      .describe(
        "p99 latency SLO in ms (or '0.2s'); for batch, the run deadline ('4h'). Left out, the plan uses the default of the serving mode it decides (see MODE_LATENCY_DEFAULTS_MS).",
      ),
    peakQps: nonNegative(COUNT, "")
      .nullable()
      .default(null)
      .describe(
        "Peak requests per second (or '3k'); left out, derived from averageQps and the traffic pattern, or DEFAULT_PEAK_QPS.",
      ),
    averageQps: nonNegative(COUNT, "")
      .nullable()
      .default(null)
      .describe("Average requests per second; null estimates it from peak and traffic pattern."),
    trafficPattern: z.enum(TRAFFIC_PATTERNS).default("steady"),
    batch: batchSchema.default({ schedule: null, rowsPerRun: null, deadlineHours: null }),
    rowsPerRequest: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .default(1)
      .describe("Rows the model scores per request (a ranker scoring 300 candidates: 300)."),
    grpc: z
      .boolean()
      .default(false)
      .describe(
        "Also serve the Open Inference Protocol over gRPC (inference.GRPCInferenceService), for Triton and KServe clients: a realtime endpoint on Kubernetes.",
      ),
    sequenceTokens: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .nullable()
      .default(null)
      .describe("Tokens per input sequence of a text model (encoders: the padded length; default 128)."),
    imageSize: z
      .number()
      .int()
      .positive()
      .max(16_384)
      .nullable()
      .default(null)
      .describe("Side of the square image a vision model takes, in pixels (default: the architecture's)."),
    llm: llmSchema
      .default({
        contextTokens: null,
        outputTokens: 256,
        concurrentSessions: null,
        ttftMs: null,
        interTokenMs: null,
        streaming: true,
      })
      .describe("An LLM's sessions and latency targets (generation models)."),
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
    min: z
      .number()
      .nullable()
      .default(null)
      .describe("Smallest expected value (numbers); shapes the sample model's reference histogram."),
    max: z.number().nullable().default(null).describe("Largest expected value (numbers)."),
  })
  .strict()
  .refine((f) => f.min === null || f.max === null || f.min < f.max, {
    message: "min must be below max",
    path: ["max"],
  });

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
    multiRegion: z
      .boolean()
      .default(false)
      .describe(
        "Serve from more than one region; with no availability.regions the plan picks a second region within dataResidency.",
      ),
    regions: z
      .array(z.string().trim().min(1).max(64))
      .min(1)
      .max(3)
      .nullable()
      .default(null)
      .describe(
        "Regions to serve from, the primary first (cloud.region, if given, must be the first); two or more make the plan multi-region.",
      ),
    failover: z
      .enum(FAILOVER_MODELS)
      .nullable()
      .default(null)
      .describe(
        "active-passive: the other regions stand by warm and routing fails over on a failed health check; active-active: every region serves, each sized for the whole peak. Left out: active-passive.",
      ),
    rtoMinutes: nonNegative(MINUTES, "min")
      .nullable()
      .default(null)
      .describe("Recovery time objective: the longest a regional outage may stop serving ('15m', '1h')."),
    rpoMinutes: nonNegative(MINUTES, "min")
      .nullable()
      .default(null)
      .describe("Recovery point objective: how much recent data a regional outage may lose ('5m')."),
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
    region: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .nullable()
      .default(null)
      .describe(
        "Region; left out, the plan picks the provider's default region, or one that satisfies dataResidency and HIPAA.",
      ),
  })
  .strict();

const deploymentSchema = z
  .object({
    strategy: z
      .enum(DEPLOYMENT_STRATEGIES)
      .default("auto")
      .describe(
        "How a new version reaches traffic; a stated strategy is honoured by the rules or refused with a reason.",
      ),
    approval: z
      .boolean()
      .default(true)
      .describe(
        "A person approves in GitHub (required reviewers on the production environment) before a release reaches production.",
      ),
    environments: z
      .array(
        z
          .string()
          .trim()
          .regex(
            /^[a-z][a-z0-9-]{0,19}$/,
            "a lowercase name of 1-20 letters, digits or hyphens, starting with a letter",
          ),
      )
      .min(1)
      .max(5)
      .refine((list) => new Set(list).size === list.length, "environment names must be unique")
      .default([...DEFAULT_ENVIRONMENTS])
      .describe("Environments a release passes through, in order; the last one is production."),
    access: z
      .enum(DEPLOYMENT_ACCESS)
      .default("auto")
      .describe(
        "How deploys reach a private cluster: a GitOps controller pulling from the repository, runners inside the network, or a public endpoint restricted to allowed CIDRs.",
      ),
    repository: z
      .string()
      .trim()
      .regex(
        /^https:\/\/[a-z0-9.-]+(:[0-9]+)?\/[A-Za-z0-9._/-]+$/,
        "an https clone URL of the repository (https://github.com/org/repo.git)",
      )
      .nullable()
      .default(null)
      .describe(
        "The platform repository's https clone URL: what a GitOps controller pulls the chart and release values from.",
      ),
  })
  .strict();

const edgeSchema = z
  .object({
    devices: z.number().int().positive().max(10_000_000).describe("Devices that run the model."),
    hardware: z
      .enum(EDGE_HARDWARE)
      .describe(
        "The device class: cpu-x86, cpu-arm, jetson (NVIDIA Jetson, CUDA), npu (an int8 accelerator), browser (WebAssembly).",
      ),
    memoryMb: positive(SIZE_MB, "mb").describe("Memory the model may use on a device ('2gb')."),
    connectivity: z
      .enum(EDGE_CONNECTIVITY)
      .default("intermittent")
      .describe("Whether devices reach the cloud always, now and then, or never (updates by hand)."),
    sites: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .default(1)
      .describe("Sites the devices are spread over."),
  })
  .strict();

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
      architecture: null,
      gflopsPerRow: null,
      embeddingParametersMillions: null,
    }),
    inference: inferenceSchema.default({
      mode: "auto",
      latencyP99Ms: null,
      peakQps: null,
      averageQps: null,
      trafficPattern: "steady",
      batch: { schedule: null, rowsPerRun: null, deadlineHours: null },
      rowsPerRequest: 1,
      grpc: false,
      sequenceTokens: null,
      imageSize: null,
      llm: {
        contextTokens: null,
        outputTokens: 256,
        concurrentSessions: null,
        ttftMs: null,
        interTokenMs: null,
        streaming: true,
      },
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
    availability: availabilitySchema.default({
      targetPercent: 99.5,
      multiRegion: false,
      regions: null,
      failover: null,
      rtoMinutes: null,
      rpoMinutes: null,
    }),
    budget: budgetSchema.default({ monthlyUsd: null, priority: "balanced" }),
    compliance: z.array(z.enum(COMPLIANCE_FRAMEWORKS)).default([]),
    dataResidency: z.enum(DATA_RESIDENCIES).default("any"),
    cloud: cloudSchema.default({ provider: "aws", region: null }),
    team: teamSchema.default({ size: 3, existingTools: [] }),
    edge: edgeSchema
      .nullable()
      .default(null)
      .describe("The devices of an edge or embedded plan (inference.mode: edge or embedded)."),
    deployment: deploymentSchema.default({
      strategy: "auto",
      approval: true,
      environments: [...DEFAULT_ENVIRONMENTS],
      access: "auto",
      repository: null,
    }),
  })
  .strict();

/**
 * A spec after parsing: every quantity in its base unit and every default filled in, except the ones
 * whose default depends on other fields or on the plan (`inference.latencyP99Ms` on the serving mode,
 * `inference.peakQps` on the average, `cloud.region` on residency and HIPAA), which stay null until
 * the plan resolves them (src/plan/defaults.ts).
 */
export type Spec = z.output<typeof specSchema>;
/** A spec with the plan-dependent defaults resolved: what the plan, the generators and the ADRs read. */
export type ResolvedSpec = Omit<Spec, "inference" | "cloud" | "availability"> & {
  inference: Omit<Spec["inference"], "latencyP99Ms" | "peakQps"> & { latencyP99Ms: number; peakQps: number };
  cloud: Omit<Spec["cloud"], "region"> & { region: string };
  /** regions resolved (the primary, cloud.region, first); multiRegion and failover follow from them */
  availability: Omit<Spec["availability"], "regions" | "failover"> & {
    regions: string[];
    failover: FailoverModel | null;
  };
};
export type FailoverModel = (typeof FAILOVER_MODELS)[number];
/** What the rules read while the serving mode is still open: resolved but for the latency, which follows the mode. */
export type ModeInputSpec = Omit<ResolvedSpec, "inference"> & {
  inference: Omit<ResolvedSpec["inference"], "latencyP99Ms"> & { latencyP99Ms: number | null };
};
/** What a user may write: partial, with units. */
export type SpecInput = z.input<typeof specSchema>;
export type UseCaseKind = (typeof USE_CASE_KINDS)[number];
export type ComplianceFramework = (typeof COMPLIANCE_FRAMEWORKS)[number];
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];
export type DataSource = (typeof DATA_SOURCES)[number];
