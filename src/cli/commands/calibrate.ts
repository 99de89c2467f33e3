import { type Command, InvalidArgumentError, Option } from "commander";
import { CALIBRATION_FILE } from "../../requirements/calibration.js";
import type { CliIo } from "../io.js";

export interface CalibrateFlags {
  model: string;
  device: string;
  threads: number;
  batchSizes?: number[];
  secondsPerBatch: number;
  out: string;
  json?: boolean;
}

function positiveInteger(flag: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`${flag} must be a whole number from 1 to ${max}, got "${value}"`);
    return n;
  };
}

function batchSizes(value: string): number[] {
  const parse = positiveInteger("each batch size", 65_536);
  return value.split(",").map((v) => parse(v.trim()));
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 600)
    throw new InvalidArgumentError(`--seconds-per-batch must be more than 0 and at most 600, got "${value}"`);
  return n;
}

export function registerCalibrate(program: Command, io: CliIo): void {
  program
    .command("calibrate")
    .description(
      `measure a model's throughput and latency on this machine through the serving core, at a range of batch sizes, into ${CALIBRATION_FILE} (plan sizes replicas from it)`,
    )
    .requiredOption("-m, --model <file.onnx>", "the ONNX model to measure")
    .addOption(
      new Option("--device <device>", "execution provider (auto: cuda, webgpu, then cpu)")
        .choices(["cpu", "cuda", "webgpu", "auto"])
        .default("cpu"),
    )
    .addOption(
      new Option("--threads <n>", "ONNX Runtime intra-op threads (the per-core figure divides by it)")
        .default(1)
        .argParser(positiveInteger("--threads", 256)),
    )
    .addOption(
      new Option("--batch-sizes <list>", "rows per run, comma-separated (default 1,2,4,...,256)").argParser(
        batchSizes,
      ),
    )
    .addOption(
      new Option(
        "--seconds-per-batch <s>",
        "timed runs per batch size last this long (at least 20 runs; 3 once a run takes over 2 s, which ends the sweep)",
      )
        .default(1)
        .argParser(seconds),
    )
    .option("-o, --out <file>", "where the calibration is written", CALIBRATION_FILE)
    .option("--json", "print the calibration as JSON instead of a table")
    .addHelpText(
      "after",
      `\nExit codes: 0 measured and written, 2 bad flags or a model that cannot run.\n\nExamples:\n  $ stackwright calibrate --model model.onnx --out examples/${CALIBRATION_FILE}\n  $ stackwright plan --spec examples/my-spec.yaml          # uses ${CALIBRATION_FILE} beside the spec\n  $ stackwright calibrate --model model.onnx --device cuda --batch-sizes 1,8,64,256\n`,
    )
    .action(async (flags: CalibrateFlags) => {
      const { runCalibrate } = await import("./calibrate-actions.js");
      process.exitCode = await runCalibrate(io, flags);
    });
}
