/**
 * Every FileSet is validated before it is written and in tests, with real parsers: HCL + terraform
 * fmt + references, the Helm chart linted and rendered by helm and its objects checked against the
 * Kubernetes and CRD schemas and each other, GitHub's workflow parser, and YAML /
 * JSON for everything else. A generator that emits an invalid file is a failure, not a warning.
 */
import { parseAllDocuments } from "yaml";
import { type FileSet, GENERATED_HEADER as HEADER, textEntries } from "../fileset/index.js";
import { validateDockerfiles } from "./dockerfile.js";
import { validateTerraform } from "./hcl.js";
import { validateCharts, validatePipelineManifests } from "./k8s.js";
import type { ValidateOptions, ValidationProblem } from "./types.js";
import { validateWorkflows } from "./workflows.js";

export type { ValidateOptions, ValidationProblem } from "./types.js";

/** Formats without comments, and Helm templates (Go templates, not YAML until rendered). */
const NO_HEADER = [/\.jsonl?$/, /\/templates\/.*\.(ya?ml|tpl|txt)$/];

export function validateSyntax(files: FileSet): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const [path, text] of textEntries(files)) {
    const helmTemplate = /^deploy\/helm\/[^/]+\/templates\//.test(path);
    if (path.endsWith(".json")) {
      try {
        JSON.parse(text);
      } catch (error) {
        problems.push({ file: path, message: `JSON: ${(error as Error).message}`, validator: "json" });
      }
    } else if (path.endsWith(".jsonl")) {
      text.split("\n").forEach((line, i) => {
        if (line.trim() === "") return;
        try {
          JSON.parse(line);
        } catch (error) {
          problems.push({
            file: path,
            line: i + 1,
            message: `JSON lines: ${(error as Error).message}`,
            validator: "json",
          });
        }
      });
    } else if ((path.endsWith(".yaml") || path.endsWith(".yml")) && !helmTemplate) {
      for (const doc of parseAllDocuments(text)) {
        for (const error of doc.errors)
          problems.push({
            file: path,
            line: error.linePos?.[0].line,
            message: `YAML: ${error.message.split("\n")[0]}`,
            validator: "yaml",
          });
      }
    }
    if (
      !NO_HEADER.some((re) => re.test(path)) &&
      path !== "stackwright.lock.json" &&
      !text.slice(0, 300).includes(HEADER) &&
      !path.endsWith(".helmignore")
    ) {
      problems.push({ file: path, message: `missing the "${HEADER}" header`, validator: "header" });
    }
  }
  return problems;
}

export async function validateFileSet(
  files: FileSet,
  options: ValidateOptions = {},
): Promise<ValidationProblem[]> {
  const problems = [
    ...validateSyntax(files),
    ...validateDockerfiles(files),
    ...(await validateTerraform(files)),
    ...(await validateCharts(files, options)),
    ...(await validatePipelineManifests(files)),
    ...(await validateWorkflows(files)),
  ];
  return problems.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0),
  );
}

export function formatValidationProblem(p: ValidationProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ""}: [${p.validator}] ${p.message}`;
}
