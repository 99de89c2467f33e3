import { type Command, Option } from "commander";
import { addCalibrationOptions, type CalibrationFlag } from "../calibration-input.js";
import type { CliIo } from "../io.js";
import { addLlmOptions, DEFAULT_LOCK, type LlmFlags } from "../llm-options.js";

const FORMATS = ["table", "json", "markdown"] as const;

/** `plan`, `explain`, `diff` and `validate`: the read-only views of a spec's Plan. */
export function registerPlan(program: Command, io: CliIo): void {
  addLlmOptions(
    addCalibrationOptions(program.command("plan"))
      .description(
        "decide every capability for a spec and print the Plan (decisions, capacity, cost, controls, warnings)",
      )
      .requiredOption("-s, --spec <file>", "requirements spec (YAML or JSON)")
      .addOption(new Option("-f, --format <format>", "output format").choices(FORMATS).default("table"))
      .option("--json", "same as --format json")
      .option(
        "--advisor",
        "let the LLM advisor pick among the choices the rules leave open (recorded in --lock)",
      )
      .option("--lock <file>", "lock file holding recorded advisor answers", DEFAULT_LOCK)
      .option(
        "--now <date>",
        "the date the price table's age is judged by (YYYY-MM-DD; default today): older than 180 days warns",
      ),
  )
    .addHelpText(
      "after",
      "\nExit codes: 0 plan without errors, 1 plan has contradictions (errors), 2 invalid spec or flags.\n\nExamples:\n  $ stackwright plan --spec examples/fraud-detection.yaml\n  $ stackwright plan --spec examples/fraud-detection.yaml --format json | jq '.decisions[].choice'\n  $ stackwright plan --spec examples/fraud-detection.yaml --advisor     # needs ANTHROPIC_API_KEY or a recorded answer\n",
    )
    .action(
      async (
        options: LlmFlags & {
          spec: string;
          format: string;
          json?: boolean;
          advisor?: boolean;
          lock: string;
          now?: string;
          calibration?: CalibrationFlag;
        },
      ) => {
        const { parseNow, runPlan } = await import("./plan-actions.js");
        process.exitCode = await runPlan(
          io,
          options.spec,
          options.json ? "json" : options.format,
          options.advisor ? options : undefined,
          parseNow(options.now),
          options.calibration,
        );
      },
    );

  addCalibrationOptions(program.command("explain"))
    .description(
      "print one decision in full: the rule, its inputs and their values, alternatives and why they lost (or `capacity`: the sizing arithmetic step by step, each constant with its source)",
    )
    .argument("<capability>", "a capability such as serving.mode or security.network, or capacity")
    .requiredOption("-s, --spec <file>", "requirements spec (YAML or JSON)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  $ stackwright explain serving.hardware --spec examples/vision-inspection.yaml\n  $ stackwright explain capacity --spec examples/defect-detection.yaml\n",
    )
    .action(
      async (
        capability: string,
        options: { spec: string; json?: boolean; calibration?: CalibrationFlag },
      ) => {
        const { runExplain } = await import("./plan-actions.js");
        process.exitCode = await runExplain(
          io,
          capability,
          options.spec,
          Boolean(options.json),
          options.calibration,
        );
      },
    );

  addCalibrationOptions(program.command("diff"))
    .description("what changes when the spec changes: decisions that flip, controls, capacity and cost delta")
    .requiredOption("-s, --spec <file>", "requirements spec (YAML or JSON)")
    .option(
      "--set <path=value>",
      "override a spec field (repeatable)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--against <file>", "compare with another spec instead of --set overrides")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  $ stackwright diff --spec examples/fraud-detection.yaml --set inference.latencyP99Ms=10\n  $ stackwright diff --spec examples/fraud-detection.yaml --against my-variant.yaml\n",
    )
    .action(
      async (options: {
        spec: string;
        set: string[];
        against?: string;
        json?: boolean;
        calibration?: CalibrationFlag;
      }) => {
        const { runDiff } = await import("./plan-actions.js");
        process.exitCode = await runDiff(
          io,
          options.spec,
          options.set,
          options.against,
          Boolean(options.json),
          options.calibration,
        );
      },
    );

  addCalibrationOptions(program.command("validate"))
    .description("check a spec: schema problems (every one, with its path) and contradictions between fields")
    .requiredOption("-s, --spec <file>", "requirements spec (YAML or JSON)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExit codes: 0 valid, 1 contradictions, 2 schema problems.\n\nExample:\n  $ stackwright validate --spec stackwright.yaml\n",
    )
    .action(async (options: { spec: string; json?: boolean; calibration?: CalibrationFlag }) => {
      const { runValidate } = await import("./plan-actions.js");
      process.exitCode = await runValidate(io, options.spec, Boolean(options.json), options.calibration);
    });
}
