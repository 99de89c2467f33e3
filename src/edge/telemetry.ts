/**
 * A device's telemetry, kept on its own disk while the upload URL is unreachable and sent once it
 * answers: every answered prediction is a line in the open spool file; a flush seals it into a batch
 * with its own ID (the device's and a sequence number kept on disk) and posts each sealed batch, oldest
 * first, with that ID as its Idempotency-Key, deleting it only once the server answered 2xx. A batch
 * the server took is never sent again; one whose answer was lost is sent again under the same ID, so
 * the receiver can drop the repeat.
 *
 * Beside the records the spool keeps, per bundle version, what a release gate needs (answers, errors,
 * a latency histogram): small enough to send whole with every flush, so the fleet's health per ring is
 * one object per device (status/<device>.json in an object store) rather than every batch re-read.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { EDGE_STORE_LAYOUT } from "./defaults.js";
import { asPrefix, HttpStatusError, isHubUrl, isObjectUrl, type Transport } from "./transport.js";

export interface TelemetryRecord {
  at: string;
  model: string;
  version: string;
  status: number;
  latencyMs: number;
}

const OPEN = "open.jsonl";
const SEQUENCE = "sequence";
const STATS = "versions.json";
const BATCH = /^batch-(\d{12})\.jsonl$/;

/**
 * Upper bounds (ms) of the latency histogram each device keeps per version; the last bucket counts
 * everything slower. A gate's p99 is the bound of the bucket that holds the 99th percentile: never
 * below the true value, at most one bucket above it.
 */
export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

/** What one device saw of one bundle version (not the model's: a bundle's models keep theirs) since it first ran it. */
export interface VersionStats {
  answers: number;
  /** answers with a status of 500 or more (the serving core's own failures, not bad requests) */
  errors: number;
  /** counts per LATENCY_BOUNDS_MS bucket, and one more for slower answers */
  latency: number[];
}

export function emptyStats(): VersionStats {
  return { answers: 0, errors: 0, latency: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0) };
}

/** The latency under which `quantile` of the answers fell (a bucket's bound; Infinity past the last). */
export function latencyQuantile(stats: VersionStats, quantile: number): number {
  const rank = Math.ceil(stats.answers * quantile);
  let seen = 0;
  for (let i = 0; i < stats.latency.length; i++) {
    seen += stats.latency[i]!;
    if (seen >= rank) return LATENCY_BOUNDS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

export function addStats(into: VersionStats, from: VersionStats): void {
  into.answers += from.answers;
  into.errors += from.errors;
  for (let i = 0; i < into.latency.length; i++) into.latency[i]! += from.latency[i] ?? 0;
}

export class TelemetrySpool {
  readonly versions: Record<string, VersionStats>;

  constructor(
    readonly dir: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    mkdirSync(dir, { recursive: true });
    const stats = join(dir, STATS);
    this.versions = existsSync(stats)
      ? (JSON.parse(readFileSync(stats, "utf8")) as Record<string, VersionStats>)
      : {};
  }

  /** One answer of the model (its own version in the record) served from bundle version `bundle`. */
  record(r: Omit<TelemetryRecord, "at">, bundle: string): void {
    const line: TelemetryRecord = {
      at: this.clock().toISOString(),
      ...r,
      latencyMs: Math.round(r.latencyMs * 1000) / 1000,
    };
    appendFileSync(join(this.dir, OPEN), `${JSON.stringify(line)}\n`);
    this.versions[bundle] ??= emptyStats();
    const stats = this.versions[bundle]!;
    stats.answers++;
    if (r.status >= 500) stats.errors++;
    const bucket = LATENCY_BOUNDS_MS.findIndex((bound) => r.latencyMs <= bound);
    stats.latency[bucket < 0 ? LATENCY_BOUNDS_MS.length : bucket]!++;
  }

  /** Seals the open file into the next batch (nothing when it is empty); returns the sealed batches, oldest first. */
  seal(): string[] {
    writeFileAtomic(join(this.dir, STATS), JSON.stringify(this.versions));
    const open = join(this.dir, OPEN);
    if (existsSync(open) && statSync(open).size > 0) {
      const sequencePath = join(this.dir, SEQUENCE);
      const next = (existsSync(sequencePath) ? Number(readFileSync(sequencePath, "utf8")) : 0) + 1;
      writeFileAtomic(sequencePath, String(next));
      renameSync(open, join(this.dir, `batch-${String(next).padStart(12, "0")}.jsonl`));
    }
    return this.pending();
  }

  pending(): string[] {
    return readdirSync(this.dir)
      .filter((f) => BATCH.test(f))
      .sort();
  }

  read(batch: string): TelemetryRecord[] {
    return readFileSync(join(this.dir, batch), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as TelemetryRecord);
  }

  remove(batch: string): void {
    unlinkSync(join(this.dir, batch));
  }
}

export interface UploaderOptions {
  /** an http(s) URL batches are posted to, or an s3:// location they are put under */
  url: string;
  device: string;
  transport: Transport;
  /** what runs now: sent with every batch */
  bundle: () => { name: string; version: string };
  /** the device's ring and the versions it refused or reverted: sent with every batch */
  status: () => { ring?: string; failed: string[] };
  /** the serving core's drift statistics per model, sent with every batch */
  drift?: () => Promise<unknown>;
  log: (line: string) => void;
  clock?: () => Date;
}

export interface FlushResult {
  sent: number;
  /** batches left on disk (the URL did not answer, or refused) */
  left: number;
}

/**
 * Where a device's batches and status go: under an s3:// location, `telemetry/<device>/<batch>.json`
 * and `status/<device>.json`; through an IoT Hub (iothub://), `telemetry/<batch>.json` and
 * `status.json`, which the hub files under the device's ID in its upload container.
 */
export function telemetryKeys(base: string, device: string) {
  const root = asPrefix(base);
  const { telemetry, status } = EDGE_STORE_LAYOUT;
  return isHubUrl(root)
    ? { batch: (id: string) => `${root}${telemetry}/${id}.json`, status: `${root}${status}.json` }
    : {
        batch: (id: string) => `${root}${telemetry}/${device}/${id}.json`,
        status: `${root}${status}/${device}.json`,
      };
}

/**
 * Every device's status object in a telemetry store, with the device each belongs to, named by where
 * it lies (the one place that device's identity may write), not by what it says: `status/<device>.json`
 * in an s3:// store, `<device>/status.json` in an IoT Hub's upload container (az://).
 */
export async function statusObjects(
  net: Transport,
  store: string,
): Promise<Array<{ device: string; url: string }>> {
  const root = asPrefix(store);
  const { status } = EDGE_STORE_LAYOUT;
  if (/^az:\/\//i.test(root))
    return (await net.folders(root)).map((folder) => ({
      device: decodeURIComponent(folder.slice(root.length, -1)),
      url: `${folder}${status}.json`,
    }));
  return (await net.list(`${root}${status}/`))
    .filter((u) => u.endsWith(".json"))
    .map((url) => ({
      device: decodeURIComponent(url.slice(url.lastIndexOf("/") + 1, -".json".length)),
      url,
    }));
}

/** The status object of a device (status/<device>.json): what a release gate reads. */
export interface DeviceStatus {
  device: string;
  ring?: string;
  running: string;
  failed: string[];
  versions: Record<string, VersionStats>;
  at: string;
}

export class TelemetryUploader {
  private flushing: Promise<FlushResult> | undefined;
  private reachable = true;

  constructor(
    private readonly spool: TelemetrySpool,
    private readonly o: UploaderOptions,
  ) {}

  /** Seals and sends what is spooled; one flush at a time (a second caller shares the first's). */
  flush(): Promise<FlushResult> {
    this.flushing ??= this.send().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private deviceStatus(): DeviceStatus {
    const { ring, failed } = this.o.status();
    return {
      device: this.o.device,
      ...(ring ? { ring } : {}),
      running: this.o.bundle().version,
      failed,
      versions: this.spool.versions,
      at: (this.o.clock ?? (() => new Date()))().toISOString(),
    };
  }

  /** Sends one document; false (and the reason logged once) when it must stay on disk. */
  private async deliver(url: string, body: string, id: string): Promise<boolean> {
    try {
      await this.o.transport.write(url, body, id);
    } catch (error) {
      const status =
        error instanceof HttpStatusError
          ? error.status
          : (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== undefined)
        this.o.log(`telemetry: ${this.o.url} answered ${status} for ${id}: kept on disk`);
      else if (this.reachable)
        this.o.log(`telemetry: ${this.o.url} unreachable (${(error as Error).message}): kept on disk`);
      this.reachable = false;
      return false;
    }
    if (!this.reachable) this.o.log(`telemetry: ${this.o.url} answers again: sending what was kept`);
    this.reachable = true;
    return true;
  }

  private async send(): Promise<FlushResult> {
    const batches = this.spool.seal();
    const objects = isObjectUrl(this.o.url);
    const keys = telemetryKeys(this.o.url, this.o.device);
    const status = this.deviceStatus();
    let sent = 0;
    for (const batch of batches) {
      const id = `${this.o.device}-${batch.match(BATCH)![1]}`;
      const body = JSON.stringify({
        batch: id,
        device: this.o.device,
        bundle: this.o.bundle(),
        status,
        records: this.spool.read(batch),
        ...(this.o.drift ? { drift: await this.o.drift() } : {}),
      });
      if (!(await this.deliver(objects ? keys.batch(id) : this.o.url, body, id)))
        return { sent, left: batches.length - sent };
      this.spool.remove(batch);
      sent++;
    }
    // an object store keeps each device's status apart, for the release gates
    if (objects) await this.deliver(keys.status, JSON.stringify(status), "status");
    return { sent, left: 0 };
  }
}
