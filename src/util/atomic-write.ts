import { renameSync, rmSync, writeFileSync } from "node:fs";

/**
 * Writes a file whole or not at all: a temporary file beside it, renamed over it (a rename within
 * one directory is atomic), so a reader never sees half a file and a failed write leaves the old one.
 * `mode` (e.g. 0o600) is the file's permissions from its creation (less the process umask).
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode?: number): void {
  // unique per write, so two writers of one path in one process never share a temporary file
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    // `mode` from the file's creation (a private key is never readable by others, not even briefly);
    // exclusive: a temporary name someone else created is never written through
    writeFileSync(tmp, content, mode === undefined ? undefined : { mode, flag: "wx" });
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
