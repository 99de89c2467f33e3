import { renameSync, rmSync, writeFileSync } from "node:fs";

/**
 * Writes a file whole or not at all: a temporary file beside it, renamed over it (a rename within
 * one directory is atomic), so a reader never sees half a file and a failed write leaves the old one.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  // unique per write, so two writers of one path in one process never share a temporary file
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
