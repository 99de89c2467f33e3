import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import { resolveModelSource } from "../model-source.js";
import type { ConsumeFlags } from "./consume.js";

export async function runConsume(io: CliIo, flags: ConsumeFlags): Promise<number> {
  const serve = (await import("../../serve/index.js" as string)) as typeof import("../../serve/index.js");
  if (!Number.isInteger(flags.maxBatch) || flags.maxBatch < 1)
    throw new UserError(`--max-batch must be a positive integer, got ${flags.maxBatch}`);
  for (const url of [flags.source, flags.sink, flags.deadLetter].filter((u): u is string => Boolean(u))) {
    try {
      serve.parseStreamUrl(url);
    } catch (error) {
      throw new UserError((error as Error).message);
    }
  }
  const model = resolveModelSource(serve, flags);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  let summary: import("../../serve/index.js").ConsumeSummary;
  try {
    summary = await serve.consume({
      source: flags.source,
      sink: flags.sink,
      deadLetter: flags.deadLetter,
      group: flags.group,
      model,
      // PSI over the live events when the model ships reference histograms (serve.yaml's drift block)
      driftWindow: model.drift?.enabled === false ? undefined : (model.drift?.window ?? 1000),
      features: flags.features
        ?.split(",")
        .map((f) => f.trim())
        .filter(Boolean),
      maxBatch: flags.maxBatch,
      maxWaitMs: flags.maxWaitMs,
      device: flags.device,
      workers: flags.workers,
      metricsPort: flags.metricsPort,
      metricsHost: flags.metricsHost,
      signal: controller.signal,
      log: (line) => io.err(`${line}\n`),
    });
  } catch (error) {
    throw new UserError(`consume: ${(error as Error).message}`);
  }
  if (flags.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
  else
    io.out(
      `consumed ${summary.consumed}, produced ${summary.produced}, dead-lettered ${summary.deadLettered} in ${summary.batches} micro-batches\n`,
    );
  return EXIT.ok;
}
