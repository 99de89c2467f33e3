/**
 * Which model, if any, advises. Anthropic by default (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL honoured);
 * any OpenAI-compatible server (llama.cpp, Ollama, vLLM) through --llm-base-url. Neither means rules
 * only: said once, plainly, never an error.
 */
export const DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-5";
export const DEFAULT_OPENAI_COMPATIBLE_MODEL = "local-model";
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_TOKEN_BUDGET = 200_000;
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_MAX_OUTPUT_TOKENS = 2_048;

export interface LlmOptions {
  model?: string;
  /** OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 */
  baseUrl?: string;
  /** ask again even where stackwright.lock.json has a recorded answer */
  refresh?: boolean;
  timeoutMs?: number;
  /** total input + output tokens this run may spend on live calls */
  tokenBudget?: number;
  maxRetries?: number;
}

export type Provider =
  | { kind: "anthropic"; model: string; apiKey: string; baseUrl?: string }
  | { kind: "openai-compatible"; model: string; baseUrl: string; apiKey?: string }
  | { kind: "none"; model: string; reason: string };

export function resolveProvider(options: LlmOptions, env: NodeJS.ProcessEnv = process.env): Provider {
  if (options.baseUrl) {
    return {
      kind: "openai-compatible",
      model: options.model ?? DEFAULT_OPENAI_COMPATIBLE_MODEL,
      baseUrl: options.baseUrl,
      apiKey: env.OPENAI_API_KEY || undefined,
    };
  }
  const apiKey = env.ANTHROPIC_API_KEY;
  if (apiKey) {
    return {
      kind: "anthropic",
      model: options.model ?? env.STACKWRIGHT_MODEL ?? DEFAULT_ANTHROPIC_MODEL,
      apiKey,
      baseUrl: env.ANTHROPIC_BASE_URL || undefined,
    };
  }
  return {
    kind: "none",
    model: options.model ?? env.STACKWRIGHT_MODEL ?? DEFAULT_ANTHROPIC_MODEL,
    reason:
      "no ANTHROPIC_API_KEY and no --llm-base-url: rules only (recorded answers in stackwright.lock.json are still replayed)",
  };
}

/**
 * The model a record is keyed by. Without a key it is still the configured model name, so a run
 * without credentials replays what that model answered before.
 */
export function modelId(provider: Provider): string {
  return provider.model;
}
