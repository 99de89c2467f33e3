import { type Command, Option } from "commander";
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
  json?: boolean;
}

export function registerScore(program: Command, io: CliIo): void {
  program
    .command("score")
    .description(
      "batch scoring: Parquet/CSV/JSONL in (DuckDB), predictions out; resumable, shardable, rejects kept with reasons",
    )
    .option("--model <name=path.onnx>", "the model to score with")
    .option("--config <file>", "serve.yaml (its first model) instead of --model")
    .requiredOption("-i, --input <glob>", "input files, e.g. 'data/*.parquet'")
    .requiredOption("-o, --output <dir>", "output directory (parts/, rejects/)")
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
    .option("--json", "print a JSON summary")
    .addHelpText(
      "after",
      "\nExit codes: 0 all rows scored, 1 some rows rejected (see <output>/rejects/), 2 bad flags or input.\n\nExamples:\n  $ stackwright score --model fraud=model.onnx --input 'data/*.parquet' --output out/\n  $ stackwright score --config platform/serve.yaml --input day.csv --output out/ --format csv --shard 0/4\n",
    )
    .action(async (flags: ScoreFlags) => {
      const { runScore } = await import("./score-actions.js");
      process.exitCode = await runScore(io, flags);
    });
}
