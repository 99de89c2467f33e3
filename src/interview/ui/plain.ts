/** The interview without a TTY: one plain prompt per line on stdout, answers read from stdin. */
import { createInterface } from "node:readline";
import { answer, answerValue, type InterviewState, next, progress, start } from "../machine.js";
import { type Answers, defaultFor } from "../questions.js";

export async function plainInterview(
  write: (text: string) => void,
  input: NodeJS.ReadableStream = process.stdin,
  prefill: Answers = {},
): Promise<InterviewState> {
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  // seeded answers (--from) are each question's default: an empty line keeps them
  let state = start(prefill);
  for (let q = next(state); q; q = next(state)) {
    const { done, total } = progress(state);
    const def = defaultFor(q, state.answers);
    write(
      `[${done + 1}/${total}] ${q.prompt}${q.choices ? ` (${q.choices.join(" | ")})` : ""} [${def === null ? "none" : Array.isArray(def) ? def.join(", ") || "none" : String(def)}]\n`,
    );
    for (;;) {
      const line = await lines.next();
      const text = line.done ? "" : String(line.value);
      // an empty line accepts the default as a value (a seeded list or field set stays intact)
      const result = text.trim() === "" ? answerValue(state, q, def) : answer(state, q, text);
      if (result.ok) {
        state = result.state;
        break;
      }
      write(`  ${result.error}\n`);
      if (line.done) throw new Error(`${q.path}: ${result.error}`);
    }
  }
  rl.close();
  return state;
}
