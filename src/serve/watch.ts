/**
 * `serve --watch`: follows the model repository on disk. A change anywhere under models/<name>/
 * re-syncs that model once the directory has been quiet for a moment (so a file still being copied
 * is not loaded half-written; publishing a version by renaming a finished directory into place is
 * the reliable way). Syncs of one model never overlap; a failed one leaves the serving versions
 * as they were and is reported.
 */
import { type FSWatcher, watch } from "node:fs";
import { sep } from "node:path";

export interface RegistryWatcher {
  close(): void;
  /** resolves when no sync is pending or running (for tests and shutdown) */
  settled(): Promise<void>;
}

export function watchRegistry(
  root: string,
  sync: (name: string) => Promise<string>,
  log: (line: string) => void,
  quietMs = 300,
): RegistryWatcher {
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Map<string, Promise<void>>();
  const run = (name: string) => {
    const previous = running.get(name) ?? Promise.resolve();
    const next = previous
      .then(() => sync(name))
      .then(
        (outcome) => {
          if (outcome !== "unchanged" && outcome !== "nothing to serve") log(`watch: ${name}: ${outcome}`);
        },
        (error: Error) =>
          log(`watch: ${name}: load failed, the previous versions keep serving: ${error.message}`),
      )
      .finally(() => {
        if (running.get(name) === next) running.delete(name);
      });
    running.set(name, next);
  };
  const watcher: FSWatcher = watch(root, { recursive: true }, (_event, filename) => {
    if (!filename) return;
    const name = filename.toString().split(sep)[0];
    // dot-directories are where versions are staged before being renamed into place
    if (!name || name.startsWith(".")) return;
    clearTimeout(timers.get(name));
    timers.set(
      name,
      setTimeout(() => {
        timers.delete(name);
        run(name);
      }, quietMs),
    );
  });
  watcher.on("error", (error) => log(`watch: ${root}: ${error.message}`));
  return {
    close() {
      watcher.close();
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
    async settled() {
      while (timers.size > 0 || running.size > 0) {
        await Promise.all(running.values());
        if (timers.size > 0) await new Promise((r) => setTimeout(r, quietMs));
      }
    },
  };
}
