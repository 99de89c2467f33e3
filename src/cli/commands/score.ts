import { type Command, InvalidArgumentError, Option } from "commander";
import { parseLocation } from "../../util/object-location.js";
import { deviceOption, workersOption } from "../inference-options.js";
import type { CliIo } from "../io.js";

export interface ScoreFlags {
  model?: string;
  config?: string;
  input: string;
  output: string;
  format: string;
  shard?: string;
  features?: string;
  idColumn: string;
  batchSize: number;
  partRows: number;
  device: string;
  workers?: number;
  metricsPush?: string;
  json?: boolean;
}

/** A local path, or an object-store URL whose scheme score serves: refused at parsing otherwise. */
function location(value: string): string {
  try {
    parseLocation(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

function httpUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !["http:", "https:"].includes(url.protocol))
    throw new InvalidArgumentError(`${value} is not an http:// or https:// URL`);
  return value;
}

export function registerScore(program: Command, io: CliIo): void {
  program
    .command("score")
    .description(
      "batch scoring: Parquet/CSV/JSONL in (DuckDB), predictions out; resumable, shardable, rejects kept with reasons",
    )
    .option("--model <name=path.onnx>", "the model to score with")
    .option("--config <file>", "serve.yaml (its first model) instead of --model")
    .addOption(
      new Option(
        "-i, --input <glob>",
        "input files: a local glob or s3://, gs://, az://account/container/ keys",
      )
        .makeOptionMandatory()
        .argParser(location),
    )
    .addOption(
      new Option(
        "-o, --output <dir>",
        "output folder (parts/, rejects/): a local path or an object-store prefix",
      )
        .makeOptionMandatory()
        .argParser(location),
    )
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["parquet", "csv", "jsonl"])
        .default("parquet"),
    )
    .option(
      "--shard <I/N>",
      "score every Nth part starting at I (default: JOB_COMPLETION_INDEX with SHARD_COUNT, else all)",
    )
    .option(
      "--features <list>",
      "input columns in the model's order (default: model.yaml features, else f0..fN-1)",
    )
    .option("--id-column <name>", "column copied to the output", "id")
    .addOption(
      new Option("--batch-size <rows>", "rows per model call").default(1024).argParser((v) => Number(v)),
    )
    .addOption(
      new Option("--part-rows <rows>", "rows per checkpointed output part")
        .default(50_000)
        .argParser((v) => Number(v)),
    )
    .addOption(deviceOption("cpu"))
    .addOption(workersOption("one per core, one ONNX Runtime thread each"))
    .addOption(
      new Option(
        "--metrics-push <url>",
        "push the run's metrics (rows, rejects, duration, input drift) to this Prometheus Pushgateway when it ends",
      ).argParser(httpUrl),
    )
    .option("--json", "print a JSON summary")
    .addHelpText(
      "after",
      "\nExit codes: 0 all rows scored, 1 some rows rejected (see <output>/rejects/), 2 bad flags or input.\n\nExamples:\n  $ stackwright score --model fraud=model.onnx --input 'data/*.parquet' --output out/\n  $ stackwright score --config platform/serve.yaml --input day.csv --output out/ --format csv --shard 0/4\n  $ stackwright score --config platform/serve.yaml --input 's3://bucket/input/*' --output s3://bucket/predictions/\n\nObject stores (credentials from the environment, as each cloud's tools read them):\n  s3://bucket/key         AWS SDK default chain; AWS_ENDPOINT_URL_S3 for an S3-compatible server\n  gs://bucket/key         HMAC key of the service account: GCS_HMAC_ACCESS_ID, GCS_HMAC_SECRET\n  az://account/container/key   AZURE_STORAGE_KEY, else DefaultAzureCredential (workload identity)\n",
    )
    .action(async (flags: ScoreFlags) => {
      const { runScore } = await import("./score-actions.js");
      process.exitCode = await runScore(io, flags);
    });
}
