/** What every interview mode shares: prefill, writing the spec, and the summary. */
import { existsSync, readFileSync } from "node:fs";
import { load } from "js-yaml";
import { stringify } from "yaml";
import { createPlan, type Plan } from "../plan/index.js";
import { SPEC_SCHEMA_COMMENT, writeSchemaBeside } from "../requirements/json-schema.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { answer, answersFrom, answerValue, finish, type InterviewState, next, start } from "./machine.js";
import { type Answers, defaultFor } from "./questions.js";

export interface InterviewOptions {
  from?: string;
  answers?: string;
  set?: string[];
  out?: string;
  yes?: boolean;
}

export class InterviewError extends Error {}

function readYaml(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new InterviewError(`${path}: no such file`);
  const value = load(readFileSync(path, "utf8"));
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new InterviewError(`${path} is not a YAML mapping`);
  return value as Record<string, unknown>;
}

/** Answers from --from (a spec), --answers (a spec-shaped or path: value file) and --set path=value. */
export function prefill(options: InterviewOptions): Answers {
  const answers: Answers = {};
  if (options.from) Object.assign(answers, answersFrom(readYaml(options.from)));
  if (options.answers) {
    const file = readYaml(options.answers);
    const flat = Object.keys(file).some((k) => k.includes("."));
    Object.assign(answers, flat ? file : answersFrom(file));
  }
  for (const set of options.set ?? []) {
    const eq = set.indexOf("=");
    if (eq <= 0) throw new InterviewError(`--set ${set}: expected path=value`);
    answers[set.slice(0, eq)] = load(set.slice(eq + 1));
  }
  return answers;
}

/**
 * Runs the machine over seeded answers, taking defaults for the rest; errors name the path. Values
 * as a spec holds them are answered as they are (so a list or a description with ";" survives);
 * text (from --set) is read as typed.
 */
export function answerAll(prefilled: Answers): InterviewState {
  let state = start(prefilled);
  for (let q = next(state); q; q = next(state)) {
    const value = defaultFor(q, state.answers);
    const typed = typeof value === "string" && q.kind !== "text" && q.kind !== "select";
    const result = typed ? answer(state, q, value) : answerValue(state, q, value);
    if (!result.ok) throw new InterviewError(`${q.path}: ${result.error}`);
    state = result.state;
  }
  return state;
}

export function specYaml(document: Record<string, unknown>): string {
  return `# ${SPEC_SCHEMA_COMMENT}\n${stringify(document, { lineWidth: 0 })}`;
}

/** Writes the spec (atomically) and, beside it, the JSON Schema its $schema comment names. */
export function writeSpec(path: string, document: Record<string, unknown>): void {
  writeFileAtomic(path, specYaml(document));
  writeSchemaBeside(path);
}

export function planOf(state: InterviewState): { plan?: Plan; error?: string } {
  const done = finish(state);
  if (!done.ok) return { error: done.problems.map((p) => `${p.path}: ${p.message}`).join("; ") };
  return { plan: createPlan(done.spec) };
}

export { finish };
