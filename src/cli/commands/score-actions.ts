import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import { resolveModelSource } from "../model-source.js";
import type { ScoreFlags } from "./score.js";

export async function runScore(io: CliIo, flags: ScoreFlags): Promise<number> {
  const serve = (await import("../../serve/index.js" as string)) as typeof import("../../serve/index.js");
  for (const [flag, value] of [
    ["--batch-size", flags.batchSize],
    ["--part-rows", flags.partRows],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new UserError(`${flag} must be a positive integer, got ${value}`);
  }
  const source = resolveModelSource(serve, flags);
  let shard: { index: number; count: number };
  try {
    shard = serve.parseShard(flags.shard);
  } catch (error) {
    throw new UserError((error as Error).message);
  }
  const tty = process.stderr.isTTY;
  let summary: import("../../serve/index.js").ScoreSummary;
  try {
    summary = await serve.scoreAnywhere({
      source,
      input: flags.input,
      output: flags.output,
      format: flags.format as "parquet",
      shard,
      features: flags.features
        ?.split(",")
        .map((f) => f.trim())
        .filter(Boolean),
      idColumn: flags.idColumn,
      batchSize: flags.batchSize,
      partRows: flags.partRows,
      device: flags.device,
      workers: flags.workers,
      onProgress: tty
        ? (done, total, rps) =>
            io.err(
              `\r  part ${done}/${total}  ${Math.round(rps).toLocaleString("en-US")} rows/s  ETA ${total > done ? Math.round(((total - done) * flags.partRows) / Math.max(rps, 1)) : 0}s   `,
            )
        : undefined,
    });
  } catch (error) {
    throw new UserError(`score: ${(error as Error).message}`);
  }
  if (tty) io.err("\n");
  if (flags.metricsPush) {
    // the scoring is done either way: a failed push is reported, and the run-missing alert notices it
    await serve.pushScoreMetrics(flags.metricsPush, summary, shard).catch((error: Error) => {
      io.err(`stackwright: score: could not push metrics to ${flags.metricsPush}: ${error.message}\n`);
    });
  }
  if (flags.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    io.out(
      `scored ${summary.rows.scored} rows with ${summary.model} v${summary.version} into ${summary.output} (${summary.parts.scored} part(s) scored, ${summary.parts.skipped} already done, shard ${shard.index}/${shard.count}) at ${summary.rowsPerSecond.toLocaleString("en-US")} rows/s; ${summary.rows.rejected} rejected\n`,
    );
  }
  return summary.rows.rejected > 0 ? EXIT.findings : EXIT.ok;
}
