/**
 * `stackwright interview` (and `npm start` in a TTY): the Ink UI in a terminal, plain prompts
 * otherwise, no prompts at all with --answers / --set. Ends by writing stackwright.yaml and, with
 * --yes, planning and generating.
 */
import { render } from "ink";
import { formatTable } from "../../plan/format.js";
import { createPlan } from "../../plan/index.js";
import { finish, type InterviewState, toDocument } from "../machine.js";
import { answerAll, InterviewError, type InterviewOptions, prefill, writeSpec } from "../run.js";
import { type AppResult, InterviewApp } from "./app.js";
import { plainInterview } from "./plain.js";

export interface RunInterviewOptions extends InterviewOptions {
  io: { out(text: string): void; err(text: string): void; readonly isTty: boolean };
  /** runs `generate` for the written spec (supplied by the CLI) */
  generate?: (specPath: string, out: string) => Promise<number>;
  stdin?: NodeJS.ReadableStream;
}

export async function runInterview(options: RunInterviewOptions): Promise<number> {
  const { io } = options;
  const specPath = options.out ?? "stackwright.yaml";
  let prefilled: ReturnType<typeof prefill>;
  try {
    prefilled = prefill(options);
  } catch (error) {
    if (error instanceof InterviewError) {
      io.err(`stackwright: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  let state: InterviewState;
  // --yes accepts every seeded or default answer: nothing is asked (so `--from X --yes` reproduces X)
  const nonInteractive = Boolean(options.answers || options.set?.length || options.yes);
  if (nonInteractive) {
    try {
      state = answerAll(prefilled);
    } catch (error) {
      if (!(error instanceof InterviewError)) throw error;
      io.err(`stackwright: ${error.message}\n`);
      return 2;
    }
  } else if (!io.isTty) {
    try {
      state = await plainInterview((t) => io.out(t), options.stdin ?? process.stdin, prefilled);
    } catch (error) {
      io.err(`stackwright: ${(error as Error).message}\n`);
      return 2;
    }
  } else {
    let result: AppResult = { kind: "quit" };
    // Both ends are terminals here, so the interview is interactive even when a CI variable is set
    // (Ink would otherwise hold every frame back until exit, leaving a blank screen in tmux).
    const app = render(<InterviewApp prefill={prefilled} onExit={(r) => (result = r)} />, {
      exitOnCtrlC: false,
      interactive: true,
    });
    await app.waitUntilExit();
    const final = result as AppResult;
    if (final.kind === "quit") {
      io.err("interview cancelled; nothing written\n");
      return 130;
    }
    if (final.kind === "save-partial") {
      const partial = `${specPath.replace(/\.ya?ml$/, "")}.partial.yaml`;
      writeSpec(partial, toDocument(final.state.answers));
      io.err(`partial spec saved to ${partial}; resume with: stackwright interview --from ${partial}\n`);
      return 130;
    }
    state = final.state;
  }
  const done = finish(state);
  if (!done.ok) {
    for (const p of done.problems) io.err(`${p.path}: ${p.message}\n`);
    return 2;
  }
  writeSpec(specPath, done.document);
  const plan = createPlan(done.spec);
  io.out(`\nwrote ${specPath}\n\n`);
  io.out(formatTable(plan));
  if (!plan.warnings.some((w) => w.severity === "error")) {
    // what `generate` would write, by directory
    const { generateAll } = await import("../../generate/index.js");
    const { countByDirectory } = await import("../../fileset/index.js");
    io.out("\nfiles generate will write:\n");
    for (const [dir, count] of countByDirectory(Object.keys(generateAll(plan))))
      io.out(`  ${dir}/ (${count})\n`);
  }
  io.out(
    `\nnext:\n  stackwright plan --spec ${specPath}\n  stackwright generate --spec ${specPath} --out stackwright-out\n`,
  );
  if (options.yes && options.generate) return options.generate(specPath, "stackwright-out");
  return plan.warnings.some((w) => w.severity === "error") ? 1 : 0;
}
