import type { Command } from "commander";
import type { CliIo } from "../io.js";

export function registerInterview(program: Command, io: CliIo): void {
  program
    .command("interview")
    .description(
      "the requirements interview: answers -> stackwright.yaml (a terminal UI in a TTY, plain prompts otherwise)",
    )
    .option("-o, --out <file>", "spec to write", "stackwright.yaml")
    .option("--from <file>", "start from an existing spec to change it")
    .option("--answers <file>", "answers (a spec, or path: value pairs); asks nothing")
    .option(
      "--set <path=value>",
      "an answer (repeatable); asks nothing",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("-y, --yes", "then plan and generate into stackwright-out/")
    .addHelpText(
      "after",
      "\nKeys: Enter answers, Tab accepts the default, Esc goes back, Ctrl-C offers to save a partial spec.\n\nExamples:\n  $ stackwright interview\n  $ stackwright interview --from examples/fraud-detection.yaml --out my.yaml\n  $ stackwright interview --set metadata.name=scoring --set inference.latencyP99Ms=80 --yes\n",
    )
    .action(
      async (options: { out: string; from?: string; answers?: string; set: string[]; yes?: boolean }) => {
        const { runInterviewCommand } = await import("./interview-actions.js");
        process.exitCode = await runInterviewCommand(io, options);
      },
    );
}
