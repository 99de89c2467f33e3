/**
 * score over object stores: an input in a bucket is staged in a local folder first (DuckDB reads local
 * files; no httpfs extension is downloaded), an output in a bucket is written locally part by part and
 * each part uploaded as soon as it is written, rejects first, so a job killed at any moment resumes
 * from the parts the bucket already holds. Local paths pass through unchanged.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { formatLocation, parseLocation } from "../util/object-location.js";
import { keyMatcher, type ObjectStore, openObjectStore } from "./object-store.js";
import { type ScoreOptions, type ScoreSummary, score } from "./score.js";

export interface RemoteScoreOptions extends Omit<ScoreOptions, "done" | "onPartWritten" | "describeFile"> {
  env?: NodeJS.ProcessEnv;
  /** called once per staged input object */
  onStaged?: (url: string, bytes: number) => void;
}

export async function scoreAnywhere(options: RemoteScoreOptions): Promise<ScoreSummary> {
  const env = options.env ?? process.env;
  const inLoc = parseLocation(options.input);
  const outLoc = parseLocation(options.output);
  if (!inLoc && !outLoc) return score({ ...options, output: resolve(options.output) });
  const stage = mkdtempSync(join(tmpdir(), "stackwright-score-"));
  try {
    let input = options.input;
    const names = new Map<string, string>();
    if (inLoc) {
      const store = await openObjectStore(inLoc, env);
      const { prefix, matches } = keyMatcher(inLoc.key);
      const keys = (await store.list(prefix)).filter(matches);
      if (keys.length === 0) throw new Error(`no input objects match ${options.input}`);
      // keys keep their path below the pattern's fixed prefix, so the staged files sort as the keys do
      // and part ids (file index, part index) are the same on every run
      const base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
      const dir = join(stage, "input");
      for (const key of keys) {
        const local = join(dir, key.slice(base.length));
        mkdirSync(dirname(local), { recursive: true });
        const body = await store.get(key);
        writeFileSync(local, body);
        names.set(local, formatLocation(inLoc, key));
        options.onStaged?.(formatLocation(inLoc, key), body.byteLength);
      }
      input = join(dir, "**");
    }
    let output = resolve(options.output);
    let done: Set<string> | undefined;
    let upload: ScoreOptions["onPartWritten"];
    if (outLoc) {
      const store = await openObjectStore(outLoc, env);
      const root = outLoc.key === "" || outLoc.key.endsWith("/") ? outLoc.key : `${outLoc.key}/`;
      output = join(stage, "output");
      done = new Set((await store.list(`${root}parts/`)).map((k) => basename(k)));
      upload = async (files) => {
        await put(store, `${root}rejects/${basename(files.rejects)}`, files.rejects);
        await put(store, `${root}parts/${basename(files.part)}`, files.part);
      };
    }
    const summary = await score({
      ...options,
      input,
      output,
      done,
      onPartWritten: upload,
      describeFile: (file) => names.get(file) ?? file,
    });
    return { ...summary, output: outLoc ? formatLocation(outLoc) : summary.output };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Uploads a staged file and removes it: the stage holds one part at a time, not the whole output. */
async function put(store: ObjectStore, key: string, file: string): Promise<void> {
  await store.put(key, readFileSync(file));
  rmSync(file);
}
