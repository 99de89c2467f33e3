/** Implementations of plan/explain/diff/validate, loaded only when one of them runs. */
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { diffPlans, formatDiff } from "../../plan/diff.js";
import {
  explainCapacity,
  explainDecision,
  formatCapacityExplanation,
  formatExplanation,
} from "../../plan/explain.js";
import { formatMarkdown, formatTable } from "../../plan/format.js";
import {
  CAPABILITIES,
  type Calibration,
  type Capability,
  createPlan,
  datedWarnings,
  type Plan,
  planErrors,
} from "../../plan/index.js";
import { loadSpecFile, parseSpecText, type Spec } from "../../requirements/index.js";
import { type CalibrationFlag, calibrationFor } from "../calibration-input.js";
import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import { type LlmFlags, llmOptionsFrom } from "../llm-options.js";
import { applySets, loadSpecForCommand, problemsError, specFromValue } from "../spec-input.js";

/** `--now`: a calendar date (or a full ISO timestamp); absent, the system clock. */
export function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new UserError(`--now: "${value}" is not a date`, EXIT.usage, [
      "allowed: YYYY-MM-DD or an ISO 8601 timestamp",
    ]);
  return date;
}

export async function runPlan(
  io: CliIo,
  specPath: string,
  format: string,
  advisor?: LlmFlags & { lock: string },
  now: Date = new Date(),
  calibrationFlag?: CalibrationFlag,
): Promise<number> {
  if (format === "json") {
    const loaded = await loadSpecFile(specPath);
    if (!loaded.ok) {
      io.out(`${JSON.stringify({ problems: loaded.problems }, null, 2)}\n`);
      throw problemsError(specPath, loaded.problems);
    }
  }
  const spec = await loadSpecForCommand(specPath);
  const calibration = calibrationFor(io, specPath, calibrationFlag);
  const plan = advisor
    ? await advisedPlan(io, spec, advisor, calibration)
    : createPlan(spec, { calibration });
  // the clock's warnings join what is printed, never the Plan generators read
  const dated = datedWarnings(plan, now);
  if (format === "json")
    io.out(`${JSON.stringify({ ...plan, warnings: [...plan.warnings, ...dated] }, null, 2)}\n`);
  else if (format === "markdown") io.out(formatMarkdown(plan));
  else io.out(formatTable(plan));
  const errors = planErrors(plan);
  if (format === "json") for (const w of plan.warnings) io.err(`${w.severity} ${w.code}: ${w.message}\n`);
  for (const w of dated) io.err(`${w.severity} ${w.code}: ${w.message}\n  → ${w.suggestion}\n`);
  return errors.length > 0 ? EXIT.findings : EXIT.ok;
}

async function advisedPlan(
  io: CliIo,
  spec: Spec,
  flags: LlmFlags & { lock: string },
  calibration: Calibration | null,
): Promise<Plan> {
  const { LlmClient, planWithAdvisor, readLlmRecords, writeLlmRecords } = await import("../../llm/index.js");
  const client = new LlmClient(llmOptionsFrom(flags), readLlmRecords(flags.lock));
  if (client.provider.kind === "none") io.err(`advisor: ${client.provider.reason}\n`);
  const { plan } = await planWithAdvisor(spec, client, { calibration });
  if (client.usage.liveCalls > 0) {
    mkdirSync(dirname(flags.lock), { recursive: true });
    const fresh = client.store.usedRecords();
    writeLlmRecords(flags.lock, [
      ...readLlmRecords(flags.lock).filter((r) => !fresh.some((f) => f.key === r.key)),
      ...fresh,
    ]);
  }
  io.err(`${client.summary()}\n`);
  return plan;
}

export async function runExplain(
  io: CliIo,
  capability: string,
  specPath: string,
  json: boolean,
  calibrationFlag?: CalibrationFlag,
): Promise<number> {
  if (capability === "capacity") {
    const spec = await loadSpecForCommand(specPath);
    const explanation = explainCapacity(spec, undefined, calibrationFor(io, specPath, calibrationFlag));
    io.out(json ? `${JSON.stringify(explanation, null, 2)}\n` : formatCapacityExplanation(explanation));
    return EXIT.ok;
  }
  if (!(CAPABILITIES as readonly string[]).includes(capability)) {
    throw new UserError(`unknown capability "${capability}"`, EXIT.usage, [
      `allowed: ${CAPABILITIES.join(", ")}, or capacity (the sizing arithmetic)`,
    ]);
  }
  const spec = await loadSpecForCommand(specPath);
  const explanation = explainDecision(
    spec,
    capability as Capability,
    undefined,
    calibrationFor(io, specPath, calibrationFlag),
  );
  io.out(json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
  return EXIT.ok;
}

async function readRaw(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UserError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`,
    );
  }
  const parsed = parseSpecText(text, path);
  if (!parsed.ok) throw problemsError(path, parsed.problems);
  if (!parsed.value || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
    throw new UserError(`${path} is not a YAML mapping`);
  }
  return parsed.value as Record<string, unknown>;
}

export async function runDiff(
  io: CliIo,
  specPath: string,
  sets: string[],
  against: string | undefined,
  json: boolean,
  calibrationFlag?: CalibrationFlag,
): Promise<number> {
  if (!against && sets.length === 0) {
    throw new UserError("diff needs --set path=value (repeatable) or --against FILE", EXIT.usage, [
      "example: stackwright diff --spec examples/fraud-detection.yaml --set inference.latencyP99Ms=10",
    ]);
  }
  const raw = await readRaw(specPath);
  const before = specFromValue(specPath, raw);
  const after = against
    ? specFromValue(against, applySets(await readRaw(against), sets))
    : specFromValue(`${specPath} with ${sets.join(", ")}`, applySets(raw, sets));
  // each side sized as plan sizes it: from the calibration beside its own spec (or --calibration)
  const calibration = calibrationFor(io, specPath, calibrationFlag);
  const afterCalibration = against ? calibrationFor(io, against, calibrationFlag) : calibration;
  const diff = diffPlans(
    createPlan(before, { calibration }),
    createPlan(after, { calibration: afterCalibration }),
  );
  io.out(json ? `${JSON.stringify(diff, null, 2)}\n` : formatDiff(diff));
  return EXIT.ok;
}

export async function runValidate(
  io: CliIo,
  specPath: string,
  json: boolean,
  calibrationFlag?: CalibrationFlag,
): Promise<number> {
  const loaded = await loadSpecFile(specPath);
  if (!loaded.ok) {
    if (json) io.out(`${JSON.stringify({ valid: false, problems: loaded.problems }, null, 2)}\n`);
    throw problemsError(specPath, loaded.problems);
  }
  const plan = createPlan(loaded.spec, { calibration: calibrationFor(io, specPath, calibrationFlag) });
  const errors = planErrors(plan);
  if (json) {
    io.out(
      `${JSON.stringify({ valid: errors.length === 0, problems: [], warnings: plan.warnings }, null, 2)}\n`,
    );
  } else {
    for (const w of plan.warnings) {
      io.err(`${w.severity} ${w.code}${w.path ? ` at ${w.path}` : ""}: ${w.message}\n`);
      if (w.suggestion) io.err(`  suggestion: ${w.suggestion}\n`);
    }
    io.out(
      errors.length === 0
        ? `${specPath}: valid (${plan.warnings.length} warning${plan.warnings.length === 1 ? "" : "s"})\n`
        : `${specPath}: ${errors.length} contradiction${errors.length === 1 ? "" : "s"}\n`,
    );
  }
  return errors.length > 0 ? EXIT.findings : EXIT.ok;
}
