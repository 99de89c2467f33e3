import { type Command, Option } from "commander";
import { deviceOption, workersOption } from "../inference-options.js";
import type { CliIo } from "../io.js";

export interface ConsumeFlags {
  model?: string;
  config?: string;
  source: string;
  sink: string;
  deadLetter?: string;
  group: string;
  features?: string;
  maxBatch: number;
  maxWaitMs: number;
  metricsPort?: number;
  metricsHost: string;
  device: string;
  workers?: number;
  json?: boolean;
}

export function registerConsume(program: Command, io: CliIo): void {
  program
    .command("consume")
    .description(
      "streaming inference: events from Redis Streams, NATS JetStream or Kafka, results to a sink, bad records to a dead-letter destination",
    )
    .option("--model <name=path.onnx>", "the model to score with")
    .option("--config <file>", "serve.yaml (its first model) instead of --model")
    .requiredOption(
      "--source <url>",
      "redis://host:port/stream, nats://host:port/subject or kafka://broker:port/topic",
    )
    .requiredOption("--sink <url>", "where results go (same schemes)")
    .option("--dead-letter <url>", "where malformed events go, with the reason")
    .option("--group <name>", "consumer group (durable consumer)", "stackwright")
    .option("--features <list>", "feature names in the model's order (default: model.yaml, else f0..fN-1)")
    .addOption(
      new Option("--max-batch <n>", "events per micro-batch (also the in-flight bound)")
        .default(500)
        .argParser((v) => Number(v)),
    )
    .addOption(
      new Option("--max-wait-ms <ms>", "longest wait for a micro-batch")
        .default(200)
        .argParser((v) => Number(v)),
    )
    .addOption(new Option("--metrics-port <port>", "serve /metrics and /healthz").argParser((v) => Number(v)))
    .option("--metrics-host <addr>", "bind address of the metrics server (0.0.0.0 in a pod)", "127.0.0.1")
    .addOption(deviceOption("cpu"))
    .addOption(workersOption())
    .option("--json", "print a JSON summary when stopped")
    .addHelpText(
      "after",
      '\nEvents are {"id": ..., "features": {...}} (Redis: the entry field "data"; NATS, Kafka: the message value).\nSIGTERM/SIGINT drain the current micro-batch and stop.\n\nExample:\n  $ stackwright consume --model fraud=model.onnx --source redis://127.0.0.1:6379/events --sink redis://127.0.0.1:6379/scores --dead-letter redis://127.0.0.1:6379/dlq\n',
    )
    .action(async (flags: ConsumeFlags) => {
      const { runConsume } = await import("./consume-actions.js");
      process.exitCode = await runConsume(io, flags);
    });
}
