import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { DuckDBInstance } from "@duckdb/node-api";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ObjectStore, openObjectStore } from "../../src/serve/object-store.js";
import { buildMlp } from "../../src/serve/onnx-build.js";
import { parseLocation } from "../../src/util/object-location.js";
import { AZURITE_ACCOUNT, AZURITE_KEY, type Azurite, startAzurite } from "../helpers/azurite.js";
import { runCliAsync } from "../helpers/cli.js";

const MODEL = { layers: [4, 16, 1], sigmoid: true, seed: 5 };

let dir: string;
let modelPath: string;
let s3: S3rver;
let s3Endpoint: string;
let azurite: Azurite;
let azureEndpoint: string;

function csv(rows: number, offset: number): string {
  let text = "id,f0,f1,f2,f3\n";
  for (let i = offset; i < offset + rows; i++)
    text += `r${i},${Math.sin(i).toFixed(4)},${Math.cos(i).toFixed(4)},${i % 7},${i % 3}\n`;
  return `${text}bad-${offset},1,2,x,4\n`;
}

async function query(sql: string): Promise<Array<Record<string, unknown>>> {
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  return (await con.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
}

/** Every object under a prefix, downloaded into a folder (keys as paths). */
async function download(store: ObjectStore, prefix: string, to: string): Promise<string[]> {
  const keys = await store.list(prefix);
  for (const key of keys) {
    const file = join(to, key);
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, await store.get(key));
  }
  return keys;
}

const s3Env = () => ({
  AWS_ENDPOINT_URL_S3: s3Endpoint,
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_REGION: "us-east-1",
});
const gcsEnv = () => ({
  STACKWRIGHT_GCS_ENDPOINT: s3Endpoint,
  GCS_HMAC_ACCESS_ID: "S3RVER",
  GCS_HMAC_SECRET: "S3RVER",
});
const azureEnv = () => ({ AZURE_STORAGE_BLOB_ENDPOINT: azureEndpoint, AZURE_STORAGE_KEY: AZURITE_KEY });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sw-score-os-"));
  modelPath = join(dir, "model.onnx");
  writeFileSync(modelPath, buildMlp(MODEL));
  mkdirSync(join(dir, "local"));
  writeFileSync(join(dir, "local", "a.csv"), csv(1500, 0));
  writeFileSync(join(dir, "local", "b.csv"), csv(700, 5000));
  s3 = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: join(dir, "s3rver"),
    configureBuckets: [{ name: "scores", configs: [] }],
  });
  const address = await s3.run();
  s3Endpoint = `http://127.0.0.1:${address.port}`;
  azurite = await startAzurite(dir);
  azureEndpoint = azurite.endpoint;
  await new BlobServiceClient(azureEndpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY))
    .getContainerClient("data")
    .create();
}, 60_000);

afterAll(async () => {
  azurite?.stop();
  await s3?.close();
});

let localScores: Promise<Map<string, number>> | undefined;
/** The same files scored from a local folder (once): what every object store's run must equal. */
function scoreLocally(): Promise<Map<string, number>> {
  localScores ??= scoreFolder();
  return localScores;
}

async function scoreFolder(): Promise<Map<string, number>> {
  const out = join(dir, "local-out");
  const result = await runCliAsync([
    "score",
    "--model",
    `m=${modelPath}`,
    "--input",
    join(dir, "local", "*.csv"),
    "--output",
    out,
    "--part-rows",
    "500",
  ]);
  expect(result.code, result.stderr).toBe(1); // the bad rows are rejected
  const rows = await query(`SELECT id, probability FROM read_parquet('${join(out, "parts", "*.parquet")}')`);
  return new Map(rows.map((r) => [String(r.id), Number(r.probability)]));
}

describe.each([
  { scheme: "s3", root: "s3://scores/", env: s3Env },
  { scheme: "gs", root: "gs://scores/", env: gcsEnv },
  { scheme: "az", root: `az://${AZURITE_ACCOUNT}/data/`, env: azureEnv },
])("score with $scheme:// input and output", ({ scheme, root, env }) => {
  it("stages the input, uploads each part and its rejects, resumes from what the bucket holds", async () => {
    const store = await openObjectStore(parseLocation(root)!, { ...process.env, ...env() });
    const prefix = `${scheme}-run/`;
    for (const f of ["a.csv", "b.csv"])
      await store.put(`${prefix}input/day=1/${f}`, readFileSync(join(dir, "local", f)));
    await store.put(`${prefix}input/day=1/notes.txt`, new TextEncoder().encode("not matched by *.csv"));
    const args = [
      "score",
      "--model",
      `m=${modelPath}`,
      "--input",
      `${root}${prefix}input/*/*.csv`,
      "--output",
      `${root}${prefix}predictions/`,
      "--part-rows",
      "500",
      "--json",
    ];
    const first = await runCliAsync(args, { env: env() });
    expect(first.code, first.stderr).toBe(1);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({
      files: 2,
      rows: { scored: 2200, rejected: 2 },
      parts: { total: 6, scored: 6, skipped: 0 },
      output: `${root}${prefix}predictions/`,
    });
    const back = mkdtempSync(join(tmpdir(), "sw-back-"));
    const keys = await download(store, `${prefix}predictions/`, back);
    expect(keys.filter((k) => k.includes("/parts/"))).toHaveLength(6);
    expect(keys.filter((k) => k.includes("/rejects/"))).toHaveLength(6);
    expect(keys.some((k) => k.includes(".tmp-"))).toBe(false);
    const scored = await query(
      `SELECT id, probability FROM read_parquet('${join(back, prefix, "predictions", "parts", "*.parquet")}')`,
    );
    const local = await scoreLocally();
    expect(scored).toHaveLength(2200);
    for (const row of scored) expect(Number(row.probability)).toBe(local.get(String(row.id)));
    const rejects = readdirSync(join(back, prefix, "predictions", "rejects"))
      .flatMap((f) => readFileSync(join(back, prefix, "predictions", "rejects", f), "utf8").split("\n"))
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => r.file).sort()).toEqual([
      `${root}${prefix}input/day=1/a.csv`,
      `${root}${prefix}input/day=1/b.csv`,
    ]);

    // a part lost from the bucket is the one part the next run scores
    const lost = keys.find((k) => k.endsWith("part-0001-000000.parquet"))!;
    await removeObject(scheme, lost);
    const second = await runCliAsync(args, { env: env() });
    expect(second.code, second.stderr).toBe(0); // the lost part held no bad row
    expect(JSON.parse(second.stdout)).toMatchObject({
      parts: { scored: 1, skipped: 5 },
      rows: { scored: 500, rejected: 0 },
    });
    expect((await store.list(`${prefix}predictions/parts/`)).length).toBe(6);
  }, 120_000);
});

async function removeObject(scheme: string, key: string): Promise<void> {
  if (scheme === "az") {
    await new BlobServiceClient(azureEndpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY))
      .getContainerClient("data")
      .deleteBlob(key);
    return;
  }
  const client = new S3Client({
    region: "us-east-1",
    endpoint: s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await client.send(new DeleteObjectCommand({ Bucket: "scores", Key: key }));
}

describe("object-store credentials", () => {
  it("gs:// without an HMAC key says which variables to set (exit 2), before reading anything", async () => {
    const result = await runCliAsync(
      ["score", "--model", `m=${modelPath}`, "--input", "gs://scores/x/*.csv", "--output", join(dir, "o")],
      { env: { GCS_HMAC_ACCESS_ID: "", GCS_HMAC_SECRET: "" } },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain("GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET");
  });

  it("a wrong key is refused by the server, and nothing is written", async () => {
    const out = join(dir, "wrong-key");
    const result = await runCliAsync(
      [
        "score",
        "--model",
        `m=${modelPath}`,
        "--input",
        `az://${AZURITE_ACCOUNT}/data/s3-run/input/*/*.csv`,
        "--output",
        out,
      ],
      { env: { ...azureEnv(), AZURE_STORAGE_KEY: Buffer.from("not the key").toString("base64") } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/score: .*(403|authoriz|signature)/i);
    expect(() => readdirSync(out)).toThrow();
  });
});
