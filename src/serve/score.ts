/**
 * Batch scoring: input files (Parquet, CSV, JSONL) read with embedded DuckDB, split into parts of a
 * fixed size, each part scored through the worker pool in batches and written atomically to
 * <output>/parts/. A part whose output exists is done, so a job killed at any moment and started
 * again scores every row exactly once. Shards (--shard I/N or JOB_COMPLETION_INDEX) take every Nth
 * part, so an Indexed Job scores the whole set in parallel without overlap.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { Batcher } from "./batcher.js";
import { binOf, psi } from "./drift.js";
import { WorkerExecutor } from "./execution.js";
import { WorkerPool } from "./pool.js";
import { predictionsOf } from "./predictions.js";
import type { VersionSource } from "./registry.js";

export const OUTPUT_FORMATS = ["parquet", "csv", "jsonl"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ScoreOptions {
  source: VersionSource;
  input: string;
  output: string;
  format: OutputFormat;
  shard: { index: number; count: number };
  features?: string[];
  idColumn: string;
  batchSize: number;
  partRows: number;
  device: string;
  workers?: number;
  onProgress?: (done: number, total: number, rowsPerSecond: number) => void;
  /** part files (parts/<name>) an earlier run already wrote somewhere else: done, not scored again */
  done?: ReadonlySet<string>;
  /** after each part: its rejects file, then its output file (the output marks the part done) */
  onPartWritten?: (files: { rejects: string; part: string }) => Promise<void>;
  /** how a reject names its input file (default: the path read) */
  describeFile?: (file: string) => string;
}

export interface ScoreSummary {
  model: string;
  version: string;
  files: number;
  parts: { total: number; shard: number; scored: number; skipped: number };
  rows: { scored: number; rejected: number };
  seconds: number;
  rowsPerSecond: number;
  output: string;
  /** PSI of this run's scored rows per feature against the model's reference (absent without one) */
  drift?: Record<string, number>;
}

const sql = (text: string) => `'${text.replace(/'/g, "''")}'`;
const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

function reader(file: string): string {
  if (file.endsWith(".parquet")) return `read_parquet(${sql(file)})`;
  if (file.endsWith(".csv")) return `read_csv(${sql(file)}, header = true)`;
  if (file.endsWith(".jsonl") || file.endsWith(".json") || file.endsWith(".ndjson"))
    return `read_json_auto(${sql(file)}, format = 'newline_delimited')`;
  throw new Error(`${file}: unsupported input format (parquet, csv, jsonl)`);
}

interface Part {
  id: string;
  file: string;
  start: number;
  end: number;
}

export async function score(options: ScoreOptions): Promise<ScoreSummary> {
  const started = performance.now();
  const { DuckDBInstance } = await import("@duckdb/node-api");
  // insertion order is kept (DuckDB's default, set here on purpose): a part's rows come back in file
  // order without an ORDER BY, which would sort every part's full-width rows. Reading is about a sixth
  // of the work and overlaps with inference, so DuckDB gets a quarter of the cores, not all of them:
  // on 2 cores, one DuckDB thread took score from 0.71 to 0.79 of the raw session.run limit.
  const db = await DuckDBInstance.create(":memory:", {
    preserve_insertion_order: "true",
    threads: String(Math.max(1, Math.floor(availableParallelism() / 4))),
  });
  const con = await db.connect();
  const files = (await con.runAndReadAll(`SELECT file FROM glob(${sql(options.input)}) ORDER BY file`))
    .getRowObjectsJson()
    .map((r) => String(r.file));
  if (files.length === 0) throw new Error(`no input files match ${options.input}`);
  const parts: Part[] = [];
  // each input is parsed once into a table with its row numbers (and its column types read once);
  // parts select ranges of it
  const tables = new Map<string, { table: string; types: Map<string, string> }>();
  for (const [f, file] of files.entries()) {
    // Parquet is read in place, part by part (row numbers come from the file; row groups outside a
    // part are skipped); text formats are parsed once into a table with their row numbers
    const table = file.endsWith(".parquet")
      ? `(SELECT *, file_row_number AS __row FROM read_parquet(${sql(file)}, file_row_number = true))`
      : `src_${f}`;
    if (!file.endsWith(".parquet")) {
      await con.run(
        `CREATE TABLE ${table} AS SELECT *, row_number() OVER () - 1 AS __row FROM ${reader(file)}`,
      );
    }
    const types = new Map(
      (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${table}`))
        .getRowObjectsJson()
        .map((r) => [String(r.column_name), String(r.column_type)]),
    );
    tables.set(file, { table, types });
    const count = Number(
      (await con.runAndReadAll(`SELECT count(*) AS c FROM ${table}`)).getRowObjectsJson()[0].c,
    );
    for (let start = 0, p = 0; start < count; start += options.partRows, p++) {
      parts.push({
        id: `${String(f).padStart(4, "0")}-${String(p).padStart(6, "0")}`,
        file,
        start,
        end: Math.min(count, start + options.partRows),
      });
    }
  }
  // shard I of N takes the I-th contiguous block of parts: its parts are read in one pass
  const from = Math.floor((options.shard.index * parts.length) / options.shard.count);
  const to = Math.floor(((options.shard.index + 1) * parts.length) / options.shard.count);
  const mine = parts.slice(from, to);
  const partsDir = join(options.output, "parts");
  const rejectsDir = join(options.output, "rejects");
  mkdirSync(partsDir, { recursive: true });
  mkdirSync(rejectsDir, { recursive: true });
  for (const dir of [partsDir, rejectsDir])
    for (const f of readdirSync(dir)) if (f.includes(".tmp-")) rmSync(join(dir, f));
  const outFile = (part: Part) => join(partsDir, `part-${part.id}.${options.format}`);
  const todo = mine.filter(
    (part) => !existsSync(outFile(part)) && !options.done?.has(basename(outFile(part))),
  );
  const fileName = options.describeFile ?? ((file: string) => file);

  // a throughput job: one single-threaded worker per core by default. Batches run side by side with
  // no intra-op barrier for the DuckDB reader to stall (bench/score: +6% over serve's latency-minded
  // default of one two-threaded worker per two cores)
  const pool = new WorkerPool(options.workers ?? availableParallelism());
  const summary: ScoreSummary = {
    model: options.source.name,
    version: options.source.version,
    files: files.length,
    parts: { total: parts.length, shard: mine.length, scored: 0, skipped: mine.length - todo.length },
    rows: { scored: 0, rejected: 0 },
    seconds: 0,
    rowsPerSecond: 0,
    output: options.output,
  };
  let streamCon: Awaited<ReturnType<typeof db.connect>> | undefined;
  try {
    const bytes = readFileSync(options.source.modelPath);
    let meta: Awaited<ReturnType<WorkerPool["loadOnDevice"]>>;
    try {
      meta = await pool.loadOnDevice("score", bytes, options.device);
    } catch (error) {
      throw new Error(`cannot load ${options.source.modelPath}: ${(error as Error).message}`);
    }
    const input = meta.inputs[0];
    const width = Number(input.shape?.[1] ?? 0);
    const features =
      options.features ?? options.source.meta.features ?? Array.from({ length: width }, (_, i) => `f${i}`);
    if (width && features.length !== width)
      throw new Error(`the model takes ${width} features; ${features.length} named (${features.join(", ")})`);
    const batcher = new Batcher(new WorkerExecutor(pool, "score"), {
      enabled: true,
      maxBatchSize: options.batchSize,
      maxQueueDelayMs: 0,
      maxQueue: Number.MAX_SAFE_INTEGER,
      // the next batch waits in the worker's queue while the current one runs: no idle gap between batches
      maxInflight: pool.size * 2,
    });
    let done = 0;
    // a contiguous run of parts (every part when not sharded) is one streaming query: each Parquet row
    // group is decoded once, not once per part that falls in it (a 10,000-row part of a 120,000-row
    // row group decoded the whole group). The stream has a connection of its own, since a query on
    // the same connection would close it; writes and reject lookups use `con`.
    const stream = await db.connect();
    streamCon = stream;
    const selectFor = (file: string) => {
      const { types } = tables.get(file)!;
      return [
        "__row",
        `CAST(${quoteIdent(options.idColumn)} AS VARCHAR) AS __id`,
        ...features.map((f, i) => {
          // typed, columnar read: DuckDB casts (TRY_CAST: a bad value becomes NULL and the row is
          // rejected); FLOAT and DOUBLE columns are read as they are stored (no cast per value)
          const type = types.get(f);
          if (type === undefined) return `NULL::DOUBLE AS __f${i}`;
          if (type === "FLOAT" || type === "DOUBLE") return `${quoteIdent(f)} AS __f${i}`;
          return `TRY_CAST(${quoteIdent(f)} AS DOUBLE) AS __f${i}`;
        }),
      ].join(", ");
    };
    type Chunk = Awaited<ReturnType<Awaited<ReturnType<typeof stream.stream>>["fetchChunk"]>>;
    interface Segment {
      chunk: NonNullable<Chunk>;
      from: number;
      to: number;
    }
    async function* readRun(
      run: Part[],
    ): AsyncGenerator<{ part: Part } & Awaited<ReturnType<typeof finish>>> {
      const file = run[0].file;
      const result = await stream.stream(
        `SELECT ${selectFor(file)} FROM ${tables.get(file)!.table} WHERE __row >= ${run[0].start} AND __row < ${run[run.length - 1].end}`,
      );
      let pending: { chunk: NonNullable<Chunk>; from: number } | undefined;
      for (const part of run) {
        const segments: Segment[] = [];
        for (let need = part.end - part.start; need > 0; ) {
          if (!pending) {
            const chunk = await result.fetchChunk();
            if (!chunk || chunk.rowCount === 0) break;
            pending = { chunk, from: 0 };
          }
          const take = Math.min(need, pending.chunk.rowCount - pending.from);
          segments.push({ chunk: pending.chunk, from: pending.from, to: pending.from + take });
          pending.from += take;
          need -= take;
          if (pending.from === pending.chunk.rowCount) pending = undefined;
        }
        const first = segments[0]
          ? Number(segments[0].chunk.getColumnVector(0).getItem(segments[0].from))
          : -1;
        if (first !== part.start)
          throw new Error(`${file}: expected row ${part.start} to start part ${part.id}, read row ${first}`);
        yield { part, ...(await finish(part, segments)) };
      }
    }
    // one part's rows: the good ones into one Float32Array (no per-row JS objects or arrays), the
    // bad ones rejected with a reason people can act on
    const finish = async (part: Part, segments: Segment[]) => {
      const { table, types } = tables.get(part.file)!;
      const missing = [options.idColumn, ...features].filter((c) => !types.has(c));
      const total = part.end - part.start;
      const data = new Float32Array(total * features.length);
      const good: Array<{ id: unknown; index: number }> = [];
      const rejects: string[] = [];
      const badRowNumbers: number[] = [];
      let filled = 0;
      for (const { chunk, from, to } of segments) {
        const rows = chunk.getColumnVector(0);
        const ids = chunk.getColumnVector(1);
        const vectors = features.map((_, i) => chunk.getColumnVector(2 + i));
        // column by column: a row is bad when a feature is NULL (a failed cast) or not finite
        const bad = new Uint8Array(to);
        for (const vector of vectors) {
          const items = denseNumbers(vector);
          if (items) {
            for (let r = from; r < to; r++) if (!Number.isFinite(items[r])) bad[r] = 1;
          } else {
            for (let r = from; r < to; r++) {
              const v = vector.getItem(r) as number | null;
              if (v === null || !Number.isFinite(v)) bad[r] = 1;
            }
          }
        }
        // rows kept, in order, and where each lands in the part's Float32Array
        const target = new Int32Array(to).fill(-1);
        for (let r = from; r < to; r++) {
          const id = ids.getItem(r);
          if (id === null || id === undefined || String(id) === "") {
            const rowNumber = Number(rows.getItem(r));
            rejects.push(
              JSON.stringify({
                row: rowNumber,
                file: fileName(part.file),
                reason: `missing ${options.idColumn}`,
              }),
            );
          } else if (bad[r]) badRowNumbers.push(Number(rows.getItem(r)));
          else {
            target[r] = filled;
            good.push({ id: String(id), index: filled++ });
          }
        }
        const width = vectors.length;
        vectors.forEach((vector, f) => {
          const items = denseNumbers(vector);
          for (let r = from; r < to; r++) {
            const at = target[r];
            if (at >= 0) data[at * width + f] = items ? items[r] : (vector.getItem(r) as number);
          }
        });
      }
      if (badRowNumbers.length) {
        // the raw values of rejected rows, for a reason people can act on
        const raw = (
          await con.runAndReadAll(
            `SELECT * FROM ${table} WHERE __row IN (${badRowNumbers.join(", ")}) ORDER BY __row`,
          )
        ).getRowObjectsJson() as Array<Record<string, unknown>>;
        for (const row of raw) {
          const name =
            missing.find((m) => m !== options.idColumn) ??
            features.find((f) => {
              const v = row[f];
              return v === null || v === undefined || v === "" || !Number.isFinite(Number(v));
            });
          const reason = missing.includes(name ?? "")
            ? `missing feature ${name}`
            : `feature ${name} is ${JSON.stringify(row[name ?? ""] ?? null)}, not a finite number`;
          rejects.push(JSON.stringify({ id: row[options.idColumn], file: fileName(part.file), reason }));
        }
      }
      return { good, rejects, data };
    };
    // contiguous runs of the parts still to do, in order
    const runs: Part[][] = [];
    for (const part of todo) {
      const last = runs.at(-1)?.at(-1);
      if (last && last.file === part.file && last.end === part.start) runs.at(-1)!.push(part);
      else runs.push([part]);
    }
    const reading = (async function* () {
      for (const run of runs) yield* readRun(run);
    })();
    const columnsPerRow = features.length;
    // input drift of the run: histograms over the reference's bins of every stride-th scored row (a
    // uniform sample of about 100,000 rows is plenty for PSI and keeps the cost off the scoring path)
    const reference = options.source.meta.reference ?? {};
    const watched = features.flatMap((f, i) =>
      reference[f] ? [{ feature: f, column: i, ref: reference[f] }] : [],
    );
    const counts = watched.map((w) => new Array<number>(w.ref.fractions.length).fill(0));
    const totalRows = todo.reduce((n, p) => n + (p.end - p.start), 0);
    const stride = Math.max(1, Math.ceil(totalRows / 100_000));
    // reading the next part (DuckDB, its own thread) overlaps with scoring this one (worker threads)
    let next = reading.next();
    for (const part of todo) {
      const read = await next;
      if (read.done || read.value.part !== part) throw new Error(`part ${part.id} was not read in order`);
      const { good, rejects, data: rowsData } = read.value;
      next = reading.next();
      for (let r = 0; r < good.length; r += stride)
        watched.forEach((w, k) => {
          counts[k][binOf(rowsData[r * columnsPerRow + w.column], w.ref.edges)]++;
        });
      const results: string[] = [];
      const chunks: Array<Promise<void>> = [];
      for (let i = 0; i < good.length; i += options.batchSize) {
        const chunk = good.slice(i, i + options.batchSize);
        // good rows are contiguous in rowsData, in order: a chunk is a view, not a copy
        const data = rowsData.subarray(
          chunk[0].index * columnsPerRow,
          (chunk[0].index + chunk.length) * columnsPerRow,
        );
        chunks.push(
          batcher
            .submit(chunk.length, { [input.name]: { type: "float32", rowDims: [features.length], data } })
            .then((outputs) => {
              predictionsOf(outputs).forEach((p, j) => {
                results[i + j] = JSON.stringify({
                  id: chunk[j].id,
                  ...p,
                  model_version: options.source.version,
                });
              });
            }),
        );
      }
      await Promise.all(chunks);
      // the rejects first: the part's output is what marks it done
      const rejectFile = join(rejectsDir, `part-${part.id}.jsonl`);
      writeFileAtomic(rejectFile, rejects.length ? `${rejects.join("\n")}\n` : "");
      await writePart(con, outFile(part), results, options.format);
      await options.onPartWritten?.({ rejects: rejectFile, part: outFile(part) });
      summary.rows.scored += good.length;
      summary.rows.rejected += rejects.length;
      summary.parts.scored++;
      done++;
      const seconds = (performance.now() - started) / 1000;
      options.onProgress?.(done, todo.length, summary.rows.scored / Math.max(seconds, 1e-6));
    }
    if (watched.length && summary.rows.scored > 0)
      summary.drift = Object.fromEntries(
        watched.map((w, k) => {
          const n = counts[k].reduce((a, b) => a + b, 0);
          return [
            w.feature,
            Math.round(
              psi(
                w.ref.fractions,
                counts[k].map((c) => c / n),
              ) * 1e6,
            ) / 1e6,
          ];
        }),
      );
  } finally {
    await pool.close();
    streamCon?.closeSync?.();
    con.closeSync?.();
  }
  summary.seconds = Math.round(((performance.now() - started) / 1000) * 1000) / 1000;
  summary.rowsPerSecond = Math.round(summary.rows.scored / Math.max(summary.seconds, 1e-6));
  return summary;
}

/**
 * The values of a FLOAT or DOUBLE column vector with no NULLs as one typed array, read without a call per
 * value; undefined when the vector is not that (then values are read with getItem). It looks at
 * @duckdb/node-api's vector fields (items, validity.data: null when every value is valid), so it is
 * guarded to fall back to the public getItem if a release lays them out differently.
 */
function denseNumbers(vector: unknown): Float32Array | Float64Array | undefined {
  const v = vector as { items?: unknown; validity?: { data?: unknown } };
  if (v.validity?.data !== null) return undefined;
  return v.items instanceof Float64Array || v.items instanceof Float32Array ? v.items : undefined;
}

async function writePart(
  con: { run(sql: string): Promise<unknown> },
  file: string,
  lines: string[],
  format: OutputFormat,
): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const jsonl = `${file}.tmp-${process.pid}.jsonl`;
  writeFileSync(jsonl, lines.length ? `${lines.join("\n")}\n` : "");
  if (format === "jsonl") renameSync(jsonl, tmp);
  else {
    const select = lines.length
      ? `SELECT * FROM read_json_auto(${sql(jsonl)}, format = 'newline_delimited', columns = {'id': 'VARCHAR', 'prediction': 'INTEGER', 'probability': 'DOUBLE', 'model_version': 'VARCHAR'})`
      : "SELECT NULL::VARCHAR AS id, NULL::INTEGER AS prediction, NULL::DOUBLE AS probability, NULL::VARCHAR AS model_version WHERE false";
    await con.run(
      `COPY (${select}) TO ${sql(tmp)} (FORMAT ${format === "csv" ? "csv, HEADER true" : "parquet"})`,
    );
    rmSync(jsonl);
  }
  renameSync(tmp, file);
}

export function parseShard(
  text: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { index: number; count: number } {
  if (text) {
    const m = /^(\d+)\/(\d+)$/.exec(text);
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]))
      throw new Error(`--shard ${text}: expected I/N with 0 <= I < N`);
    return { index: Number(m[1]), count: Number(m[2]) };
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const count = Number(env.SHARD_COUNT ?? env.JOB_COMPLETIONS ?? 1);
    const index = Number(env.JOB_COMPLETION_INDEX);
    if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count)
      throw new Error(`JOB_COMPLETION_INDEX ${index} is outside 0..${count - 1} (set SHARD_COUNT)`);
    return { index, count };
  }
  return { index: 0, count: 1 };
}
