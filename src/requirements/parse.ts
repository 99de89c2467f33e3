/**
 * Turns text or a plain object into a Spec, or into every problem at once. Each problem names its
 * path, what was found and what is allowed; no stack traces reach the user.
 */
import { CORE_SCHEMA, load as loadYaml, YAMLException } from "js-yaml";
import { type ZodType, z } from "zod";
import { hashValue } from "../util/canonical.js";
import { compareProblems, type Problem } from "./problems.js";
import { type Spec, specSchema } from "./schema.js";

export type ParseResult = { ok: true; spec: Spec; hash: string } | { ok: false; problems: Problem[] };

/** Formats a path array the way users write it: `data.sources[1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * Parses YAML (or JSON, a subset) into a plain value; syntax errors come back as problems with
 * line:column. js-yaml (YAML 1.2 core schema, duplicate keys refused) keeps the cold start of every
 * command small; the `yaml` package is used where YAML is written.
 */
export function parseSpecText(
  text: string,
  source = "spec",
): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  try {
    return { ok: true, value: loadYaml(text, { filename: source, schema: CORE_SCHEMA }) };
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const at = error.mark ? `${source}:${error.mark.line + 1}:${error.mark.column + 1}` : source;
    return {
      ok: false,
      problems: [{ code: "YAML_SYNTAX", severity: "error", path: "", message: `${at}: ${error.reason}` }],
    };
  }
}

export function parseSpecValue(value: unknown): ParseResult {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return {
      ok: false,
      problems: [
        {
          code: "NOT_AN_OBJECT",
          severity: "error",
          path: "",
          message: "a spec is a mapping with at least metadata.name",
          found: value === null ? null : Array.isArray(value) ? "a list" : typeof value,
          allowed: "a YAML mapping / JSON object",
        },
      ],
    };
  }
  const result = specSchema.safeParse(value, { reportInput: true });
  if (result.success) {
    const edgeProblems = edgeSectionProblems(result.data);
    if (edgeProblems.length > 0) return { ok: false, problems: edgeProblems };
    PROVIDED.set(result.data, new Set(leafPaths(value)));
    return { ok: true, spec: result.data, hash: hashValue(result.data) };
  }
  const problems = result.error.issues.flatMap((issue) => issueToProblems(issue, value));
  return { ok: false, problems: dedupe(problems).sort(compareProblems) };
}

/**
 * Which fields the input of a parsed spec gave, as dotted paths to leaves (a list is one leaf):
 * what lets the plan mark every other value `source: default` and keep defaults out of
 * contradictions. Kept beside the spec object rather than in it, so a Spec stays exactly the
 * schema's output; a spec not made by parseSpecValue (built in code) has none, and then every field
 * counts as given except the ones left null for the plan to resolve.
 */
const PROVIDED = new WeakMap<Spec, ReadonlySet<string>>();

export function providedPaths(spec: Spec): ReadonlySet<string> | undefined {
  return PROVIDED.get(spec);
}

function leafPaths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return prefix ? [prefix] : [];
  return Object.entries(value).flatMap(([key, child]) =>
    child === undefined ? [] : leafPaths(child, prefix ? `${prefix}.${key}` : key),
  );
}

export function parseSpec(text: string, source = "spec"): ParseResult {
  const parsed = parseSpecText(text, source);
  if (!parsed.ok) return parsed;
  return parseSpecValue(parsed.value);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

/** Field names a strict object at `path` accepts, for "unknown field" messages. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] | undefined {
  let schema: ZodType | undefined = specSchema;
  for (const part of [...path, null]) {
    schema = unwrap(schema);
    if (part === null) break;
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, ZodType>)[String(part)];
    else if (schema instanceof z.ZodArray) schema = schema.element as ZodType;
    else return undefined;
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

function unwrap(schema: ZodType | undefined): ZodType | undefined {
  let current = schema;
  for (let i = 0; i < 10 && current; i++) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable
    ) {
      current = current.unwrap() as ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as ZodType;
    } else break;
  }
  return current;
}

function describeType(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value;
}

function issueToProblems(issue: z.core.$ZodIssue, root: unknown): Problem[] {
  const path = formatPath(issue.path);
  const found = valueAt(root, issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeysAt(issue.path);
      return issue.keys.map((key) => ({
        code: "UNKNOWN_FIELD",
        severity: "error",
        path: path === "" ? key : `${path}.${key}`,
        message: `unknown field "${key}"`,
        allowed: allowed ? allowed.join(", ") : undefined,
      }));
    }
    case "invalid_type": {
      if (found === undefined) {
        return [
          {
            code: "INVALID_TYPE",
            severity: "error",
            path,
            message: `${path} is required`,
            allowed: `a ${issue.expected}`,
          },
        ];
      }
      return [
        {
          code: "INVALID_TYPE",
          severity: "error",
          path,
          message: `expected ${issue.expected}, found ${describeType(found)}`,
          found,
          allowed: `a ${issue.expected}`,
        },
      ];
    }
    case "invalid_value":
      return [
        {
          code: "INVALID_VALUE",
          severity: "error",
          path,
          message: "not one of the allowed values",
          found,
          allowed: issue.values.map((v) => String(v)).join(" | "),
        },
      ];
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const relation = issue.code === "too_small" ? (inclusive ? ">=" : ">") : inclusive ? "<=" : "<";
      const what = issue.origin === "string" ? "length" : issue.origin === "array" ? "item count" : "value";
      return [
        {
          code: "OUT_OF_RANGE",
          severity: "error",
          path,
          message:
            issue.message.startsWith("Too") || issue.message.startsWith("Number")
              ? `${what} out of range`
              : issue.message,
          found,
          allowed: `${what} ${relation} ${String(bound)}`,
        },
      ];
    }
    case "invalid_format":
      return [{ code: "INVALID_FORMAT", severity: "error", path, message: issue.message, found }];
    case "invalid_union":
      return [
        {
          code: "INVALID_TYPE",
          severity: "error",
          path,
          message: `expected a number or a quantity string, found ${describeType(found)}`,
          found,
          allowed: 'a number, or a string such as "50ms", "3k", "1.5GB"',
        },
      ];
    default: {
      const units = /one of the units (.*), found/.exec(issue.message);
      if (units) {
        return [
          {
            code: "INVALID_QUANTITY",
            severity: "error",
            path,
            message: "not a quantity",
            found,
            allowed: `a number, or a number with a unit: ${units[1]}`,
          },
        ];
      }
      return [{ code: "INVALID", severity: "error", path, message: issue.message, found }];
    }
  }
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.code}|${p.path}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The devices section goes with an on-device mode: an edge or embedded plan cannot be sized without
 * it, and a section no plan reads is a mistake the user should hear of.
 */
function edgeSectionProblems(spec: Spec): Problem[] {
  const onDevice = spec.inference.mode === "edge" || spec.inference.mode === "embedded";
  if (onDevice && spec.edge === null)
    return [
      {
        code: "INVALID",
        severity: "error",
        path: "edge",
        message: `inference.mode ${spec.inference.mode} runs the model on devices: the edge section says which`,
        allowed:
          "edge: { devices, hardware: cpu-x86 | cpu-arm | jetson | npu | browser, memoryMb, connectivity, sites }",
      },
    ];
  if (!onDevice && spec.edge !== null)
    return [
      {
        code: "INVALID",
        severity: "error",
        path: "inference.mode",
        message: "the spec describes devices (edge) but does not run inference on them",
        found: spec.inference.mode,
        allowed: "edge (a fleet of devices) or embedded (inside an application); or remove the edge section",
      },
    ];
  return [];
}
