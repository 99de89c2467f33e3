/**
 * A cloud's price table resolved for one region: every row the cost model reads, with its rate in
 * that region, its source, the date it was read and whether it was stored (copied from the cited
 * page) or recalled (to re-check there). A row the region's table does not list is priced at the base
 * region's rate and says so (`region` names where the rate is from: the cost's lines show which).
 */
import type { InstancePrice, PriceTable } from "../engine/index.js";

export interface PriceRow {
  usd: number;
  unit: string;
  source: string;
  asOf: string;
  provenance: "stored" | "recalled";
  /** the region whose rate this is (the base region when the plan's region does not list the row) */
  region: string;
}

export interface RegionalPrices {
  cloud: string;
  /** the plan's region */
  region: string;
  /** the table as the capacity model reads it: instance prices at the region's rates */
  table: PriceTable;
  /** a service row, or `instance:<name>` */
  row(key: string): PriceRow;
}

export class UnknownPriceError extends Error {
  override readonly name = "UnknownPriceError";
}

type BaseRow = {
  usd: number;
  source: string;
  provenance?: "stored" | "recalled";
  asOf?: string;
  copiedFrom?: string;
  global?: boolean;
};
type RegionalRate =
  | number
  | { usd: number; source?: string; provenance?: "stored" | "recalled"; asOf?: string };

export function regionalPrices(base: PriceTable, region: string): RegionalPrices {
  const local = region === base.region ? undefined : base.regions?.[region];
  /** the region's own rate where it lists one, else the base region's (and the row says so) */
  const resolve = (baseRow: BaseRow, unit: string, regional: RegionalRate | undefined): PriceRow => {
    if (!local || regional === undefined || baseRow.global)
      return {
        usd: baseRow.usd,
        unit,
        // a stored row cites the page it was copied from; a region's own rate cites the official page
        source: baseRow.copiedFrom
          ? `${baseRow.copiedFrom} (copied; official: ${baseRow.source})`
          : baseRow.source,
        asOf: baseRow.asOf ?? base.pricesAsOf,
        provenance: baseRow.provenance ?? base.provenance,
        // a global service's rate is every region's
        region: baseRow.global ? region : base.region,
      };
    const rate = typeof regional === "number" ? { usd: regional } : regional;
    return {
      usd: rate.usd,
      unit,
      source: rate.source ?? local.source ?? baseRow.source,
      asOf: rate.asOf ?? local.pricesAsOf,
      provenance: rate.provenance ?? local.provenance,
      region,
    };
  };
  const instanceRow = (i: InstancePrice) =>
    resolve({ ...i, usd: i.hourlyUsd }, "per instance-hour (on demand, Linux)", local?.instances[i.name]);
  const regionalInstance = <T extends InstancePrice>(i: T): T => ({ ...i, hourlyUsd: instanceRow(i).usd });
  const instances = [...base.cpuInstances, ...base.gpuInstances];
  const row = (key: string): PriceRow => {
    if (key.startsWith("instance:")) {
      const name = key.slice("instance:".length);
      const instance = instances.find((i) => i.name === name);
      const managed = base.managedEndpointInstances.find((i) => i.name === name);
      if (managed)
        return resolve(
          { ...managed, usd: managed.hourlyUsd },
          "per instance-hour (managed endpoint: real-time inference)",
          local?.instances[managed.name],
        );
      if (!instance) throw new UnknownPriceError(`the ${base.cloud} price table has no instance ${name}`);
      return instanceRow(instance);
    }
    const service = (base.services as Record<string, BaseRow & { unit: string }>)[key];
    if (!service) throw new UnknownPriceError(`the ${base.cloud} price table has no service row ${key}`);
    return resolve(service, service.unit, local?.services[key]);
  };
  return {
    cloud: base.cloud,
    region,
    table: {
      ...base,
      cpuInstances: base.cpuInstances.map(regionalInstance),
      gpuInstances: base.gpuInstances.map(regionalInstance),
    },
    row,
  };
}

/** Whole days from `asOf` (YYYY-MM-DD) to `now`. */
export function ageInDays(asOf: string, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(`${asOf}T00:00:00Z`)) / 86_400_000);
}

/** Past this age a price table is stale: `plan` warns (stderr and plan JSON, never generated files). */
export const STALE_PRICES_DAYS = 180;
