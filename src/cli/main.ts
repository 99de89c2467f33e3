import { Command, CommanderError } from "commander";
import { packageVersion } from "../util/package.js";
import { registerCommands } from "./commands/index.js";
import { EXIT, isUserError } from "./errors.js";
import { type CliIo, processIo } from "./io.js";

function createProgram(io: CliIo): Command {
  const program = new Command("stackwright")
    .description(
      "Describe an ML workload once; get a reviewed platform architecture, ADRs, Terraform, Helm, CI and a runnable serving platform.",
    )
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError("(run with --help for usage)");
  registerCommands(program, io);
  return program;
}

/** Entry point used by bin/stackwright.js; returns the exit code instead of exiting. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = createProgram(io);
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

export interface ParsedCommandLine {
  /** the command's path, e.g. ["score"] or ["rules", "lint"] */
  command: string[];
  /** its options after commander's parsing, defaults and argument parsers */
  options: Record<string, unknown>;
  operands: string[];
}

/**
 * Parses a stackwright command line with the CLI's own parser and option definitions without running
 * it: the command-contract tests check every command line the generated platform runs this way.
 * Throws with commander's message for an unknown command or flag, a missing required option or a
 * value an option's parser refuses.
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  let error = "";
  const program = createProgram({ out: () => {}, err: (s) => (error += s), isTty: false, color: false });
  let parsed: ParsedCommandLine | undefined;
  const capture = (command: Command, path: string[]) => {
    for (const sub of command.commands) {
      const at = [...path, sub.name()];
      sub.action((...args: unknown[]) => {
        const self = args.at(-1) as Command;
        parsed = { command: at, options: self.opts(), operands: self.args };
      });
      capture(sub, at);
    }
  };
  capture(program, []);
  try {
    program.parse(argv as string[], { from: "user" });
  } catch (e) {
    throw new Error(error.trim() || (e as Error).message);
  }
  if (!parsed) throw new Error(error.trim() || `no command in: ${argv.join(" ")}`);
  return parsed;
}
