/**
 * The questions whose answers a plan must not guess: when a partial spec leaves them out, the server
 * asks (elicitation) or returns them. Text and choices come from the spec schema's enums.
 */
import {
  BUDGET_PRIORITIES,
  CLOUD_PROVIDERS,
  COMPLIANCE_FRAMEWORKS,
  INFERENCE_MODES,
  USE_CASE_KINDS,
} from "../src/spec/index.js";
import { getPath } from "../src/util/paths.js";

export interface Question {
  id: string;
  path: string;
  prompt: string;
  help: string;
  kind: "text" | "number" | "select" | "multi-select";
  choices?: readonly string[];
}

export const KEY_QUESTIONS: readonly Question[] = [
  {
    id: "name",
    path: "metadata.name",
    prompt: "What is the workload called?",
    help: "Names every generated resource.",
    kind: "text",
  },
  {
    id: "use-case",
    path: "useCase.kind",
    prompt: "What kind of model is it?",
    help: "Moves hardware, caching, drift and monitoring decisions.",
    kind: "select",
    choices: USE_CASE_KINDS,
  },
  {
    id: "mode",
    path: "inference.mode",
    prompt: "How are predictions consumed?",
    help: "realtime (a caller waits), batch (on a schedule), streaming (events on a log), or auto.",
    kind: "select",
    choices: INFERENCE_MODES,
  },
  {
    id: "latency",
    path: "inference.latencyP99Ms",
    prompt: "What p99 latency must predictions meet, in ms?",
    help: "Moves serving mode, hardware and batching.",
    kind: "number",
  },
  {
    id: "peak",
    path: "inference.peakQps",
    prompt: "What is the peak request rate, in requests per second?",
    help: "Sizes replicas and moves runtime and batching.",
    kind: "number",
  },
  {
    id: "cloud",
    path: "cloud.provider",
    prompt: "Which cloud (or your own Kubernetes cluster)?",
    help: "Chooses the Terraform, registry and price table.",
    kind: "select",
    choices: CLOUD_PROVIDERS,
  },
  {
    id: "compliance",
    path: "compliance",
    prompt: "Which compliance frameworks apply?",
    help: "Moves encryption, network, identity and audit decisions.",
    kind: "multi-select",
    choices: COMPLIANCE_FRAMEWORKS,
  },
  {
    id: "budget",
    path: "budget.monthlyUsd",
    prompt: "What is the monthly budget in USD?",
    help: "The plan warns above it and names the cheapest change that fits.",
    kind: "number",
  },
  {
    id: "priority",
    path: "budget.priority",
    prompt: "What matters more: cost or performance?",
    help: "Tilts delivery and sizing decisions.",
    kind: "select",
    choices: BUDGET_PRIORITIES,
  },
];

export function missingQuestions(raw: unknown): Question[] {
  return KEY_QUESTIONS.filter((q) => getPath(raw, q.path) == null);
}
