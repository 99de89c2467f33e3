/**
 * What a regional outage costs a plan: the regions it serves from and their roles, what each stateful
 * store loses when traffic fails over (its recovery point, from the store's replication) and how long
 * the failover takes (its recovery time: the global routing's detection and switch, and for a warm
 * standby the scale-up to the peak). The figures come from rules/regions.yaml, each with its source,
 * published or estimated; the contradictions and the plan read this one derivation.
 */

import { z } from "zod";
import type { RegionCatalog } from "../engine/index.js";
import type { ResolvedSpec } from "../requirements/index.js";

/**
 * Minutes a warm standby takes to carry the peak once it takes the traffic: the autoscaler asks for
 * nodes, the cloud starts them, the pods pull the image and pass readiness. Estimated: node
 * provisioning takes minutes on EKS, GKE and AKS alike; nothing here measures it.
 */
export const STANDBY_SCALE_UP_MINUTES = 5;

/**
 * Minutes of feature staleness a per-region online store can lag by, per data.featureFreshness: what
 * the feature pipeline has not yet written to the region's own store when traffic moves there (its
 * cadence: a streaming write within a minute, a minutes-scale job every 15, hourly, daily).
 */
export const FRESHNESS_MINUTES: Readonly<Record<ResolvedSpec["data"]["featureFreshness"], number>> = {
  realtime: 1,
  minutes: 15,
  hours: 60,
  daily: 1440,
};

/** Minutes in an average month (365.25 / 12 days). */
export const MINUTES_PER_MONTH = 43_830;

export const storeRecoverySchema = z.object({
  store: z.enum(["online-store", "data-bucket"]),
  mechanism: z.string(),
  rpoMinutes: z.number(),
  basis: z.string(),
  source: z.string(),
});

export const availabilitySchema = z.object({
  regions: z.array(
    z.object({
      name: z.string(),
      role: z.enum(["primary", "secondary"]),
      jurisdiction: z.string().nullable(),
    }),
  ),
  failover: z.enum(["active-passive", "active-active"]),
  routing: z.object({ mechanism: z.string(), basis: z.string(), source: z.string() }),
  /** what a failover loses: the worst store's recovery point */
  rpo: z.object({
    targetMinutes: z.number().nullable(),
    achievableMinutes: z.number(),
    stores: z.array(storeRecoverySchema),
  }),
  /** how long a failover takes: detection, switch, and a warm standby's scale-up */
  rto: z.object({
    targetMinutes: z.number().nullable(),
    estimatedMinutes: z.number(),
    parts: z.array(z.object({ what: z.string(), minutes: z.number() })),
  }),
  /** the downtime a month the availability target allows */
  monthlyBudgetMinutes: z.number(),
});
export type Availability = z.infer<typeof availabilitySchema>;

/** The availability model of a multi-region plan on a cloud the catalog describes; null otherwise. */
export function availabilityOf(
  spec: ResolvedSpec,
  regions: RegionCatalog,
  choices: Record<string, string>,
): Availability | null {
  const { availability } = spec;
  const figures = regions.multiRegion[spec.cloud.provider];
  if (availability.regions.length < 2 || !figures || availability.failover === null) return null;
  const catalog = regions.clouds[spec.cloud.provider] ?? {};
  const stores: Availability["rpo"]["stores"] = [];
  for (const [store, figure] of Object.entries(figures.stores) as Array<
    ["online-store" | "data-bucket", (typeof figures.stores)["data-bucket"]]
  >) {
    if (store === "online-store" && choices["features.store"] !== "online") continue;
    const freshness = spec.data.featureFreshness;
    stores.push({
      store,
      mechanism: figure.mechanism,
      rpoMinutes: figure.perRegion ? FRESHNESS_MINUTES[freshness] : figure.rpoMinutes!,
      basis: figure.perRegion
        ? `the feature pipeline (the team's) writes each region's store: a failover loses what it has not yet written there, up to data.featureFreshness (${freshness}) ${FRESHNESS_MINUTES[freshness]} min`
        : figure.basis!,
      source: figure.source,
    });
  }
  const parts = [
    { what: `detection: ${figures.routing.basis}`, minutes: figures.routing.detectMinutes },
    ...(figures.routing.switchMinutes > 0
      ? [{ what: "clients follow the routing change", minutes: figures.routing.switchMinutes }]
      : []),
    ...(availability.failover === "active-passive"
      ? [
          {
            what: "the warm standby scales from its minimum replicas to the peak (estimated)",
            minutes: STANDBY_SCALE_UP_MINUTES,
          },
        ]
      : []),
  ];
  return {
    regions: availability.regions.map((name, i) => ({
      name,
      role: i === 0 ? "primary" : "secondary",
      jurisdiction: catalog[name]?.jurisdiction ?? null,
    })),
    failover: availability.failover,
    routing: {
      mechanism: figures.routing.mechanism,
      basis: figures.routing.basis,
      source: figures.routing.source,
    },
    rpo: {
      targetMinutes: availability.rpoMinutes,
      achievableMinutes: Math.max(0, ...stores.map((s) => s.rpoMinutes)),
      stores,
    },
    rto: {
      targetMinutes: availability.rtoMinutes,
      estimatedMinutes: Math.round(parts.reduce((sum, p) => sum + p.minutes, 0) * 10) / 10,
      parts,
    },
    monthlyBudgetMinutes:
      Math.round(((100 - availability.targetPercent) / 100) * MINUTES_PER_MONTH * 10) / 10,
  };
}
