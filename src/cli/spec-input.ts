/** Loading a spec for a command: problems become one UserError listing every one of them. */
import { CORE_SCHEMA, load } from "js-yaml";

const parseYaml = (text: string): unknown => load(text, { schema: CORE_SCHEMA });

import {
  formatProblem,
  loadSpecFile,
  type Problem,
  parseSpecValue,
  type Spec,
} from "../requirements/index.js";
import { PathError, setPath } from "../util/paths.js";
import { EXIT, UserError } from "./errors.js";

export function problemsError(source: string, problems: Problem[]): UserError {
  return new UserError(
    `${source} is not a valid spec: ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
    EXIT.usage,
    problems.map(formatProblem),
  );
}

export async function loadSpecForCommand(path: string | undefined): Promise<Spec> {
  if (!path)
    throw new UserError("--spec FILE is required", EXIT.usage, [
      "example: --spec examples/fraud-detection.yaml",
    ]);
  const loaded = await loadSpecFile(path);
  if (!loaded.ok) throw problemsError(path, loaded.problems);
  return loaded.spec;
}

/** `--set path=value` overrides applied to the raw spec document, values parsed as YAML scalars. */
export function applySets(raw: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  const copy = structuredClone(raw);
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq <= 0) {
      throw new UserError(`--set ${set}: expected path=value`, EXIT.usage, [
        "example: --set inference.latencyP99Ms=10",
      ]);
    }
    try {
      setPath(copy, set.slice(0, eq), parseYaml(set.slice(eq + 1)) as unknown);
    } catch (error) {
      if (error instanceof PathError) throw new UserError(`--set ${set}: ${error.message}`, EXIT.usage);
      throw error;
    }
  }
  return copy;
}

export function specFromValue(source: string, value: unknown): Spec {
  const parsed = parseSpecValue(value);
  if (!parsed.ok) throw problemsError(source, parsed.problems);
  return parsed.spec;
}
