export {
  SPEC_SCHEMA_COMMENT,
  SPEC_SCHEMA_FILE,
  SPEC_SCHEMA_ID,
  specJsonSchema,
  specJsonSchemaText,
  writeSchemaBeside,
} from "./json-schema.js";
export { loadSpecFile } from "./load.js";
export {
  formatPath,
  type ParseResult,
  parseSpec,
  parseSpecText,
  parseSpecValue,
  providedPaths,
} from "./parse.js";
export { compareProblems, formatProblem, type Problem, type ProblemCode, type Severity } from "./problems.js";
export * from "./schema.js";
export { parseQuantity } from "./units.js";
