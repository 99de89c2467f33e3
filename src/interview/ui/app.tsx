/**
 * The Ink interview: one question at a time with its help, select / multi-select / text inputs, back
 * (Esc), skip (Tab accepts the default), a progress count, and a side panel that re-plans on every
 * answer and shows the decisions that changed and the cost against the budget. Ctrl-C asks whether
 * to save the partial spec. Fits 80x24; colors follow NO_COLOR.
 */
import { Box, Text, useApp, useInput } from "ink";
import { useEffect, useMemo, useState } from "react";
import type { Plan } from "../../plan/index.js";
import { answer, back, type InterviewState, next, progress, start } from "../machine.js";
import { type Answers, defaultFor, type Question } from "../questions.js";
import { planOf } from "../run.js";

const KEY_DECISIONS = [
  "serving.mode",
  "serving.runtime",
  "serving.hardware",
  "serving.batching",
  "features.store",
  "deployment.strategy",
  "security.network",
  "monitoring.drift",
];

export type AppResult =
  | { kind: "done"; state: InterviewState }
  | { kind: "save-partial"; state: InterviewState }
  | { kind: "quit" };

function money(usd: number): string {
  return `$${Math.round(usd).toLocaleString("en-US")}`;
}

/** Where the cursor starts and what is ticked for a choice question: its default. */
function selectionFor(question: Question, answers: Answers): { cursor: number; picked: string[] } {
  const def = defaultFor(question, answers);
  const options = question.kind === "yesno" ? ["yes", "no"] : [...(question.choices ?? [])];
  if (question.kind === "multi") return { cursor: 0, picked: Array.isArray(def) ? def.map(String) : [] };
  const value = question.kind === "yesno" ? (def === true ? "yes" : def === false ? "no" : "") : String(def);
  return { cursor: Math.max(0, options.indexOf(value)), picked: [] };
}

export function InterviewApp({
  prefill = {},
  onExit,
}: {
  prefill?: Answers;
  onExit: (result: AppResult) => void;
}) {
  const { exit } = useApp();
  const [state, setState] = useState<InterviewState>(() => start(prefill));
  const [text, setText] = useState("");
  const [cursor, setCursor] = useState(0);
  const [picked, setPicked] = useState<string[]>([]);
  const [error, setError] = useState("");
  const [confirmQuit, setConfirmQuit] = useState(false);
  const [previous, setPrevious] = useState<Plan | undefined>(undefined);
  const question = next(state);
  const { plan, error: planError } = useMemo(() => planOf(state), [state]);
  // a choice question opens on its default (a seeded answer from --from, or the schema's)
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset only when the question changes
  useEffect(() => {
    if (!question) return;
    const initial = selectionFor(question, state.answers);
    setCursor(initial.cursor);
    setPicked(initial.picked);
  }, [question?.id]);

  const finishWith = (result: AppResult) => {
    onExit(result);
    exit();
  };

  const submit = (input: string) => {
    if (!question) return;
    const result = answer(state, question, input);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setPrevious(plan);
    setError("");
    setText("");
    setCursor(0);
    setPicked([]);
    setState(result.state);
    if (!next(result.state)) finishWith({ kind: "done", state: result.state });
  };

  useInput((input, key) => {
    if (confirmQuit) {
      if (input === "y") finishWith({ kind: "save-partial", state });
      else if (input === "n") finishWith({ kind: "quit" });
      else setConfirmQuit(false);
      return;
    }
    if (key.ctrl && input === "c") {
      setConfirmQuit(true);
      return;
    }
    if (!question) return;
    if (key.escape) {
      setState(back(state));
      setError("");
      setText("");
      return;
    }
    if (key.tab) {
      submit("");
      return;
    }
    const choices = question.choices ?? [];
    if (question.kind === "select" || question.kind === "multi" || question.kind === "yesno") {
      const options = question.kind === "yesno" ? ["yes", "no"] : [...choices];
      if (key.upArrow) setCursor((c) => (c + options.length - 1) % options.length);
      else if (key.downArrow) setCursor((c) => (c + 1) % options.length);
      else if (input === " " && question.kind === "multi") {
        const item = options[cursor];
        setPicked((p) => (p.includes(item) ? p.filter((x) => x !== item) : [...p, item]));
      } else if (key.return)
        submit(question.kind === "multi" ? picked.join(",") || (text ? text : "") : options[cursor]);
      return;
    }
    if (key.return) submit(text);
    else if (key.backspace || key.delete) setText((t) => t.slice(0, -1));
    else if (input && !key.ctrl && !key.meta) {
      // pasted text arrives in one chunk, Enter included ("fraud-api\r"): a line break submits
      const lineBreak = input.search(/[\r\n]/);
      if (lineBreak >= 0) submit(text + input.slice(0, lineBreak));
      else setText((t) => t + input);
    }
  });

  const { done, total } = progress(state);
  const changed = new Set<string>(
    plan && previous
      ? plan.decisions.filter((d, i) => previous.decisions[i]?.choice !== d.choice).map((d) => d.capability)
      : [],
  );
  const errors = plan?.warnings.filter((w) => w.severity === "error") ?? [];
  const budget = plan?.cost.budgetUsd ?? null;
  const ratio = plan && budget ? plan.cost.monthlyUsd / budget : 0;
  const bar = "#".repeat(Math.min(20, Math.round(ratio * 20))).padEnd(20, ".");

  if (confirmQuit) {
    return (
      <Box flexDirection="column">
        <Text bold>Save the partial spec before quitting? (y/n)</Text>
      </Box>
    );
  }
  if (!question) return <Text>Interview complete.</Text>;
  const def = defaultFor(question, state.answers);
  const options = question.kind === "yesno" ? ["yes", "no"] : [...(question.choices ?? [])];
  const visible =
    options.length > 9
      ? options.slice(
          Math.max(0, Math.min(cursor - 4, options.length - 9)),
          Math.max(0, Math.min(cursor - 4, options.length - 9)) + 9,
        )
      : options;
  return (
    <Box flexDirection="row" width={80}>
      <Box flexDirection="column" width={46} paddingRight={1}>
        <Text dimColor>
          stackwright interview {done + 1}/{total}
        </Text>
        <Text bold wrap="wrap">
          {question.prompt}
        </Text>
        <Text dimColor wrap="wrap">
          {question.help}
        </Text>
        {options.length > 0 ? (
          visible.map((option) => (
            <Text key={option} color={options[cursor] === option ? "cyan" : undefined}>
              {options[cursor] === option ? ">" : " "}{" "}
              {question.kind === "multi" ? (picked.includes(option) ? "[x] " : "[ ] ") : ""}
              {option}
            </Text>
          ))
        ) : (
          <Text>
            {"> "}
            {text}
            <Text dimColor>
              {text
                ? ""
                : ` ${def === null ? "(none)" : Array.isArray(def) ? def.join(", ") || "(none)" : String(def)}`}
            </Text>
          </Text>
        )}
        {error ? (
          <Text color="red" wrap="wrap">
            {error}
          </Text>
        ) : null}
        <Text dimColor>Enter: answer Tab: default Esc: back Ctrl-C: quit</Text>
      </Box>
      <Box flexDirection="column" width={34} borderStyle="single" paddingX={1}>
        <Text bold>Plan so far</Text>
        {plan ? (
          KEY_DECISIONS.map((capability) => {
            const d = plan.decisions.find((x) => x.capability === capability);
            return (
              <Text key={capability} color={changed.has(capability) ? "yellow" : undefined} wrap="truncate">
                {changed.has(capability) ? "*" : " "}
                {capability
                  .replace("serving.", "")
                  .replace("security.", "")
                  .replace("monitoring.", "")
                  .replace("features.", "feat.")}
                : {d?.choice}
              </Text>
            );
          })
        ) : (
          <Text color="red" wrap="wrap">
            {planError}
          </Text>
        )}
        {plan ? (
          <Text wrap="truncate">
            {money(plan.cost.monthlyUsd)}/mo{budget ? ` of ${money(budget)}` : ""}
          </Text>
        ) : null}
        {plan && budget ? <Text color={ratio > 1 ? "red" : "green"}>[{bar}]</Text> : null}
        {errors.map((w) => (
          <Text key={w.code} color="red" wrap="wrap">
            ! {w.code}: {w.message}
          </Text>
        ))}
      </Box>
    </Box>
  );
}
