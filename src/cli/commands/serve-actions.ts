import { resolve } from "node:path";
import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import { readServeConfig } from "../serve-config-file.js";
import type { ServeFlags } from "./serve.js";

export async function runServe(io: CliIo, flags: ServeFlags): Promise<number> {
  const serve = (await import("../../serve/index.js" as string)) as typeof import("../../serve/index.js");
  // paths in serve.yaml are relative to the file
  const { config, dir: configDir } = readServeConfig(serve, flags.config);
  if (flags.device) config.device = flags.device as typeof config.device;
  if (flags.workers !== undefined) config.workers = flags.workers;
  if (flags.placement) config.placement = flags.placement as typeof config.placement;
  if (flags.maxBatchSize !== undefined) config.batching.maxBatchSize = flags.maxBatchSize;
  if (flags.maxQueueDelayMs !== undefined) config.batching.maxQueueDelayMs = flags.maxQueueDelayMs;
  for (const [flag, value] of [
    ["--port", flags.port],
    ["--grpc-port", flags.grpcPort],
    ["--workers", flags.workers],
    ["--max-batch-size", flags.maxBatchSize],
    ["--max-queue-delay-ms", flags.maxQueueDelayMs],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0))
      throw new UserError(`${flag} must be a non-negative number, got ${value}`);
  }
  if (flags.watch && !flags.models)
    throw new UserError("--watch follows a model repository", EXIT.usage, ["pass it with --models DIR"]);
  let sources: import("../../serve/index.js").VersionSource[] = [];
  try {
    if (flags.models) sources.push(...serve.scanRegistry(resolve(flags.models)));
    for (const m of flags.model) sources.push(serve.singleFile(m));
    sources.push(...serve.sourcesFromConfig(config.models, configDir));
  } catch (error) {
    if (error instanceof serve.RegistryError) throw new UserError(error.message);
    throw error;
  }
  sources = sources.filter(
    (s, i) => sources.findIndex((o) => o.name === s.name && o.version === s.version) === i,
  );
  if (sources.length === 0)
    throw new UserError("no models to serve", EXIT.usage, [
      "pass --models DIR, --model NAME=path.onnx or --config serve.yaml with models",
    ]);
  const log = (line: string) => io.err(`${line}\n`);
  let features: import("../../serve/features.js").FeatureStore;
  try {
    features = await serve.openFeatureStore(config, configDir, { redisUrl: flags.redis, log });
  } catch (error) {
    throw new UserError(`cannot open the feature store: ${(error as Error).message}`);
  }
  let started: Awaited<ReturnType<typeof serve.startServing>>;
  try {
    started = await serve.startServing({
      config,
      sources,
      modelsDir: flags.models ? resolve(flags.models) : undefined,
      host: flags.host,
      port: flags.port,
      features,
      log,
      // a token on the command line shows in `ps`: the environment is the better place
      adminToken: flags.adminToken || process.env.STACKWRIGHT_ADMIN_TOKEN || undefined,
      token: flags.token || process.env.STACKWRIGHT_TOKEN || undefined,
      grpcPort: flags.grpcPort,
    });
  } catch (error) {
    throw new UserError(`cannot start serving: ${(error as Error).message}`);
  }
  const threads = started.core.repository.workerThreads;
  log(
    `stackwright serve listening on ${started.url}${started.grpcPort !== undefined ? ` and gRPC ${flags.host}:${started.grpcPort}` : ""} (${threads ? `${threads} worker thread(s)` : "no worker threads: every model runs on the event loop"}, features: ${features.kind})`,
  );
  const watchRoot = flags.watch && flags.models ? resolve(flags.models) : undefined;
  const watcher = watchRoot
    ? serve.watchRegistry(watchRoot, (name) => started.core.syncModel(name), log)
    : undefined;
  if (watchRoot) log(`watching ${watchRoot} for new, changed and removed versions`);
  await new Promise<void>((done) => {
    process.once("SIGTERM", done);
    process.once("SIGINT", done);
  });
  watcher?.close();
  log("draining in-flight requests");
  await started.core.close();
  return EXIT.ok;
}
