import type { Command } from "commander";
import { addCalibrationOptions } from "../calibration-input.js";
import type { CliIo } from "../io.js";
import { addLlmOptions } from "../llm-options.js";
import type { GenerateFlags } from "./generate-actions.js";

export function registerGenerate(program: Command, io: CliIo): void {
  addLlmOptions(
    addCalibrationOptions(program.command("generate"))
      .description(
        "turn a spec's Plan into files: Terraform, Helm chart, GitHub Actions, ADRs (validated, deterministic)",
      )
      .requiredOption("-s, --spec <file>", "requirements spec (YAML or JSON)")
      .option("-o, --out <dir>", "output directory", "stackwright-out")
      .option("--check", "write nothing; exit 1 listing every drifted, missing or extra file with a diff")
      .option("--force", "overwrite files changed by hand since the last generate")
      .option(
        "--advisor",
        "let the LLM advisor pick open choices and write ADR narratives (recorded in the lock file)",
      )
      .option(
        "--package <spec>",
        "npm spec the image (ARG STACKWRIGHT_PACKAGE) and CI steps install stackwright from: a version, a tarball, a git URL (default: the version your package.json pins, else this one)",
      )
      .option("--json", "machine-readable summary"),
  )
    .addHelpText(
      "after",
      "\nExit codes: 0 written (or no drift), 1 drift / hand-edited files / invalid output, 2 bad spec or flags.\n\nExamples:\n  $ stackwright generate --spec examples/fraud-detection.yaml --out out/fraud\n  $ stackwright generate --spec stackwright.yaml --out . --check     # in CI\n",
    )
    .action(async (options: GenerateFlags) => {
      const { runGenerate } = await import("./generate-actions.js");
      process.exitCode = await runGenerate(io, options);
    });
}
