/**
 * A device's telemetry, kept on its own disk while the upload URL is unreachable and sent once it
 * answers: every answered prediction is a line in the open spool file; a flush seals it into a batch
 * with its own ID (the device's and a sequence number kept on disk) and posts each sealed batch, oldest
 * first, with that ID as its Idempotency-Key, deleting it only once the server answered 2xx. A batch
 * the server took is never sent again; one whose answer was lost is sent again under the same ID, so
 * the receiver can drop the repeat.
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

export interface TelemetryRecord {
  at: string;
  model: string;
  version: string;
  status: number;
  latencyMs: number;
}

const OPEN = "open.jsonl";
const SEQUENCE = "sequence";
const BATCH = /^batch-(\d{12})\.jsonl$/;

export class TelemetrySpool {
  constructor(
    readonly dir: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    mkdirSync(dir, { recursive: true });
  }

  record(r: Omit<TelemetryRecord, "at">): void {
    const line: TelemetryRecord = {
      at: this.clock().toISOString(),
      ...r,
      latencyMs: Math.round(r.latencyMs * 1000) / 1000,
    };
    appendFileSync(join(this.dir, OPEN), `${JSON.stringify(line)}\n`);
  }

  /** Seals the open file into the next batch (nothing when it is empty); returns the sealed batches, oldest first. */
  seal(): string[] {
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
  url: string;
  device: string;
  /** what runs now: sent with every batch */
  bundle: () => { name: string; version: string };
  /** the serving core's drift statistics per model, sent with every batch */
  drift?: () => Promise<unknown>;
  log: (line: string) => void;
  /** bearer token for the upload URL */
  token?: string;
}

export interface FlushResult {
  sent: number;
  /** batches left on disk (the URL did not answer, or refused) */
  left: number;
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

  private async send(): Promise<FlushResult> {
    const batches = this.spool.seal();
    let sent = 0;
    for (const batch of batches) {
      const id = `${this.o.device}-${batch.match(BATCH)![1]}`;
      const body = JSON.stringify({
        batch: id,
        device: this.o.device,
        bundle: this.o.bundle(),
        records: this.spool.read(batch),
        ...(this.o.drift ? { drift: await this.o.drift() } : {}),
      });
      let status: number;
      try {
        const response = await fetch(this.o.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "idempotency-key": id,
            ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}),
          },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        status = response.status;
        await response.body?.cancel();
      } catch (error) {
        if (this.reachable)
          this.o.log(`telemetry: ${this.o.url} unreachable (${(error as Error).message}): kept on disk`);
        this.reachable = false;
        return { sent, left: batches.length - sent };
      }
      if (status < 200 || status > 299) {
        this.o.log(`telemetry: ${this.o.url} answered ${status} for batch ${id}: kept on disk`);
        return { sent, left: batches.length - sent };
      }
      if (!this.reachable) this.o.log(`telemetry: ${this.o.url} answers again: sending what was kept`);
      this.reachable = true;
      this.spool.remove(batch);
      sent++;
    }
    return { sent, left: 0 };
  }
}
