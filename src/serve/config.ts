/**
 * serve.yaml: what `stackwright serve --config` reads and what the generators emit from a Plan
 * (src/generate/platform/serve-config.ts). Command-line flags override it.
 */
import { z } from "zod";
import { FEATURE_TYPES } from "../requirements/schema.js";

export const DEVICES = ["auto", "cpu", "webgpu", "cuda"] as const;

/**
 * Where a model version's batches run (src/serve/execution.ts): auto measures a full batch on the
 * event loop against a worker round trip when the version loads.
 */
export const PLACEMENTS = ["auto", "event-loop", "workers"] as const;

/** Feature types: the spec's own list (features.fields[].type). */
export const FEATURE_KINDS = FEATURE_TYPES;

/**
 * serve.yaml. Every field changes what the server does; a field it would ignore is refused (strict).
 * Model paths and the feature file are relative to the file itself, so the same document works
 * wherever the directory holding it lands (the out directory, the image, the chart's mount).
 */
export const serveConfigSchema = z
  .object({
    models: z
      .array(
        z
          .object({
            name: z.string().min(1).describe("the name requests use (model_id, /v2/models/{name})"),
            path: z
              .string()
              .min(1)
              .describe("the model's directory of versions (<path>/<version>/model.onnx)"),
          })
          .strict(),
      )
      .default([]),
    device: z.enum(DEVICES).default("auto"),
    workers: z.number().int().min(1).max(64).optional(),
    placement: z
      .enum(PLACEMENTS)
      .default("auto")
      .describe("where batches run: measured per model version (auto), the event loop, or worker threads"),
    batching: z
      .object({
        enabled: z.boolean().default(true),
        maxBatchSize: z.number().int().min(1).max(65536).default(32),
        maxQueueDelayMs: z.number().min(0).max(10_000).default(2),
        maxQueue: z.number().int().min(1).default(4096),
      })
      .strict()
      .default({ enabled: true, maxBatchSize: 32, maxQueueDelayMs: 2, maxQueue: 4096 }),
    routing: z
      .object({
        // the share of requests a staging version of a model takes inside this one deployment;
        // canaries of a new image are the deployment's business (Argo Rollouts), not this field's
        canaryWeight: z.number().min(0).max(100).default(0),
        shadow: z.boolean().default(false),
        // the /v1/predictions field whose value keeps a caller on one version (default: the entity key);
        // /v2 requests use the x-stackwright-key header
        stickyKey: z.string().min(1).optional(),
      })
      .strict()
      .default({ canaryWeight: 0, shadow: false }),
    fallback: z
      .object({
        // the deadline of the primary's answer; past it (or on an error) model.yaml's fallback chain answers
        timeoutMs: z.number().positive().default(1000),
        breaker: z
          .object({
            failures: z.number().int().min(1).default(5),
            windowSeconds: z.number().positive().default(10),
            openSeconds: z.number().positive().default(30),
          })
          .strict()
          .default({ failures: 5, windowSeconds: 10, openSeconds: 30 }),
      })
      .strict()
      .default({ timeoutMs: 1000, breaker: { failures: 5, windowSeconds: 10, openSeconds: 30 } }),
    cache: z
      .object({ enabled: z.boolean().default(false), maxEntries: z.number().int().min(0).default(10_000) })
      .strict()
      .default({ enabled: false, maxEntries: 10_000 }),
    features: z
      .object({
        // memory: the embedded store, filled from `file`; redis: the online store at `url`, or at the
        // URL in the environment variable `urlEnv` (which also switches a memory config to Redis when set)
        store: z.enum(["none", "memory", "redis"]).default("none"),
        file: z.string().min(1).optional().describe("JSON lines, one entity per line, reloaded on change"),
        url: z.string().min(1).optional(),
        urlEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/)
          .optional(),
        entityKey: z.string().default("id"),
        fields: z
          .array(z.object({ name: z.string().min(1), type: z.enum(FEATURE_KINDS).default("float") }).strict())
          .default([]),
      })
      .strict()
      .default({ store: "none", entityKey: "id", fields: [] }),
    drift: z
      .object({
        enabled: z.boolean().default(true),
        warn: z.number().default(0.1),
        alert: z.number().default(0.25),
        window: z.number().int().min(10).default(1000),
      })
      .strict()
      .default({ enabled: true, warn: 0.1, alert: 0.25, window: 1000 }),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
  })
  .strict();

/** What a serve.yaml may hold (defaults optional): what the generator builds. */
export type ServeConfigInput = z.input<typeof serveConfigSchema>;
export type ServeConfig = z.output<typeof serveConfigSchema>;

/** model.yaml next to each model.onnx. */
export const modelMetaSchema = z
  .object({
    // sample: a generated stand-in (no training) that serves until a trained version is published
    stage: z.enum(["sample", "staging", "production", "archived"]).default("production"),
    features: z
      .array(z.string())
      .optional()
      .describe("named features in input column order (for /v1/predictions)"),
    reference: z
      .record(
        z.string(),
        z.object({ edges: z.array(z.number()).min(1), fractions: z.array(z.number()).min(2) }).strict(),
      )
      .optional()
      .describe("reference histograms per feature for PSI drift: bin edges (inner) and fractions"),
    // tried in this order when the version fails or misses its deadline
    fallback: z
      .object({
        previousVersion: z.boolean().optional().describe("the version that was primary before this one"),
        model: z.string().optional().describe("another loaded model with the same inputs"),
        default: z.record(z.string(), z.array(z.number())).optional().describe("a fixed answer per output"),
      })
      .strict()
      .optional(),
    // how a string feature becomes the number the model reads: its index among the categories
    // (a category not listed is refused)
    encodings: z.record(z.string(), z.object({ categories: z.array(z.string()).min(1) }).strict()).optional(),
    canaryWeight: z.number().min(0).max(100).optional(),
    shadow: z.boolean().optional(),
  })
  .strict();
export type ModelMeta = z.output<typeof modelMetaSchema>;

/**
 * The environment variables `stackwright serve` reads for its options when the command line does not
 * give them: a platform that starts the image with a fixed command (Amazon SageMaker runs it as
 * `serve`, with no other arguments) configures it through its environment.
 */
export const SERVE_ENV = {
  config: "STACKWRIGHT_CONFIG",
  host: "STACKWRIGHT_HOST",
  device: "STACKWRIGHT_DEVICE",
} as const;
