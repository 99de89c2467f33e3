/** Loading a spec for a command: problems become one UserError listing every one of them. */
import { CORE_SCHEMA, load } from "js-yaml";

const parseYaml = (text: string): unknown => load(text, { schema: CORE_SCHEMA });

import { formatProblem, loadSpecFile, type Problem, parseSpecValue, type Spec } from "../spec/index.js";
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
    const path = set.slice(0, eq).split(".");
    const value = parseYaml(set.slice(eq + 1)) as unknown;
    let node = copy;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== "object" || Array.isArray(next)) {
        throw new UserError(`--set ${set}: ${key} is not an object in the spec`, EXIT.usage);
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return copy;
}

export function specFromValue(source: string, value: unknown): Spec {
  const parsed = parseSpecValue(value);
  if (!parsed.ok) throw problemsError(source, parsed.problems);
  return parsed.spec;
}
