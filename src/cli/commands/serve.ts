import { type Command, Option } from "commander";
import { SERVE_ENV } from "../../serve/config.js";
import { deviceOption, placementOption, workersOption } from "../inference-options.js";
import type { CliIo } from "../io.js";

export interface ServeFlags {
  models?: string;
  model: string[];
  config?: string;
  port: number;
  grpcPort?: number;
  host: string;
  device?: string;
  workers?: number;
  placement?: string;
  redis?: string;
  maxBatchSize?: number;
  maxQueueDelayMs?: number;
  watch?: boolean;
  adminToken?: string;
  token?: string;
}

export function registerServe(program: Command, io: CliIo): void {
  program
    .command("serve")
    .description(
      "run the reference serving core: ONNX models over the Open Inference Protocol v2, /v1/predictions and /metrics",
    )
    .option("--models <dir>", "model repository: <dir>/<name>/<version>/model.onnx (+ model.yaml)")
    .option(
      "--watch",
      "follow --models on disk: new, changed and removed versions load and retire without a restart",
    )
    .option(
      "--model <name=path.onnx>",
      "serve one ONNX file (repeatable)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .addOption(
      new Option("--config <file>", "serve.yaml (as generated in platform/serve.yaml)").env(SERVE_ENV.config),
    )
    .addOption(new Option("--port <n>", "HTTP port").default(8080).argParser((v) => Number(v)))
    .addOption(
      new Option(
        "--grpc-port <n>",
        "also serve the Open Inference Protocol over gRPC (inference.GRPCInferenceService) on this port",
      ).argParser((v) => Number(v)),
    )
    .addOption(new Option("--host <addr>", "bind address").default("127.0.0.1").env(SERVE_ENV.host))
    .addOption(deviceOption().env(SERVE_ENV.device))
    .addOption(workersOption())
    .addOption(placementOption())
    .option("--redis <url>", "online features from Redis (default: the embedded in-memory store)")
    .option(
      "--admin-token <token>",
      "bearer token for POST /v2/repository/models/{name}/load|unload|routing (or STACKWRIGHT_ADMIN_TOKEN; without one that API is disabled)",
    )
    .option(
      "--token <token>",
      "bearer token inference requests must carry (or STACKWRIGHT_TOKEN); health, readiness and /metrics stay open",
    )
    .addOption(
      new Option("--max-batch-size <n>", "dynamic batching: rows per batch").argParser((v) => Number(v)),
    )
    .addOption(
      new Option("--max-queue-delay-ms <ms>", "dynamic batching: longest wait for a batch to fill").argParser(
        (v) => Number(v),
      ),
    )
    .addHelpText(
      "after",
      '\nExamples:\n  $ stackwright serve --models ./models --port 8080\n  $ stackwright serve --models ./models --watch     # publish a version: mv models/.staging-3 models/fraud/3\n  $ stackwright serve --model fraud=model.onnx\n  $ STACKWRIGHT_ADMIN_TOKEN=$(openssl rand -hex 16) stackwright serve --models ./models   # enables the repository API\n  $ curl -s localhost:8080/v2/models/fraud/infer -d \'{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[0,0,0,0,0,0,0,0]}]}\'\n',
    )
    .action(async (flags: ServeFlags) => {
      const { runServe } = await import("./serve-actions.js");
      process.exitCode = await runServe(io, flags);
    });
}
