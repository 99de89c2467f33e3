/**
 * serve.yaml: what `stackwright serve --config` reads and what the generators emit from a Plan
 * (src/generate/platform/serve-config.ts). Command-line flags override it.
 */
import { z } from "zod";

export const DEVICES = ["auto", "cpu", "webgpu", "cuda"] as const;

export const serveConfigSchema = z
  .object({
    models: z
      .array(
        z
          .object({
            name: z.string().min(1),
            path: z.string().min(1),
            versionPolicy: z.string().default("production"),
          })
          .strict(),
      )
      .default([]),
    device: z.enum(DEVICES).default("auto"),
    workers: z.number().int().min(1).max(64).optional(),
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
        strategy: z.string().default("rolling"),
        canaryWeight: z.number().min(0).max(100).default(0),
        shadow: z.boolean().default(false),
        stickyKey: z.string().default("id"),
      })
      .strict()
      .default({ strategy: "rolling", canaryWeight: 0, shadow: false, stickyKey: "id" }),
    fallback: z
      .object({
        kind: z.string().default("default-response"),
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
      .default({
        kind: "default-response",
        timeoutMs: 1000,
        breaker: { failures: 5, windowSeconds: 10, openSeconds: 30 },
      }),
    cache: z
      .object({ enabled: z.boolean().default(false), maxEntries: z.number().int().min(0).default(10_000) })
      .strict()
      .default({ enabled: false, maxEntries: 10_000 }),
    features: z
      .object({
        store: z.enum(["none", "memory", "redis"]).default("none"),
        url: z.string().optional(),
        entityKey: z.string().default("id"),
        fields: z.array(z.object({ name: z.string(), type: z.string().default("float") })).default([]),
      })
      .strict()
      .default({ store: "none", entityKey: "id", fields: [] }),
    drift: z
      .object({
        enabled: z.boolean().default(true),
        bins: z.number().int().min(2).default(10),
        warn: z.number().default(0.1),
        alert: z.number().default(0.25),
        window: z.number().int().min(10).default(1000),
      })
      .strict()
      .default({ enabled: true, bins: 10, warn: 0.1, alert: 0.25, window: 1000 }),
    latencySloMs: z.number().positive().optional(),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
  })
  .strict();

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
    fallback: z
      .object({ model: z.string().optional(), default: z.record(z.string(), z.array(z.number())).optional() })
      .strict()
      .optional(),
    canaryWeight: z.number().min(0).max(100).optional(),
    shadow: z.boolean().optional(),
  })
  .strict();
export type ModelMeta = z.output<typeof modelMetaSchema>;
