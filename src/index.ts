/**
 * stackwright's public API: the one place a program using stackwright as a library imports from
 * (`import { parseSpec, createPlan } from "stackwright"`). Everything else under src/ is internal
 * and may move. The stages, in the order data flows through them:
 *
 *   parseSpec / loadSpecFile -> createPlan -> generateAll -> validateFileSet -> writeFileSet
 *                                  |-> explainDecision, diffPlans, formatTable
 */

export {
  BundleError,
  type BundleManifest,
  buildBundle,
  generateSigningKeys,
  verifyBundle,
} from "./edge/bundle.js";
export { type EmbeddedModel, openBundle } from "./edge/embedded.js";
export { EdgeRunner, type EdgeRunOptions } from "./edge/runner.js";
export { type FileContent, type FileSet, GENERATED_HEADER } from "./fileset/index.js";
export { type GenerateOptions, generateAll, TARGETS } from "./generate/index.js";
export { diffPlans, formatDiff, type PlanDiff } from "./plan/diff.js";
export { type Explanation, explainDecision, explanationSchema, formatExplanation } from "./plan/explain.js";
export { formatMarkdown, formatTable } from "./plan/format.js";
export {
  CAPABILITIES,
  type Capability,
  type Control,
  type Cost,
  createPlan,
  type Decision,
  type DefaultValue,
  loadDefaultRuleSet,
  loadRuleSetFrom,
  type Plan,
  type PlanOptions,
  type PlanWarning,
  planErrors,
  planSchema,
  planSpecFile,
} from "./plan/index.js";
export {
  formatProblem,
  loadSpecFile,
  type ParseResult,
  type Problem,
  parseSpec,
  parseSpecValue,
  type ResolvedSpec,
  type Spec,
  type SpecInput,
  specJsonSchema,
} from "./requirements/index.js";
export { packageVersion } from "./util/package.js";
export { formatValidationProblem, type ValidationProblem, validateFileSet } from "./validate/index.js";
export { LOCK_FILE, type WriteOptions, type WriteResult, writeFileSet } from "./write/index.js";
