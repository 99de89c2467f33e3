/**
 * The calibration a planning command sizes from: `--calibration FILE`, else stackwright.calibration.json
 * beside the spec, unless `--no-calibration`. A bad file is an error naming the field, never ignored.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { CALIBRATION_FILE, type Calibration, calibrationSchema } from "../requirements/calibration.js";
import { EXIT, schemaProblems, UserError } from "./errors.js";
import type { CliIo } from "./io.js";

/** commander's value: a path, false for --no-calibration, undefined when neither was given */
export type CalibrationFlag = string | boolean | undefined;

export function loadCalibration(path: string): Calibration {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      `cannot read calibration ${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`,
      EXIT.usage,
      ["write one with: stackwright calibrate --model model.onnx"],
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = calibrationSchema.safeParse(value);
  if (!parsed.success)
    throw new UserError(
      `${path} is not a stackwright calibration`,
      EXIT.usage,
      schemaProblems(parsed.error.issues),
    );
  return parsed.data;
}

/** --calibration FILE and --no-calibration, on every command that plans a spec. */
export function addCalibrationOptions<T extends Command>(command: T): T {
  command
    .option(
      "--calibration <file>",
      `measured throughput from stackwright calibrate (default: ${CALIBRATION_FILE} beside the spec, when present)`,
    )
    .option("--no-calibration", `ignore ${CALIBRATION_FILE} beside the spec: size from the estimate`);
  return command;
}

/** The calibration for a spec, said on stderr when one is used. */
export function calibrationFor(io: CliIo, specPath: string, flag: CalibrationFlag): Calibration | null {
  if (flag === false) return null;
  const explicit = typeof flag === "string";
  const path = explicit ? flag : join(dirname(specPath), CALIBRATION_FILE);
  if (!explicit && !existsSync(path)) return null;
  const calibration = loadCalibration(path);
  io.err(
    `capacity: using the calibration in ${path}${explicit ? "" : " (beside the spec; --no-calibration ignores it)"}\n`,
  );
  return calibration;
}
