export {
  ConflictError,
  type DecideOptions,
  type DecisionTrace,
  decide,
  decideCapability,
  type EngineDecision,
  type EngineResult,
} from "./evaluate.js";
export {
  type Expr,
  ExpressionError,
  evaluate,
  formatValue,
  parseExpression,
  type Resolver,
  referencedPaths,
  renderTemplate,
  truthy,
  type Value,
} from "./expr.js";
export {
  type CompiledRule,
  defaultRulesDir,
  type LoadOptions,
  loadRuleSet,
  type RuleSet,
  RuleSetError,
  type RuleSetProblem,
  type ValidatedRuleFiles,
  validateRuleFiles,
} from "./load.js";
export type {
  Architecture,
  ControlCatalog,
  GpuInstancePrice,
  InstancePrice,
  ModelCatalog,
  PatternCatalog,
  PriceTable,
  PriceTableFile,
  RegionCatalog,
  RuleDefinition,
} from "./schema.js";
export { MECHANISMS, type MechanismName } from "./schema.js";
