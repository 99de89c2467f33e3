/**
 * The interview as a pure state machine: answers in, next question (or done) out. The terminal UI,
 * the plain-prompt mode, --answers / --set and the tests all drive this same machine.
 */
import { type Problem, parseSpecValue, type Spec } from "../requirements/index.js";
import { setPath } from "../util/paths.js";
import { type Answers, defaultFor, QUESTIONS, type Question } from "./questions.js";

export interface InterviewState {
  answers: Answers;
  /** ids answered, in order (for back) */
  history: string[];
}

export function start(prefill: Answers = {}): InterviewState {
  return { answers: { ...prefill }, history: [] };
}

export function asked(state: InterviewState): Question[] {
  return QUESTIONS.filter((q) => !q.when || q.when(state.answers));
}

/** The next question to ask, or undefined when the interview is complete. */
export function next(state: InterviewState): Question | undefined {
  return asked(state).find((q) => !state.history.includes(q.id));
}

export function progress(state: InterviewState): { done: number; total: number } {
  const list = asked(state);
  return { done: list.filter((q) => state.history.includes(q.id)).length, total: list.length };
}

/** Turns typed text into a value for the question, or an error message. */
export function interpret(
  question: Question,
  input: string,
  answers: Answers,
): { value: unknown } | { error: string } {
  const text = input.trim();
  if (text === "") return { value: defaultFor(question, answers) };
  switch (question.kind) {
    case "number": {
      const n = Number(text.replace(/,/g, ""));
      if (Number.isFinite(n)) return { value: n };
      return { value: text }; // units ("50ms", "3k") are the schema's to parse and check
    }
    case "yesno":
      if (/^(y|yes|true)$/i.test(text)) return { value: true };
      if (/^(n|no|false)$/i.test(text)) return { value: false };
      return { error: "answer yes or no" };
    case "select": {
      const match = question.choices?.find((c) => c.toLowerCase() === text.toLowerCase());
      if (!match) return { error: `choose one of: ${question.choices?.join(", ")}` };
      if (question.path === "model.gpu") return { value: match === "auto" ? "auto" : match === "true" };
      return { value: match };
    }
    case "multi": {
      const items = text
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((s) => s.toLowerCase());
      const bad = items.filter((i) => !question.choices?.includes(i));
      if (bad.length)
        return { error: `unknown: ${bad.join(", ")}; allowed: ${question.choices?.join(", ")}` };
      return { value: [...new Set(items)] };
    }
    case "list":
      return {
        value: text
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      };
    case "fields":
      return {
        value: text
          .split(";")
          .map((s) => s.trim())
          .filter(Boolean)
          .map((entry) => {
            const [name, typed, ...rest] = entry.split(":").map((s) => s.trim());
            // type[min..max], either bound optional: int[0..23], float[0..]
            const range = /^([a-z]*)\[\s*(-?[\d.]+)?\s*\.\.\s*(-?[\d.]+)?\s*\]$/.exec(typed ?? "");
            const type = (range ? range[1] : typed) || "float";
            const field: Record<string, unknown> = { name, type, description: rest.join(":") };
            if (range?.[2] !== undefined) field.min = Number(range[2]);
            if (range?.[3] !== undefined) field.max = Number(range[3]);
            return field;
          }),
      };
    default:
      return { value: text };
  }
}

/** Nested spec document from path -> value answers. */
export function toDocument(answers: Answers): Record<string, unknown> {
  const doc: Record<string, unknown> = { apiVersion: "stackwright.dev/v1", kind: "Requirements" };
  // null is every nullable field's default (left for the plan to fill), so it is left out
  for (const [path, value] of Object.entries(answers))
    if (value !== undefined && value !== null) setPath(doc, path, value);
  if (!(doc.metadata as Record<string, unknown> | undefined)?.name)
    doc.metadata = { ...(doc.metadata as object), name: "my-model" };
  return doc;
}

/** Problems of the draft spec at a question's path (the schema's own messages). */
export function problemsAt(answers: Answers, path: string): Problem[] {
  const parsed = parseSpecValue(toDocument(answers));
  if (parsed.ok) return [];
  return parsed.problems.filter(
    (p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`),
  );
}

export type AnswerResult = { ok: true; state: InterviewState } | { ok: false; error: string };

/** Answers a question with typed text (units and lists as a person types them). */
export function answer(state: InterviewState, question: Question, input: string): AnswerResult {
  const interpreted = interpret(question, input, state.answers);
  if ("error" in interpreted) return { ok: false, error: interpreted.error };
  return answerValue(state, question, interpreted.value);
}

/** Answers a question with a value as a spec holds it (a seeded answer, a default). */
export function answerValue(state: InterviewState, question: Question, value: unknown): AnswerResult {
  const answers = { ...state.answers, [question.path]: value };
  const problems = problemsAt(answers, question.path);
  if (problems.length)
    return {
      ok: false,
      error: problems.map((p) => `${p.message}${p.allowed ? ` (allowed: ${p.allowed})` : ""}`).join("; "),
    };
  // answers to questions that are no longer asked are dropped (e.g. batch questions after switching to realtime)
  const nextState: InterviewState = {
    answers,
    history: [...state.history.filter((id) => id !== question.id), question.id],
  };
  for (const q of QUESTIONS) {
    if (q.when && !q.when(nextState.answers) && q.path in nextState.answers && !state.history.includes(q.id))
      delete nextState.answers[q.path];
  }
  return { ok: true, state: nextState };
}

/** Goes back one question, forgetting its answer. */
export function back(state: InterviewState): InterviewState {
  const history = state.history.slice(0, -1);
  const last = state.history.at(-1);
  const answers = { ...state.answers };
  const question = QUESTIONS.find((q) => q.id === last);
  if (question) delete answers[question.path];
  return { answers, history };
}

export function finish(
  state: InterviewState,
): { ok: true; spec: Spec; document: Record<string, unknown> } | { ok: false; problems: Problem[] } {
  const document = toDocument(state.answers);
  const parsed = parseSpecValue(document);
  return parsed.ok ? { ok: true, spec: parsed.spec, document } : { ok: false, problems: parsed.problems };
}

/** Answers that reproduce an existing spec document (for --from and the tests). */
export function answersFrom(document: Record<string, unknown>): Answers {
  const out: Answers = {};
  for (const q of QUESTIONS) {
    let node: unknown = document;
    for (const part of q.path.split("."))
      node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
    if (node !== undefined) out[q.path] = node;
  }
  return out;
}
