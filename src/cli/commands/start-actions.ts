import { formatTable } from "../../plan/format.js";
import { createPlan } from "../../plan/index.js";
import { EXIT } from "../errors.js";
import type { CliIo } from "../io.js";
import { loadSpecForCommand } from "../spec-input.js";
import { runGenerate } from "./generate-actions.js";

type InterviewModule = { runInterview: (options: Record<string, unknown>) => Promise<number> };

export async function runStart(io: CliIo, options: { spec: string; out: string }): Promise<number> {
  if (io.isTty) {
    let ui: InterviewModule | undefined;
    try {
      ui = (await import("../../interview/ui/index.js" as string)) as InterviewModule;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
      io.err("the interactive interview is not part of this build; planning the example instead\n\n");
    }
    if (ui) return ui.runInterview({ out: options.out, io });
  }
  io.out(`stackwright: planning ${options.spec} (not a terminal, so no interview)\n\n`);
  const spec = await loadSpecForCommand(options.spec);
  const plan = createPlan(spec);
  io.out(formatTable(plan));
  io.out("\n");
  const code = await runGenerate(io, {
    spec: options.spec,
    out: options.out,
    force: false,
    llmTimeout: 60,
    llmTokenBudget: 200_000,
  });
  if (code !== EXIT.ok) return code;
  io.out(
    [
      "",
      "next:",
      `  stackwright explain serving.mode --spec ${options.spec}    # why a decision was made`,
      `  stackwright diff --spec ${options.spec} --set inference.latencyP99Ms=10`,
      `  less ${options.out}/docs/architecture.md                   # diagram, decisions, control matrix`,
      "",
    ].join("\n"),
  );
  return EXIT.ok;
}
