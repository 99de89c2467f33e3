import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  draftSpec,
  formatReview,
  LlmClient,
  readLlmRecords,
  reviewPlan,
  writeLlmRecords,
} from "../../llm/index.js";
import { createPlan } from "../../plan/index.js";
import { formatProblem, writeSchemaBeside } from "../../requirements/index.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import { type LlmFlags, llmOptionsFrom } from "../llm-options.js";
import { loadSpecForCommand } from "../spec-input.js";

function saveRecords(client: LlmClient, lock: string): void {
  if (client.usage.liveCalls === 0) return;
  mkdirSync(dirname(lock), { recursive: true });
  writeLlmRecords(lock, [
    ...readLlmRecords(lock).filter((r) => !client.store.usedRecords().some((u) => u.key === r.key)),
    ...client.store.usedRecords(),
  ]);
}

export async function runDraft(
  io: CliIo,
  description: string,
  options: LlmFlags & { out: string; lock: string; yes?: boolean; force?: boolean },
): Promise<number> {
  if (existsSync(options.out) && !options.force) {
    throw new UserError(
      `${options.out} exists; pass --force to overwrite it or --out to choose another file`,
    );
  }
  const client = new LlmClient(llmOptionsFrom(options), readLlmRecords(options.lock));
  const result = await draftSpec(description, client);
  if (!result.ok) {
    if (!client.live && client.usage.replayed === 0) {
      throw new UserError(
        "draft needs a model",
        EXIT.usage,
        [
          client.provider.kind === "none" ? client.provider.reason : "",
          "set ANTHROPIC_API_KEY, or run a local OpenAI-compatible server and pass --llm-base-url; or use `stackwright interview`",
        ].filter(Boolean),
      );
    }
    throw new UserError(
      `no draft: ${result.reason}`,
      EXIT.findings,
      (result.problems ?? []).map(formatProblem),
    );
  }
  saveRecords(client, options.lock);
  writeFileAtomic(options.out, result.yaml);
  writeSchemaBeside(options.out);
  io.out(
    `wrote ${options.out}: ${result.assumed.length} assumed field(s)${result.assumed.length ? `: ${result.assumed.join(", ")}` : ""}\n`,
  );
  io.err(`${client.summary()}\n`);
  if (!options.yes && io.isTty) {
    try {
      const ui = (await import("../../interview/ui/index.js" as string)) as {
        runInterview: (o: Record<string, unknown>) => Promise<number>;
      };
      return await ui.runInterview({ from: options.out, out: options.out, io });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
    }
  }
  io.out(`next: review the assumed fields, then \`stackwright plan --spec ${options.out}\`\n`);
  return EXIT.ok;
}

export async function runReview(
  io: CliIo,
  options: LlmFlags & { spec: string; lock: string; json?: boolean },
): Promise<number> {
  const spec = await loadSpecForCommand(options.spec);
  const client = new LlmClient(llmOptionsFrom(options), readLlmRecords(options.lock));
  const answer = await reviewPlan(createPlan(spec), client);
  if (!answer.ok) {
    throw new UserError(`no review: ${answer.reason}`, client.live ? EXIT.findings : EXIT.usage, [
      "set ANTHROPIC_API_KEY, or run a local OpenAI-compatible server and pass --llm-base-url",
    ]);
  }
  saveRecords(client, options.lock);
  io.out(
    options.json
      ? `${JSON.stringify({ modelOutput: true, review: answer.value }, null, 2)}\n`
      : formatReview(answer.value),
  );
  io.err(`${client.summary()}\n`);
  return EXIT.ok;
}
