import type { CliIo } from "../io.js";
import { runGenerate } from "./generate-actions.js";

export async function runInterviewCommand(
  io: CliIo,
  options: { out: string; from?: string; answers?: string; set: string[]; yes?: boolean },
): Promise<number> {
  const ui = (await import(
    "../../interview/ui/index.js" as string
  )) as typeof import("../../interview/ui/index.js");
  return ui.runInterview({
    ...options,
    io,
    generate: (spec, out) => runGenerate(io, { spec, out, llmTimeout: 60, llmTokenBudget: 200_000 }),
  });
}
