/**
 * Usage-based quantities: what a month of the workload puts through a meter. Each is an assumption
 * derived from the spec, returned with the words that say how it was reached, so the cost item that
 * uses it is labelled as such.
 */
import { type InventoryInput, runsLlmEngine } from "./types.js";

export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

export interface Usage {
  quantity: number;
  assumption: string;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Approximate runs per month of a 5-field cron expression or an @-macro. */
export function runsPerMonth(schedule: string | null): number {
  if (!schedule) return 30;
  const macro: Record<string, number> = { "@hourly": 730, "@daily": 30.4, "@weekly": 4.35, "@monthly": 1 };
  if (schedule in macro) return macro[schedule];
  const [minute, hour, dayOfMonth, , dayOfWeek] = schedule.split(/\s+/);
  const count = (field: string, range: number): number => {
    if (field === "*") return range;
    const step = /^\*\/(\d+)$/.exec(field);
    if (step) return Math.ceil(range / Number(step[1]));
    return field.split(",").reduce((n, part) => {
      const span = /^(\d+)-(\d+)$/.exec(part);
      return n + (span ? Number(span[2]) - Number(span[1]) + 1 : 1);
    }, 0);
  };
  const perDay = count(minute, 60) * count(hour, 24);
  const days =
    dayOfMonth !== "*" ? count(dayOfMonth, 31) : dayOfWeek !== "*" ? count(dayOfWeek, 7) * 4.35 : 30.4;
  return Math.round(perDay * days * 100) / 100;
}

/** Object storage held: training data, 90 days of raw data, 10 model versions. */
export function storedData({ spec }: InventoryInput): Usage {
  const gb = spec.training.datasetGb + spec.data.volumeGbPerDay * 90 + (spec.model.sizeMb / 1024) * 10;
  return {
    quantity: round2(gb),
    assumption: `training data (${spec.training.datasetGb} GB) + 90 days of raw data at ${spec.data.volumeGbPerDay} GB/day + 10 model versions of ${spec.model.sizeMb} MB`,
  };
}

/** Data through the NAT: a tenth of the data volume leaves the private subnets. */
/** What the data bucket takes in a month, which replication copies to every other region. */
export function replicatedData({ spec }: InventoryInput, destinations: number): Usage {
  return {
    quantity: round2(spec.data.volumeGbPerDay * 30 * destinations),
    assumption: `${spec.data.volumeGbPerDay} GB/day of new data (data.volumeGbPerDay) copied to ${destinations} other region(s)`,
  };
}

export function natData({ spec }: InventoryInput): Usage {
  return {
    quantity: round2(spec.data.volumeGbPerDay * 30 * 0.1),
    assumption: `10% of ${spec.data.volumeGbPerDay} GB/day x 30 days leaves the private subnets through NAT (image pulls and object storage use the provider's network where it has private access)`,
  };
}

/** GB a load balancer carries a month: 2 kB a request (in and out) at the average rate, at least 1. */
export function servedData({ averageQps }: InventoryInput): Usage {
  return {
    quantity: round2(Math.max(1, (averageQps * 2e3 * SECONDS_PER_MONTH) / 1e9)),
    assumption: `${Math.round(averageQps)} requests/s average at an assumed 2 kB in and out each`,
  };
}

/** Requests a month at the average rate (realtime and streaming). */
export function requests({ averageQps }: InventoryInput): Usage {
  return {
    quantity: round2((averageQps * SECONDS_PER_MONTH) / 1e6),
    assumption: `${round2(averageQps)} requests/s average x ${HOURS_PER_MONTH} h`,
  };
}

/** Prediction and service logs the serving runtime writes to the cloud's log service. */
export function predictionLogs(input: InventoryInput): Usage {
  const { spec, choices, averageQps } = input;
  if (choices["serving.mode"] === "batch") {
    const rows = (spec.inference.batch.rowsPerRun ?? 0) * runsPerMonth(spec.inference.batch.schedule);
    return {
      quantity: round2((rows * 200) / 1e9),
      assumption: `200 B of log per scored row x ${rows.toLocaleString("en-US")} rows/month`,
    };
  }
  return {
    quantity: round2((averageQps * SECONDS_PER_MONTH * 500) / 1e9),
    assumption: `500 B of log per request x ${round2(averageQps)} requests/s average x ${HOURS_PER_MONTH} h`,
  };
}

/** Control-plane and flow logs: a fixed, small volume per cluster or network. */
export function platformLogs(what: string, gbPerMonth: number): Usage {
  return {
    quantity: gbPerMonth,
    assumption: `${gbPerMonth} GB/month of ${what} (a steady platform of this size; measure after a month and adjust)`,
  };
}

/** Audit events kept: about 5 GB a month, for the retention the audit decision sets. */
export function auditStorage(immutable: boolean): Usage {
  const months = immutable ? 12 : 3;
  return {
    quantity: 5 * months,
    assumption: `about 5 GB/month of audit events, ${months} months kept${immutable ? " on write-once storage" : ""}`,
  };
}

/** The serving image copied to other regions: a release a day at most, of the image with its model. */
export function replicatedImages({ spec }: InventoryInput, destinations: number): Usage {
  const gb = 0.3 + spec.model.sizeMb / 1024;
  return {
    quantity: round2(30 * gb * destinations),
    assumption: `up to 30 releases a month of a ${round2(gb)} GB serving image (0.3 GB base + the model), copied to ${destinations} other region(s)`,
  };
}

/** Container images kept in the registry: 10 releases of the serving image with its model. */
export function imageStorage({ spec }: InventoryInput): Usage {
  const gb = round2(10 * (0.3 + spec.model.sizeMb / 1024));
  return {
    quantity: gb,
    assumption: `10 releases kept x (0.3 GB base image + ${spec.model.sizeMb} MB model)`,
  };
}

/** Batch scoring: run hours per month at the capacity's replicas. */
export function batchRunHours(input: InventoryInput): { runs: number; hoursPerRun: number } {
  const { spec, capacity, batchRowsPerSecond } = input;
  const runs = runsPerMonth(spec.inference.batch.schedule);
  const rows = spec.inference.batch.rowsPerRun ?? 0;
  const hoursPerRun = Math.max(
    0.25,
    batchRowsPerSecond > 0 ? rows / (capacity.replicasMax * batchRowsPerSecond) / 3600 : 1,
  );
  return { runs, hoursPerRun: round2(hoursPerRun) };
}

/** Average always-on replicas between the floor and the ceiling at the average rate. */
export function averageReplicas({ capacity, averageQps }: InventoryInput): number {
  const forAverage = Math.ceil(
    averageQps / Math.max(0.001, capacity.perReplicaQps * capacity.targetUtilization),
  );
  return Math.min(capacity.replicasMax, Math.max(capacity.replicasMin, forAverage));
}

/**
 * What an LLM engine's images take on a serving node's disk beside the checkpoint: an assumption (the
 * vLLM image is about 10 GB compressed and over 20 GB unpacked; the system images and logs share it).
 */
export const ENGINE_IMAGES_GB = 50;

/** The pod's volume for a checkpoint of `checkpointGb`: a tenth more and one GiB, for the copy's own files. */
export function weightsVolumeGb(checkpointGb: number): number {
  return Math.ceil(checkpointGb * 1.1) + 1;
}

/**
 * The disk a serving node needs: the cloud's default, or, where an LLM engine copies its checkpoint
 * onto the node (an emptyDir of weightsVolumeGb), that volume and the engine's images, in 10 GB steps.
 */
export function servingNodeDiskGb(input: InventoryInput, defaultGb: number): number {
  const checkpoint = input.capacity.llm?.checkpointGb;
  if (!checkpoint || !runsLlmEngine(input.choices)) return defaultGb;
  return Math.max(defaultGb, Math.ceil((weightsVolumeGb(checkpoint) + ENGINE_IMAGES_GB) / 10) * 10);
}
