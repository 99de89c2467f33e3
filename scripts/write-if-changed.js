// Build helper: writes an output only when its content changed, and then whole (a temporary file
// renamed over it). A rebuild therefore never truncates, deletes or half-writes a file a running CLI
// may be reading: `npx stackwright` in a clone runs `prepare` (the whole build) while other commands,
// or the test suite, use dist/. (src/util/atomic-write.ts is the product's copy of the rename; the
// build cannot import it, since it is what the build compiles.)
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Writes `content` to `path` unless it already holds exactly that; returns whether it wrote. */
export function writeIfChanged(path, content) {
  const bytes = typeof content === "string" ? Buffer.from(content) : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  let current;
  try {
    current = readFileSync(path);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  if (current?.equals(bytes)) return false;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  return true;
}
