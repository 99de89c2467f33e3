import { Command, CommanderError } from "commander";
import { packageVersion } from "../util/package.js";
import { registerCommands } from "./commands/index.js";
import { EXIT, isUserError } from "./errors.js";
import { type CliIo, processIo } from "./io.js";

/** Entry point used by bin/stackwright.js; returns the exit code instead of exiting. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = new Command("stackwright")
    .description(
      "Describe an ML workload once; get a reviewed platform architecture, ADRs, Terraform, Helm, CI and a runnable serving platform.",
    )
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError("(run with --help for usage)");
  registerCommands(program, io);
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
      if (error.code === "commander.help") return EXIT.ok;
      return EXIT.usage;
    }
    if (isUserError(error)) {
      io.err(`stackwright: ${error.message}\n`);
      for (const line of error.details) io.err(`  ${line}\n`);
      return error.exitCode;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.err(`stackwright: internal error, please report it with the details below\n${detail}\n`);
    return EXIT.internal;
  }
}
