/** The `llm` section of stackwright.lock.json: read for replay, merged back after a run. */
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/atomic-write.js";
import type { LlmRecord } from "./records.js";

export function readLlmRecords(lockPath: string): LlmRecord[] {
  if (!existsSync(lockPath)) return [];
  try {
    const lock = JSON.parse(readFileSync(lockPath, "utf8")) as { llm?: LlmRecord[] };
    return Array.isArray(lock.llm) ? lock.llm : [];
  } catch {
    return [];
  }
}

/** Replaces the lock's `llm` section, keeping every other key; atomic (temp file + rename). */
export function writeLlmRecords(lockPath: string, records: readonly LlmRecord[]): void {
  let lock: Record<string, unknown> = {};
  if (existsSync(lockPath)) {
    try {
      lock = JSON.parse(readFileSync(lockPath, "utf8")) as Record<string, unknown>;
    } catch {
      lock = {};
    }
  }
  lock.llm = [...records].sort((a, b) => (a.key < b.key ? -1 : 1));
  writeFileAtomic(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
}
