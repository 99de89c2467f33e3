/**
 * One temporary directory per test run: every test's mkdtemp(tmpdir()) lands inside it (TMPDIR is
 * set before the workers start, and the CLI processes the tests spawn inherit it), and it is
 * removed when the run ends, so a run leaves nothing behind (the image-root tests alone unpack
 * about 0.5 GB per example).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), "stackwright-tests-"));
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    // a worker that is still being stopped can write into it while it goes (a CI run once ended with
    // ENOTEMPTY after vitest timed out terminating a fork): Node retries those with a growing delay
    rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
  };
}
