import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import { resolveModelSource } from "../model-source.js";
import type { ConsumeFlags } from "./consume.js";

/** The whole shutdown's budget: the broker drain (serve.DRAIN_TIMEOUT_MS, 5 s) plus the pool and server. */
const SHUTDOWN_GRACE_MS = 10_000;

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
  const stop = () => {
    controller.abort();
    // the backstop behind the drain: every connection gets DRAIN_TIMEOUT_MS to close, the worker pool
    // and metrics server a few seconds more; a handle that outlives that (a broker client stuck
    // mid-read) must not keep a terminating pod past its grace period, so the process ends itself
    setTimeout(() => {
      io.err(`consume: still stopping ${SHUTDOWN_GRACE_MS} ms after the signal; exiting\n`);
      process.exit(EXIT.internal);
    }, SHUTDOWN_GRACE_MS).unref();
  };
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
