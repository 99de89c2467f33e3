/**
 * platform/edge/rollout.yaml: the rings a release passes through and the gate each must pass before
 * the next ring gets it. The generator writes it (src/generate/platform/edge.ts) and `stackwright edge
 * promote` reads it: this schema is the one both use.
 *
 * A ring's `devices` counts every device that runs the release once that ring has it (the rings before
 * it included): canary 2, site 10, fleet 40 means 2 canary devices, then the rest of one site, then all.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";

export const ringSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "a ring name: lowercase letters, digits and -"),
    devices: z.number().int().positive(),
    soakHours: z.number().min(0),
    gate: z
      .object({
        maxErrorRate: z.number().min(0).max(1),
        maxP99Ms: z.number().positive(),
      })
      .strict(),
  })
  .strict();

export type Ring = z.infer<typeof ringSchema>;

export const rolloutSchema = z.object({
  apiVersion: z.literal("stackwright.dev/v1"),
  kind: z.literal("EdgeRollout"),
  bundle: z.string().min(1),
  channel: z.string().includes("{ring}"),
  device: z.record(z.string(), z.unknown()),
  rings: z
    .array(ringSchema)
    .min(1)
    .refine((rings) => new Set(rings.map((r) => r.name)).size === rings.length, "ring names must differ"),
});

export type Rollout = z.infer<typeof rolloutSchema>;

export class RolloutError extends Error {}

export function readRollout(path: string): Rollout {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new RolloutError(`cannot read the rollout ${path}: ${(error as Error).message}`);
  }
  const parsed = rolloutSchema.safeParse(raw);
  if (!parsed.success)
    throw new RolloutError(
      `${path}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}
