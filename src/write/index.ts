/**
 * FileSet -> disk. Atomic writes (temp file + rename), nothing outside the output directory,
 * stackwright.lock.json with the spec hash, rule-set hash, LLM records and a hash per file. A file
 * changed by hand since the last generate is not overwritten without --force. --check writes nothing
 * and reports every drifted, missing or extra file with a diff.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { FileContent, FileSet } from "../fileset/index.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { unifiedDiff } from "./diff.js";

export const LOCK_FILE = "stackwright.lock.json";

export interface LockFile {
  version: 1;
  generator: string;
  specHash: string;
  ruleSetHash: string;
  llm: unknown[];
  files: Record<string, string>;
}

export interface WriteOptions {
  specHash: string;
  ruleSetHash: string;
  llm?: unknown[];
  force?: boolean;
  check?: boolean;
  generator?: string;
}

export interface Drift {
  path: string;
  kind: "changed" | "missing" | "extra";
  diff: string;
}

export interface WriteResult {
  written: string[];
  unchanged: string[];
  removed: string[];
  /** files changed by hand since the last generate, left alone (no --force) */
  handEdited: string[];
  drift: Drift[];
}

export class UnsafePathError extends Error {
  override readonly name = "UnsafePathError";
}

const hash = (content: FileContent) => `sha256:${createHash("sha256").update(content).digest("hex")}`;

function same(disk: Buffer, content: FileContent): boolean {
  return typeof content === "string"
    ? disk.toString("utf8") === content && Buffer.byteLength(content) === disk.length
    : disk.equals(content);
}

function describeDiff(path: string, disk: Buffer | undefined, content: FileContent): string {
  if (typeof content !== "string")
    return `${path}: binary file ${disk ? "differs" : "missing"} (${content.length} bytes expected)\n`;
  return unifiedDiff(path, disk ? disk.toString("utf8") : "", content);
}

/** Refuses absolute paths, `..`, backslashes, empty segments and anything resolving outside `outDir`. */
export function safePath(outDir: string, path: string): string {
  if (
    !path ||
    isAbsolute(path) ||
    path.includes("\\") ||
    path.split("/").some((s) => s === ".." || s === "." || s === "") ||
    path.includes("\0")
  ) {
    throw new UnsafePathError(
      `refusing to write ${JSON.stringify(path)}: paths must be relative, without "..", inside the output directory`,
    );
  }
  const root = resolve(outDir);
  const full = resolve(root, path);
  if (!full.startsWith(root + sep))
    throw new UnsafePathError(`refusing to write ${JSON.stringify(path)}: outside ${root}`);
  // a symlinked directory inside outDir must not lead outside it
  let dir = dirname(full);
  while (dir.startsWith(root) && dir !== root && !existsSync(dir)) dir = dirname(dir);
  if (existsSync(dir)) {
    const real = realpathSync(dir);
    const realRoot = existsSync(root) ? realpathSync(root) : root;
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      throw new UnsafePathError(
        `refusing to write ${JSON.stringify(path)}: ${relative(root, dir)} links outside the output directory`,
      );
    }
  }
  if (existsSync(full) && lstatSync(full).isSymbolicLink()) {
    throw new UnsafePathError(`refusing to write ${JSON.stringify(path)}: it is a symbolic link`);
  }
  return full;
}

export function readLock(outDir: string): LockFile | undefined {
  const path = join(outDir, LOCK_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LockFile;
  } catch {
    return undefined;
  }
}

export function lockContent(files: FileSet, options: WriteOptions): string {
  const lock: LockFile = {
    version: 1,
    generator: options.generator ?? "stackwright",
    specHash: options.specHash,
    ruleSetHash: options.ruleSetHash,
    llm: options.llm ?? [],
    files: Object.fromEntries(
      Object.keys(files)
        .sort()
        .map((p) => [p, hash(files[p])]),
    ),
  };
  return `${JSON.stringify(lock, null, 2)}\n`;
}

function atomicWrite(full: string, content: FileContent): void {
  mkdirSync(dirname(full), { recursive: true });
  writeFileAtomic(full, content);
}

export function writeFileSet(outDir: string, files: FileSet, options: WriteOptions): WriteResult {
  const root = resolve(outDir);
  const expected: FileSet = { ...files, [LOCK_FILE]: lockContent(files, options) };
  // validate every path before touching the disk: nothing half-written
  const targets = new Map(Object.keys(expected).map((p) => [p, safePath(root, p)]));
  const previous = readLock(root);
  const result: WriteResult = { written: [], unchanged: [], removed: [], handEdited: [], drift: [] };

  if (options.check) {
    for (const [path, full] of targets) {
      if (!existsSync(full))
        result.drift.push({ path, kind: "missing", diff: describeDiff(path, undefined, expected[path]) });
      else {
        const current = readFileSync(full);
        if (!same(current, expected[path]))
          result.drift.push({ path, kind: "changed", diff: describeDiff(path, current, expected[path]) });
      }
    }
    // extra: what the last generate wrote (its lock) and this spec no longer produces; other files
    // in the directory are the user's (with --out . that is the whole repository)
    for (const path of Object.keys(previous?.files ?? {})) {
      if (!(path in expected) && existsSync(join(root, path)))
        result.drift.push({ path, kind: "extra", diff: `${path}: not produced by this spec\n` });
    }
    result.drift.sort((a, b) => (a.path < b.path ? -1 : 1));
    return result;
  }

  // each file on disk is read once: what matches is left alone below, what differs is checked here
  const upToDate = new Set<string>();
  for (const [path, full] of targets) {
    if (path === LOCK_FILE || !existsSync(full)) continue;
    const current = readFileSync(full);
    const recorded = previous?.files[path];
    const differs = !same(current, expected[path]);
    if (!differs) upToDate.add(path);
    if (differs && recorded !== undefined && hash(current) !== recorded && !options.force)
      result.handEdited.push(path);
    if (differs && recorded === undefined && !options.force) result.handEdited.push(path);
  }
  const stale = previous ? Object.keys(previous.files).filter((p) => !(p in expected)) : [];
  for (const path of stale) {
    const full = join(root, path);
    if (existsSync(full) && hash(readFileSync(full)) !== previous?.files[path] && !options.force)
      result.handEdited.push(path);
  }
  if (result.handEdited.length > 0) {
    result.handEdited.sort();
    return result;
  }
  for (const [path, full] of targets) {
    if (path === LOCK_FILE) continue;
    if (upToDate.has(path)) result.unchanged.push(path);
    else {
      atomicWrite(full, expected[path]);
      result.written.push(path);
    }
  }
  for (const path of stale) {
    const full = safePath(root, path);
    if (existsSync(full)) {
      rmSync(full);
      result.removed.push(path);
    }
  }
  atomicWrite(targets.get(LOCK_FILE)!, expected[LOCK_FILE]);
  return result;
}
