import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { buildMlp } from "../../src/serve/onnx-build.js";
import { BIN, ROOT, runCli, runCliAsync } from "../helpers/cli.js";

const MODEL = { layers: [4, 16, 1], sigmoid: true, seed: 3 };
let dir: string;
let modelPath: string;

async function query(sql: string): Promise<Array<Record<string, unknown>>> {
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  return (await con.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
}

function writeCsv(path: string, rows: number, bad = true): void {
  let csv = "id,f0,f1,f2,f3\n";
  for (let i = 0; i < rows; i++)
    csv += `r${i},${Math.sin(i).toFixed(4)},${Math.cos(i).toFixed(4)},${i % 7},${i % 3}\n`;
  if (bad) csv += "bad-1,1,2,x,4\nbad-2,1,,3,4\n,1,2,3,4\n";
  writeFileSync(path, csv);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sw-score-"));
  modelPath = join(dir, "model.onnx");
  writeFileSync(modelPath, buildMlp(MODEL));
});

describe("stackwright score", () => {
  it("scores CSV, Parquet and JSONL with predictions equal to single runs, keeping rejects with reasons", async () => {
    writeCsv(join(dir, "a.csv"), 3000);
    await query(
      `COPY (SELECT * FROM read_csv('${join(dir, "a.csv")}', header=true, all_varchar=true) WHERE f2 <> 'x' AND f1 IS NOT NULL AND id IS NOT NULL) TO '${join(dir, "a.parquet")}' (FORMAT parquet)`,
    );
    await query(
      `COPY (SELECT * FROM read_parquet('${join(dir, "a.parquet")}')) TO '${join(dir, "a.jsonl")}' (FORMAT json)`,
    );
    const session = await ort.InferenceSession.create(buildMlp(MODEL));
    for (const [input, out, rejected] of [
      ["a.csv", "out-csv", 3],
      ["a.parquet", "out-parquet", 0],
      ["a.jsonl", "out-jsonl", 0],
    ] as const) {
      const result = runCli([
        "score",
        "--model",
        `m=${modelPath}`,
        "--input",
        join(dir, input),
        "--output",
        join(dir, out),
        "--part-rows",
        "1000",
        "--json",
      ]);
      expect(result.code, result.stderr).toBe(rejected ? 1 : 0);
      const summary = JSON.parse(result.stdout);
      expect(summary.rows).toEqual({ scored: 3000, rejected });
      const rows = await query(
        `SELECT * FROM read_parquet('${join(dir, out, "parts", "*.parquet")}') ORDER BY id`,
      );
      expect(rows).toHaveLength(3000);
      expect(new Set(rows.map((r) => r.id)).size).toBe(3000);
      const sample = rows.find((r) => r.id === "r42")!;
      const expected = await session.run({
        input: new ort.Tensor(
          "float32",
          Float32Array.from([Math.sin(42), Math.cos(42), 42 % 7, 42 % 3].map((v) => Number(v.toFixed(4)))),
          [1, 4],
        ),
      });
      expect(sample.probability).toBeCloseTo((expected.output.data as Float32Array)[0], 5);
      expect(sample.model_version).toBe("1");
    }
    const rejects = await query(
      `SELECT * FROM read_json_auto('${join(dir, "out-csv", "rejects", "*.jsonl")}')`,
    );
    expect(rejects.map((r) => r.reason).sort()).toEqual([
      "feature f1 is null, not a finite number",
      'feature f2 is "x", not a finite number',
      "missing id",
    ]);
  });

  it("reads typed FLOAT/DOUBLE Parquet columns as stored, rejecting NULL, NaN and Infinity, rows in file order", async () => {
    const typed = join(dir, "typed.parquet");
    // f0 DOUBLE, f1 FLOAT (read without a cast), f2 INTEGER and f3 VARCHAR (cast); three bad rows
    await query(
      `COPY (SELECT 't' || i AS id, sin(i)::DOUBLE AS f0, cos(i)::FLOAT AS f1, (i % 7)::INTEGER AS f2, (i % 3)::VARCHAR AS f3 FROM range(2500) t(i)
        UNION ALL SELECT 'nan', 'NaN'::DOUBLE, 1, 1, '1'
        UNION ALL SELECT 'inf', 1, 'Infinity'::FLOAT, 1, '1'
        UNION ALL SELECT 'null', NULL, 1, 1, '1') TO '${typed}' (FORMAT parquet)`,
    );
    const out = join(dir, "out-typed");
    const result = runCli([
      "score",
      "--model",
      `m=${modelPath}`,
      "--input",
      typed,
      "--output",
      out,
      "--part-rows",
      "700",
      "--format",
      "jsonl",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout).rows).toEqual({ scored: 2500, rejected: 3 });
    // parts keep the file's row order (no ORDER BY is run: DuckDB preserves insertion order)
    const ids = readdirSync(join(out, "parts"))
      .sort()
      .flatMap((f) =>
        readFileSync(join(out, "parts", f), "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line).id),
      );
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => `t${i}`));
    const session = await ort.InferenceSession.create(buildMlp(MODEL));
    // rows from DuckDB arrive in chunks of 2,048: 2,047 and 2,048 sit on either side of a chunk
    // boundary inside one part (1,400-2,100), 2,100 starts the next part
    const scored = new Map(
      readdirSync(join(out, "parts")).flatMap((f) =>
        readFileSync(join(out, "parts", f), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))
          .map((r) => [r.id, r] as const),
      ),
    );
    for (const i of [0, 699, 700, 1234, 2047, 2048, 2099, 2100, 2499]) {
      const expected = await session.run({
        input: new ort.Tensor(
          "float32",
          Float32Array.from([Math.sin(i), Math.fround(Math.cos(i)), i % 7, i % 3]),
          [1, 4],
        ),
      });
      expect(scored.get(`t${i}`).probability, `row t${i}`).toBeCloseTo(
        (expected.output.data as Float32Array)[0],
        5,
      );
    }
    const rejects = readdirSync(join(out, "rejects"))
      .flatMap((f) =>
        readFileSync(join(out, "rejects", f), "utf8")
          .trim()
          .split("\n")
          .filter(Boolean),
      )
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => r.id).sort()).toEqual(["inf", "nan", "null"]);
    for (const r of rejects) expect(r.reason).toMatch(/^feature f[01] is .*, not a finite number$/);
  });

  it("refuses a location it cannot serve at argument parsing (exit 2) instead of writing a folder named after it", () => {
    writeCsv(join(dir, "u.csv"), 10, false);
    const work = mkdtempSync(join(tmpdir(), "sw-url-"));
    for (const [input, output, message] of [
      [
        join(dir, "u.csv"),
        "ftp://host/predictions/",
        /ftp:\/\/ is not a location score can read or write \(allowed: a local path, s3:\/\/, gs:\/\/, az:\/\/\)/,
      ],
      [join(dir, "u.csv"), "s3:///p", /expected s3:\/\/<bucket>\/<path>/],
      ["hdfs://nn/day.parquet", join(work, "out"), /hdfs:\/\/ is not a location/],
      [join(dir, "u.csv"), "az://acct", /expected az:\/\/<storage account>\/<container>\/<path>/],
      [
        join(dir, "u.csv"),
        "az://Not_An_Account/c/p",
        /storage account must be 3-24 lowercase letters and digits/,
      ],
    ] as const) {
      const result = runCli(["score", "--model", `m=${modelPath}`, "--input", input, "--output", output], {
        cwd: work,
      });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(readdirSync(work)).toEqual([]);
  });

  it("splits work by shard without overlap, also from JOB_COMPLETION_INDEX", async () => {
    writeCsv(join(dir, "s.csv"), 4500, false);
    const out = join(dir, "sharded");
    expect(
      runCli([
        "score",
        "--model",
        `m=${modelPath}`,
        "--input",
        join(dir, "s.csv"),
        "--output",
        out,
        "--part-rows",
        "500",
        "--shard",
        "0/2",
        "--format",
        "csv",
      ]).code,
    ).toBe(0);
    const second = runCli(
      [
        "score",
        "--model",
        `m=${modelPath}`,
        "--input",
        join(dir, "s.csv"),
        "--output",
        out,
        "--part-rows",
        "500",
        "--format",
        "csv",
      ],
      { env: { JOB_COMPLETION_INDEX: "1", SHARD_COUNT: "2" } },
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("shard 1/2");
    const rows = await query(
      `SELECT id, count(*) AS n FROM read_csv('${join(out, "parts", "*.csv")}', header=true) GROUP BY id`,
    );
    expect(rows).toHaveLength(4500);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    expect(
      runCli([
        "score",
        "--model",
        `m=${modelPath}`,
        "--input",
        join(dir, "s.csv"),
        "--output",
        out,
        "--shard",
        "2/2",
      ]).code,
    ).toBe(2);
  });

  it("survives kill -9 mid-run: restarted, every row is scored exactly once with the same predictions", async () => {
    writeCsv(join(dir, "big.csv"), 120_000, false);
    const scoreArgs = (output: string) => [
      "score",
      "--model",
      `m=${modelPath}`,
      "--input",
      join(dir, "big.csv"),
      "--output",
      output,
      "--part-rows",
      "4000",
      "--workers",
      "1",
    ];
    const clean = join(dir, "clean");
    expect((await runCliAsync(scoreArgs(clean))).code).toBe(0);
    const crashed = join(dir, "crashed");
    const child = spawn(process.execPath, [BIN, ...scoreArgs(crashed)], { cwd: ROOT, stdio: "ignore" });
    const partsDir = join(crashed, "parts");
    for (let i = 0; i < 300; i++) {
      if (existsSync(partsDir) && readdirSync(partsDir).filter((f) => f.endsWith(".parquet")).length >= 3)
        break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const before = readdirSync(partsDir).filter((f) => f.endsWith(".parquet")).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(30);
    const resumed = await runCliAsync([...scoreArgs(crashed), "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).parts.skipped).toBe(before);
    const diff = await query(
      `SELECT count(*) AS n, count(DISTINCT c.id) AS ids, sum(CASE WHEN c.probability = k.probability THEN 0 ELSE 1 END) AS mismatches FROM read_parquet('${join(crashed, "parts", "*.parquet")}') c JOIN read_parquet('${join(clean, "parts", "*.parquet")}') k USING (id)`,
    );
    expect(Number(diff[0].n)).toBe(120_000);
    expect(Number(diff[0].ids)).toBe(120_000);
    expect(Number(diff[0].mismatches)).toBe(0);
    expect(readdirSync(partsDir).some((f) => f.includes(".tmp-"))).toBe(false);
  });
});
