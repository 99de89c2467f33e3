import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { addLlmOptions, DEFAULT_LOCK, type LlmFlags } from "../llm-options.js";

/** `draft` and `review`: the two commands that exist only with a model. */
export function registerLlm(program: Command, io: CliIo): void {
  addLlmOptions(
    program
      .command("draft")
      .description(
        "draft a spec from a prose description with the LLM advisor; guessed fields are marked `# assumed`",
      )
      .argument("<description>", "the workload in a sentence or two")
      .option("-o, --out <file>", "where to write the spec", "stackwright.yaml")
      .option("--lock <file>", "where model answers are recorded for replay", DEFAULT_LOCK)
      .option("-y, --yes", "accept the draft without the interview")
      .option("--force", "overwrite an existing --out file"),
  )
    .addHelpText(
      "after",
      '\nNeeds ANTHROPIC_API_KEY (or --llm-base-url), unless the lock file already holds the answer.\n\nExample:\n  $ stackwright draft "fraud scoring for card payments, 3k rps, PCI, AWS, p99 under 50ms" --yes\n',
    )
    .action(
      async (
        description: string,
        options: LlmFlags & { out: string; lock: string; yes?: boolean; force?: boolean },
      ) => {
        const { runDraft } = await import("./llm-actions.js");
        process.exitCode = await runDraft(io, description, options);
      },
    );

  addLlmOptions(
    program
      .command("review")
      .description("ask the LLM advisor to critique a plan: risks and questions, labelled as model output")
      .requiredOption("-s, --spec <file>", "requirements spec (YAML or JSON)")
      .option("--lock <file>", "where model answers are recorded for replay", DEFAULT_LOCK)
      .option("--json", "machine-readable output"),
  )
    .addHelpText("after", "\nExample:\n  $ stackwright review --spec examples/fraud-detection.yaml\n")
    .action(async (options: LlmFlags & { spec: string; lock: string; json?: boolean }) => {
      const { runReview } = await import("./llm-actions.js");
      process.exitCode = await runReview(io, options);
    });
}
