/** GitHub Actions workflows through GitHub's own parser (@actions/workflow-parser). */

import { readFileSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";
import type { FileSet } from "../fileset/index.js";
import type { ValidationProblem } from "./types.js";

let hooked = false;
/** The parser imports its JSON schema without an import attribute, which Node refuses; serve it as JSON. */
function allowParserJson(): void {
  if (hooked) return;
  hooked = true;
  if (typeof module.registerHooks === "function") {
    module.registerHooks({
      load(url, context, nextLoad) {
        if (url.includes("@actions/workflow-parser") && url.endsWith(".json")) {
          return { format: "json", source: readFileSync(fileURLToPath(url), "utf8"), shortCircuit: true };
        }
        return nextLoad(url, context);
      },
    });
    return;
  }
  // Node < 22.15: the same hook, registered off-thread
  const hook = `export async function load(url, context, nextLoad) {
    if (url.includes("@actions/workflow-parser") && url.endsWith(".json")) {
      return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
    }
    return nextLoad(url, context);
  }`;
  module.register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

export async function validateWorkflows(files: FileSet): Promise<ValidationProblem[]> {
  const paths = Object.keys(files).filter((p) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(p));
  if (paths.length === 0) return [];
  allowParserJson();
  const parser = await import("@actions/workflow-parser");
  const problems: ValidationProblem[] = [];
  for (const path of paths) {
    const result = parser.parseWorkflow(
      { name: path, content: String(files[path]) },
      new parser.NoOperationTraceWriter(),
    );
    for (const error of result.context.errors.getErrors())
      problems.push({ file: path, message: error.message, validator: "github-actions" });
    if (result.value) {
      const template = await parser.convertWorkflowTemplate(result.context, result.value);
      for (const error of template.errors ?? [])
        problems.push({ file: path, message: error.Message, validator: "github-actions" });
    }
  }
  return problems;
}
