/**
 * Record and replay: every model answer is stored (in stackwright.lock.json) keyed by a hash of
 * purpose, prompt, model and output schema. The same inputs replay the record with no key and no
 * network, so CI regenerates byte-identical files.
 */
import { canonicalJson, sha256 } from "../util/canonical.js";

export interface LlmRecord {
  key: string;
  purpose: string;
  model: string;
  /** the validated answer */
  response: unknown;
  usage: { inputTokens: number; outputTokens: number };
}

export function recordKey(
  purpose: string,
  model: string,
  system: string,
  prompt: string,
  schema: unknown,
): string {
  return sha256(canonicalJson({ purpose, model, system, prompt, schema }));
}

export class RecordStore {
  private readonly byKey = new Map<string, LlmRecord>();
  private readonly used = new Set<string>();

  constructor(records: readonly LlmRecord[] = []) {
    for (const record of records) this.byKey.set(record.key, record);
  }

  get(key: string): LlmRecord | undefined {
    const record = this.byKey.get(key);
    if (record) this.used.add(key);
    return record;
  }

  put(record: LlmRecord): void {
    this.byKey.set(record.key, record);
    this.used.add(record.key);
  }

  /** records this run used (replayed or new), sorted by key: what the lock file keeps */
  usedRecords(): LlmRecord[] {
    return [...this.used].sort().map((key) => this.byKey.get(key)!);
  }
}
