import { join, resolve } from "node:path";
import { countByDirectory } from "../../fileset/index.js";
import { resolvePackageSource } from "../../util/package-source.js";
import { type CalibrationFlag, calibrationFor } from "../calibration-input.js";
import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import { type LlmFlags, llmOptionsFrom } from "../llm-options.js";
import { loadSpecForCommand } from "../spec-input.js";

export interface GenerateFlags extends LlmFlags {
  spec: string;
  out: string;
  check?: boolean;
  force?: boolean;
  advisor?: boolean;
  json?: boolean;
  /** npm spec the image and CI install stackwright from */
  package?: string;
  /** --calibration FILE / --no-calibration */
  calibration?: CalibrationFlag;
}

export interface GenerateSummary {
  out: string;
  files: number;
  written: string[];
  unchanged: string[];
  removed: string[];
  /** the npm spec the image and CI install stackwright from, and why */
  package: { spec: string; from: string };
}

/** Spec file -> validated files on disk (or a drift report). Shared by `generate` and `start`. */
export async function runGenerate(io: CliIo, flags: GenerateFlags): Promise<number> {
  const started = Date.now();
  const spec = await loadSpecForCommand(flags.spec);
  const [{ createPlan, planErrors }, { generateAll }, { validateFileSet, formatValidationProblem }, write] =
    await Promise.all([
      import("../../plan/index.js"),
      import("../../generate/index.js" as string) as Promise<typeof import("../../generate/index.js")>,
      import("../../validate/index.js" as string) as Promise<typeof import("../../validate/index.js")>,
      import("../../write/index.js" as string) as Promise<typeof import("../../write/index.js")>,
    ]);
  const out = resolve(flags.out);
  const lockPath = join(out, write.LOCK_FILE);
  const calibration = calibrationFor(io, flags.spec, flags.calibration);
  let plan = createPlan(spec, { calibration });
  let narratives: Map<string, { context: string; consequences: string }> | undefined;
  let llmRecords: unknown[] = [];
  const previousLlm = (write.readLock(out)?.llm ?? []) as never[];
  if (flags.advisor || previousLlm.length > 0) {
    const llm = (await import("../../llm/index.js" as string)) as typeof import("../../llm/index.js");
    const client = new llm.LlmClient(llmOptionsFrom(flags), llm.readLlmRecords(lockPath));
    if (flags.advisor && client.provider.kind === "none") io.err(`advisor: ${client.provider.reason}\n`);
    const advised = await llm.planWithAdvisor(spec, client, { calibration });
    plan = advised.plan;
    const result = await llm.adrNarratives(plan, client);
    narratives = result.narratives;
    for (const dropped of result.dropped) io.err(`advisor: ADR narrative dropped for ${dropped}\n`);
    llmRecords = client.store.usedRecords();
    if (client.usage.liveCalls + client.usage.replayed > 0) io.err(`${client.summary()}\n`);
  }
  const errors = planErrors(plan);
  if (errors.length > 0) {
    throw new UserError(
      `${flags.spec}: the plan has ${errors.length} contradiction(s); nothing generated`,
      EXIT.findings,
      errors.map(
        (w) =>
          `${w.code}${w.path ? ` at ${w.path}` : ""}: ${w.message}${w.suggestion ? ` (${w.suggestion})` : ""}`,
      ),
    );
  }
  const source = resolvePackageSource({ explicit: flags.package });
  const files = generateAll(plan, { narratives, packageSpec: source.spec });
  const problems = await validateFileSet(files, { notice: (message) => io.err(`${message}\n`) });
  if (problems.length > 0) {
    throw new UserError(
      `generated files failed validation (a stackwright bug, please report it)`,
      EXIT.internal,
      problems.map(formatValidationProblem),
    );
  }
  const options = {
    specHash: plan.spec.hash,
    ruleSetHash: plan.ruleSet.hash,
    llm: llmRecords,
    force: flags.force,
    check: flags.check,
  };
  let result: import("../../write/index.js").WriteResult;
  try {
    result = write.writeFileSet(out, files, options);
  } catch (error) {
    if (error instanceof write.UnsafePathError) throw new UserError(error.message);
    throw error;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(2);
  if (flags.check) {
    if (flags.json)
      io.out(
        `${JSON.stringify({ out, drift: result.drift.map(({ path, kind }) => ({ path, kind })) }, null, 2)}\n`,
      );
    else if (result.drift.length === 0)
      io.out(`${out}: up to date (${Object.keys(files).length + 1} files checked in ${seconds}s)\n`);
    else {
      for (const d of result.drift) io.out(`${d.kind}: ${d.path}\n`);
      io.out("\n");
      for (const d of result.drift) io.out(d.diff);
      io.err(
        `${result.drift.length} file(s) differ from what ${flags.spec} generates; run \`stackwright generate --spec ${flags.spec} --out ${flags.out}\`\n`,
      );
    }
    return result.drift.length === 0 ? EXIT.ok : EXIT.findings;
  }
  if (result.handEdited.length > 0) {
    io.err(
      `refusing to overwrite ${result.handEdited.length} file(s) changed by hand since the last generate (use --force):\n`,
    );
    for (const path of result.handEdited) io.err(`  ${path}\n`);
    return EXIT.findings;
  }
  const summary: GenerateSummary = {
    out,
    files: Object.keys(files).length + 1,
    written: result.written,
    unchanged: result.unchanged,
    removed: result.removed,
    package: source,
  };
  if (flags.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    io.out(
      `${out}: ${result.written.length} written, ${result.unchanged.length} unchanged${result.removed.length ? `, ${result.removed.length} removed` : ""} (${seconds}s)\n`,
    );
    for (const [top, count] of countByDirectory(Object.keys(files))) io.out(`  ${top}/ (${count} files)\n`);
    io.out(`  the image and CI install ${source.spec} (from ${source.from}; --package to change)\n`);
  }
  return EXIT.ok;
}
