/** Diagnostics are collected, never thrown one at a time: `{code, path, message}` with a closed code set. */
export type Severity = "error" | "warning";

export type ProblemCode =
  | "YAML_SYNTAX"
  | "NOT_AN_OBJECT"
  | "INVALID_TYPE"
  | "INVALID_VALUE"
  | "UNKNOWN_FIELD"
  | "OUT_OF_RANGE"
  | "INVALID_FORMAT"
  | "INVALID_QUANTITY"
  | "FILE_NOT_READABLE"
  | "INVALID"
  // contradictions between fields
  | "BATCH_WITH_TIGHT_LATENCY"
  | "REALTIME_WITH_LONG_DEADLINE"
  | "STREAMING_WITHOUT_EVENT_SOURCE"
  | "BATCH_WITHOUT_SCHEDULE"
  | "AVERAGE_ABOVE_PEAK"
  | "RESIDENCY_REGION_MISMATCH"
  | "UNKNOWN_REGION"
  | "HIPAA_REGION_NOT_ELIGIBLE"
  | "MULTI_REGION_ON_EXISTING_CLUSTER"
  | "AVAILABILITY_NEEDS_MULTI_REGION"
  | "NO_SECOND_REGION"
  | "PRIMARY_REGION_MISMATCH"
  | "MULTI_REGION_ONE_REGION"
  | "DUPLICATE_REGION"
  | "RECOVERY_NEEDS_SECOND_REGION"
  | "RPO_UNACHIEVABLE"
  | "RTO_UNACHIEVABLE"
  | "FAILOVER_EXCEEDS_BUDGET"
  | "MULTI_REGION_NOT_BUILT"
  | "UNKNOWN_TOOL"
  | "GPU_FOR_TREE_MODEL"
  | "GPU_REQUIRED_BUT_DISABLED"
  | "PII_WITHOUT_COMPLIANCE"
  | "DUPLICATE_FEATURE"
  | "MODEL_TOO_LARGE_FOR_DEVICE"
  | "LATENCY_UNREACHABLE_ON_DEVICE"
  | "GPU_MODEL_ON_CPU_DEVICE"
  | "NPU_NOT_USED"
  | "EDGE_CLOUD_SIDE_NOT_BUILT";

export interface Problem {
  code: ProblemCode;
  severity: Severity;
  /** dotted path into the spec, "" for the whole document */
  path: string;
  message: string;
  /** what was found, printed as JSON */
  found?: unknown;
  /** what is allowed, in words or as a list */
  allowed?: string;
}

export function formatProblem(problem: Problem): string {
  const where = problem.path === "" ? "(spec)" : problem.path;
  let line = `${problem.severity} ${problem.code} at ${where}: ${problem.message}`;
  if (problem.found !== undefined) line += `; found ${JSON.stringify(problem.found)}`;
  if (problem.allowed !== undefined) line += `; allowed: ${problem.allowed}`;
  return line;
}

export function compareProblems(a: Problem, b: Problem): number {
  if (a.severity !== b.severity) return a.severity === "error" ? -1 : 1;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}
