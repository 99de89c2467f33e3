import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { calibrationMachine } from "../../requirements/calibration.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import type { CalibrateFlags } from "./calibrate.js";

export async function runCalibrate(io: CliIo, flags: CalibrateFlags): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(flags.model));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      `cannot read --model ${flags.model}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`,
    );
  }
  const { calibrateModel, CalibrationError, DEFAULT_BATCH_SIZES } = (await import(
    "../../serve/calibrate.js" as string
  )) as typeof import("../../serve/calibrate.js");
  let calibration: Awaited<ReturnType<typeof calibrateModel>>;
  try {
    calibration = await calibrateModel({
      bytes,
      file: flags.model,
      device: flags.device,
      threads: flags.threads,
      batchSizes: flags.batchSizes ?? DEFAULT_BATCH_SIZES,
      millisecondsPerBatch: flags.secondsPerBatch * 1000,
      now: new Date(),
      progress: (line) => io.err(`calibrate: ${line}\n`),
    });
  } catch (error) {
    if (error instanceof CalibrationError) throw new UserError(error.message, EXIT.usage);
    throw error;
  }
  const out = resolve(flags.out);
  writeFileAtomic(out, `${JSON.stringify(calibration, null, 2)}\n`);
  if (flags.json) {
    io.out(`${JSON.stringify(calibration, null, 2)}\n`);
    return EXIT.ok;
  }
  const perCore = calibration.device === "cpu";
  const header = ["rows", "runs", "p50 ms", "p99 ms", "rows/s", ...(perCore ? ["rows/s per core"] : [])];
  const rows = calibration.batches.map((b) => [
    String(b.rows),
    String(b.runs),
    String(b.p50Ms),
    String(b.p99Ms),
    String(Math.round(b.rowsPerSecond)),
    ...(perCore ? [String(Math.round(b.rowsPerSecondPerCore ?? 0))] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c.padStart(widths[i])).join("  ")}\n`;
  io.out(`measured on ${calibrationMachine(calibration)} (${calibration.device})\n`);
  io.out(line(header));
  for (const r of rows) io.out(line(r));
  io.out(`written to ${out}: stackwright plan uses it when it lies beside the spec, or with --calibration\n`);
  return EXIT.ok;
}
