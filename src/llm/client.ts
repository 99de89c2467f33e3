/**
 * One entry point for every model call: replay from the record store when possible, otherwise ask
 * the provider (with retries on 429/5xx, a timeout and a token budget), then parse and validate the
 * answer against a zod schema. Any failure comes back as a reason, never as a thrown error: the
 * caller keeps the rules' answer.
 */
import { z } from "zod";
import {
  DEFAULT_MAX_OUTPUT_TOKENS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOKEN_BUDGET,
  type LlmOptions,
  modelId,
  type Provider,
  resolveProvider,
} from "./config.js";
import { type LlmRecord, RecordStore, recordKey } from "./records.js";

export type AskResult<T> =
  | { ok: true; value: T; source: "replay" | "live" }
  | { ok: false; reason: string; source: "none" | "live" | "replay" };

export interface AskInput<S extends z.ZodType> {
  purpose: string;
  system: string;
  prompt: string;
  schema: S;
}

export class LlmClient {
  readonly provider: Provider;
  readonly store: RecordStore;
  readonly usage = { inputTokens: 0, outputTokens: 0, liveCalls: 0, replayed: 0 };
  private readonly options: LlmOptions;
  private model: unknown;
  /**
   * Why the provider was given up on for the rest of this run: set by a timeout, a 5xx that outlived
   * the retries, or a connection failure. Later calls replay what they can and ask nothing, so one
   * dead endpoint costs one timeout, not one per question.
   */
  private givenUp: string | undefined;

  constructor(
    options: LlmOptions = {},
    records: readonly LlmRecord[] = [],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.options = options;
    this.provider = resolveProvider(options, env);
    this.store = new RecordStore(records);
  }

  /** true when a live model can be asked (records may still replay when false) */
  get live(): boolean {
    return this.provider.kind !== "none";
  }

  async ask<S extends z.ZodType>(input: AskInput<S>): Promise<AskResult<z.output<S>>> {
    const schemaJson = z.toJSONSchema(input.schema, { io: "input" });
    const key = recordKey(input.purpose, modelId(this.provider), input.system, input.prompt, schemaJson);
    if (!this.options.refresh) {
      const record = this.store.get(key);
      if (record) {
        const parsed = input.schema.safeParse(record.response);
        if (parsed.success) {
          this.usage.replayed++;
          return { ok: true, value: parsed.data, source: "replay" };
        }
      }
    }
    if (this.provider.kind === "none") return { ok: false, reason: this.provider.reason, source: "none" };
    if (this.givenUp) return { ok: false, reason: this.givenUp, source: "none" };
    const budget = this.options.tokenBudget ?? DEFAULT_TOKEN_BUDGET;
    if (this.usage.inputTokens + this.usage.outputTokens >= budget) {
      return {
        ok: false,
        reason: `token budget of ${budget} spent; raise it with --llm-token-budget`,
        source: "live",
      };
    }
    let text: string;
    let usage = { inputTokens: 0, outputTokens: 0 };
    try {
      const { generateText } = await import("ai");
      const result = await generateText({
        model: (await this.languageModel()) as Parameters<typeof generateText>[0]["model"],
        system: input.system,
        prompt: `${input.prompt}\n\nAnswer with one JSON object and nothing else, matching this JSON Schema:\n${JSON.stringify(schemaJson)}`,
        maxRetries: this.options.maxRetries ?? DEFAULT_MAX_RETRIES,
        maxOutputTokens: DEFAULT_MAX_OUTPUT_TOKENS,
        abortSignal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      text = result.text;
      usage = { inputTokens: result.usage.inputTokens ?? 0, outputTokens: result.usage.outputTokens ?? 0 };
    } catch (error) {
      const failure = describeError(error);
      if (!failure.providerDown) return { ok: false, reason: failure.reason, source: "live" };
      this.givenUp = `the provider was given up on earlier in this run (${failure.reason})`;
      return {
        ok: false,
        reason: `${failure.reason}; it is not asked again in this run, the rules decide the rest`,
        source: "live",
      };
    }
    this.usage.liveCalls++;
    this.usage.inputTokens += usage.inputTokens;
    this.usage.outputTokens += usage.outputTokens;
    const json = extractJson(text);
    if (json === undefined) return { ok: false, reason: "the answer was not JSON", source: "live" };
    const parsed = input.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        ok: false,
        reason: `the answer did not match the expected shape (${issue.path.join(".") || "answer"}: ${issue.message})`,
        source: "live",
      };
    }
    this.store.put({ key, purpose: input.purpose, model: modelId(this.provider), response: json, usage });
    return { ok: true, value: parsed.data, source: "live" };
  }

  private async languageModel(): Promise<unknown> {
    if (this.model) return this.model;
    const p = this.provider;
    if (p.kind === "anthropic") {
      const { createAnthropic } = await import("@ai-sdk/anthropic");
      this.model = createAnthropic({
        apiKey: p.apiKey,
        ...(p.baseUrl ? { baseURL: withV1(p.baseUrl) } : {}),
      })(p.model);
    } else if (p.kind === "openai-compatible") {
      const { createOpenAICompatible } = await import("@ai-sdk/openai-compatible");
      this.model = createOpenAICompatible({ name: "local", baseURL: p.baseUrl, apiKey: p.apiKey }).chatModel(
        p.model,
      );
    }
    return this.model;
  }

  /** one line for the end of a run: tokens spent live, answers replayed */
  summary(): string {
    const u = this.usage;
    return `LLM: ${u.liveCalls} live call(s), ${u.inputTokens} input + ${u.outputTokens} output tokens; ${u.replayed} answer(s) replayed from stackwright.lock.json`;
  }
}

/** ANTHROPIC_BASE_URL is documented without /v1 (https://api.anthropic.com); the SDK wants it with. */
function withV1(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith("/v1") ? trimmed : `${trimmed}/v1`;
}

/** The first JSON object in a reply, tolerating ```json fences and prose around it. */
export function extractJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const candidate = (fenced ? fenced[1] : text).trim();
  const start = candidate.indexOf("{");
  const end = candidate.lastIndexOf("}");
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(candidate.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

/**
 * A failed call in words, and whether it says the provider is down (a timeout, a 5xx after retries,
 * no connection) rather than that this one answer was unusable (a 4xx).
 */
function describeError(error: unknown): { reason: string; providerDown: boolean } {
  const e = error as {
    name?: string;
    message?: string;
    statusCode?: number;
    lastError?: { statusCode?: number };
  };
  if (e?.name === "TimeoutError" || e?.name === "AbortError" || /aborted|timeout/i.test(e?.message ?? "")) {
    return { reason: "the model did not answer in time", providerDown: true };
  }
  const status = e?.statusCode ?? e?.lastError?.statusCode;
  if (status) {
    return {
      reason: `the provider answered HTTP ${status} after retries`,
      providerDown: status >= 500 || status === 429,
    };
  }
  return {
    reason: `the model call failed: ${(e?.message ?? String(error)).split("\n")[0]}`,
    providerDown: true,
  };
}
