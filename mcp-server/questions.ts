/**
 * The questions whose answers a plan must not guess: when a partial spec leaves them out, the server
 * asks (elicitation) or returns them. They are the interview's key questions (src/interview/
 * questions.ts, `key: true`): the same ids, prompts, help, kinds and choices.
 */

import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { defaultFor, QUESTIONS, type QuestionKind } from "../src/interview/questions.js";
import { getPath } from "../src/util/paths.js";
import { partialSpecProblems, problemResult } from "./context.js";

export interface Question {
  id: string;
  path: string;
  prompt: string;
  help: string;
  kind: QuestionKind;
  choices?: string[];
  /** the unit a number is read in when given without one */
  unit?: string;
  /**
   * true where leaving it blank would mean taking a guess (the schema's default, such as aws or
   * auto); false where blank has a meaning of its own (no budget, no framework, the mode's latency)
   */
  required: boolean;
}

export const KEY_QUESTIONS: readonly Question[] = QUESTIONS.filter((q) => q.key).map((q) => {
  const def = defaultFor(q, {});
  const question: Question = {
    id: q.id,
    path: q.path,
    prompt: q.prompt,
    help: q.help,
    kind: q.kind,
    required: q.kind !== "multi" && def !== null,
  };
  if (q.choices) question.choices = [...q.choices];
  if (q.unit) question.unit = q.unit;
  return question;
});

export function missingQuestions(raw: unknown): Question[] {
  return KEY_QUESTIONS.filter((q) => getPath(raw, q.path) == null);
}

/**
 * A partial spec's key questions still open, or, when a value it does give is wrong, its schema
 * problems as the tool's isError result: a wrong value is refused, a missing one is a question.
 */
export function openQuestions(
  raw: Record<string, unknown>,
): { ok: true; questions: Question[] } | { ok: false; result: CallToolResult } {
  const questions = missingQuestions(raw);
  const wrong = partialSpecProblems(
    raw,
    questions.map((q) => q.path),
  );
  return wrong.length > 0 ? { ok: false, result: problemResult(wrong) } : { ok: true, questions };
}
