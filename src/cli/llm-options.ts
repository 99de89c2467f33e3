/** The LLM flags shared by every command that may ask the advisor. */
import { type Command, Option } from "commander";
import type { LlmOptions } from "../llm/config.js";

export const DEFAULT_LOCK = "stackwright-out/stackwright.lock.json";

export function addLlmOptions(command: Command): Command {
  return command
    .option("--model <name>", "model for the advisor (default: claude-sonnet-4-5, or $STACKWRIGHT_MODEL)")
    .option(
      "--llm-base-url <url>",
      "an OpenAI-compatible endpoint instead of Anthropic, e.g. http://127.0.0.1:8080/v1",
    )
    .option("--refresh-llm", "ask the model again even where the lock file has a recorded answer")
    .addOption(
      new Option("--llm-timeout <seconds>", "per-call time limit")
        .default(60)
        .argParser((v) => positive(v, "--llm-timeout")),
    )
    .addOption(
      new Option("--llm-token-budget <tokens>", "input + output tokens this run may spend")
        .default(200_000)
        .argParser((v) => positive(v, "--llm-token-budget")),
    );
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got "${value}"`);
  return n;
}

export interface LlmFlags {
  model?: string;
  llmBaseUrl?: string;
  refreshLlm?: boolean;
  llmTimeout: number;
  llmTokenBudget: number;
}

export function llmOptionsFrom(flags: LlmFlags): LlmOptions {
  return {
    model: flags.model,
    baseUrl: flags.llmBaseUrl,
    refresh: Boolean(flags.refreshLlm),
    timeoutMs: flags.llmTimeout * 1000,
    tokenBudget: flags.llmTokenBudget,
  };
}
