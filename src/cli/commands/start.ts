import type { Command } from "commander";
import type { CliIo } from "../io.js";

export function registerStart(program: Command, io: CliIo): void {
  program
    .command("start")
    .description(
      "the main job: in a terminal, the requirements interview; otherwise plan and generate examples/fraud-detection.yaml",
    )
    .option("-s, --spec <file>", "spec for the non-interactive run", "examples/fraud-detection.yaml")
    .option("-o, --out <dir>", "output directory", "stackwright-out")
    .addHelpText(
      "after",
      "\nExamples:\n  $ npm start                      # interview in a TTY\n  $ stackwright start < /dev/null  # plan + generate the fraud example\n",
    )
    .action(async (options: { spec: string; out: string }) => {
      const { runStart } = await import("./start-actions.js");
      process.exitCode = await runStart(io, options);
    });
}
