import type { Command } from "commander";
import type { CliIo } from "../io.js";

export function registerRules(program: Command, io: CliIo): void {
  const rules = program.command("rules").description("work with the rule files (rules/*.yaml)");
  rules
    .command("lint")
    .description(
      "check the rule files: schema, references, undecided or doubly decided capabilities, cycles, and every rule's match / nearMiss examples",
    )
    .option("--dir <dir>", "rules directory (default: the one shipped with stackwright)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExit codes: 0 clean (warnings allowed), 1 problems found.\n\nExample:\n  $ stackwright rules lint\n",
    )
    .action(async (options: { dir?: string; json?: boolean }) => {
      const { runRulesLint } = await import("./rules-actions.js");
      process.exitCode = await runRulesLint(io, options.dir, Boolean(options.json));
    });
}
