/**
 * The question bank, as data: each question fills one spec path, says why it matters (which
 * decisions it moves), has an input kind and a default from the spec schema, and a condition for
 * when it is asked. Validation is the spec schema's own: an answer is applied to the draft spec and
 * any problem at its path is the error shown.
 */
import {
  BUDGET_PRIORITIES,
  CLOUD_PROVIDERS,
  COMPLIANCE_FRAMEWORKS,
  DATA_RESIDENCIES,
  DATA_SOURCES,
  DEPLOYMENT_ACCESS,
  DEPLOYMENT_STRATEGIES,
  EDGE_CONNECTIVITY,
  EDGE_HARDWARE,
  FAILOVER_MODELS,
  FRAMEWORKS,
  FRESHNESS,
  INFERENCE_MODES,
  MODEL_FORMATS,
  parseQuantity,
  TRAFFIC_PATTERNS,
  TRAINING_CADENCES,
  USE_CASE_KINDS,
} from "../requirements/index.js";
import { DURATION_MS } from "../requirements/units.js";

export type QuestionKind = "select" | "multi" | "number" | "text" | "yesno" | "list" | "fields";
export type Answers = Record<string, unknown>;

export interface Question {
  id: string;
  path: string;
  prompt: string;
  help: string;
  kind: QuestionKind;
  choices?: readonly string[];
  /** the schema default (what "skip" accepts); a function when it depends on earlier answers */
  default: unknown | ((answers: Answers) => unknown);
  /** asked only when this holds for the answers so far */
  when?: (answers: Answers) => boolean;
  /** a unit hint for numbers ("ms", "QPS") */
  unit?: string;
  /**
   * A key question: its answer moves the plan too much to be guessed, so the MCP server asks for it
   * (elicitation) or returns it when a partial spec leaves it out (mcp-server/questions.ts).
   */
  key?: true;
}

const CLASSICAL = ["sklearn", "xgboost", "lightgbm"];
const get = (a: Answers, path: string, fallback: unknown) => (path in a ? a[path] : fallback);
const mode = (a: Answers) => String(get(a, "inference.mode", "auto"));
/** More than one region: asked for, or listed. */
const multiRegion = (a: Answers) =>
  get(a, "availability.multiRegion", false) === true ||
  ((get(a, "availability.regions", null) as string[] | null)?.length ?? 0) > 1;
const llmGeneration = (a: Answers) => get(a, "useCase.kind", "") === "llm-generation";
/** The model runs on devices (edge) or inside an application (embedded): the devices' questions. */
const onDevice = (a: Answers) => mode(a) === "edge" || mode(a) === "embedded";
const deep = (a: Answers) =>
  !CLASSICAL.includes(String(get(a, "model.framework", "sklearn"))) ||
  get(a, "useCase.kind", "") === "llm-generation";
/** The latency answered so far in ms, or null when left to the mode's default. */
const latencyMs = (a: Answers): number | null => {
  const raw = get(a, "inference.latencyP99Ms", null);
  if (raw === null || raw === undefined || raw === "") return null;
  return typeof raw === "number" ? raw : (parseQuantity(String(raw), DURATION_MS, "ms") ?? null);
};
/** Batch questions: batch asked for, or auto mode where no tight latency rules a schedule out. */
const batchish = (a: Answers) => {
  if (mode(a) === "batch") return true;
  const latency = latencyMs(a);
  return mode(a) === "auto" && (latency === null || latency >= 60_000);
};
/** Run-size questions: only once a batch plan is asked for or a schedule is given. */
const batchRun = (a: Answers) =>
  batchish(a) &&
  (mode(a) === "batch" || ![undefined, null, ""].includes(a["inference.batch.schedule"] as string));

export const QUESTIONS: readonly Question[] = [
  {
    id: "name",
    path: "metadata.name",
    prompt: "What is the workload called?",
    help: "It names every generated resource (normalized per target).",
    kind: "text",
    default: "my-model",
    key: true,
  },
  {
    id: "owner",
    path: "metadata.owner",
    prompt: "Which team owns it?",
    help: "Tagged on every cloud resource.",
    kind: "text",
    default: "",
  },
  {
    id: "contacts",
    path: "metadata.contacts",
    prompt: "Who gets budget, cost-anomaly and alert notifications (emails, comma-separated)?",
    help: "Empty, the notifications reach nobody and the plan warns.",
    kind: "list",
    default: [],
  },
  {
    id: "kind",
    path: "useCase.kind",
    prompt: "What kind of model is it?",
    help: "Moves hardware, caching, drift and quality monitoring.",
    kind: "select",
    choices: USE_CASE_KINDS,
    default: "tabular-classification",
    key: true,
  },
  {
    id: "description",
    path: "useCase.description",
    prompt: "Describe it in a sentence (optional).",
    help: "Goes into the ADRs; never changes a decision.",
    kind: "text",
    default: "",
  },
  {
    id: "framework",
    path: "model.framework",
    prompt: "Which framework trains it?",
    help: "Trees and linear models serve on CPU; deep models may want a GPU.",
    kind: "select",
    choices: FRAMEWORKS,
    default: "sklearn",
  },
  {
    id: "format",
    path: "model.format",
    prompt: "In which format is it exported?",
    help: "ONNX gets graph optimizations; others are exported first.",
    kind: "select",
    choices: MODEL_FORMATS,
    default: "onnx",
  },
  {
    id: "size",
    path: "model.sizeMb",
    prompt: "How large is the model file?",
    help: "With the parameters, sizes GPU memory and CPU latency. 50, 50MB or 1.5GB.",
    kind: "number",
    unit: "MB",
    default: 50,
  },
  {
    id: "params",
    path: "model.parametersMillions",
    prompt: "How many parameters, in millions (blank if unknown)?",
    help: "Decides GPU class and quantization for deep models and LLMs.",
    kind: "number",
    unit: "M",
    default: null,
    when: deep,
  },
  {
    id: "architecture",
    path: "model.architecture",
    prompt: "Is it a known architecture (a name from rules/models.yaml, blank if not)?",
    help: "resnet50, yolov8s, bert-base, llama-3-8b ...: its published size and compute size the replicas instead of an estimate.",
    kind: "text",
    default: null,
    when: deep,
  },
  {
    id: "gflops",
    path: "model.gflopsPerRow",
    prompt: "GFLOP per prediction, if measured or published (blank to derive it)?",
    help: "Overrides the architecture's figure and the estimate.",
    kind: "number",
    unit: "GFLOP",
    default: null,
    when: deep,
  },
  {
    id: "embeddings",
    path: "model.embeddingParametersMillions",
    prompt: "Parameters in embedding tables, in millions (blank if none)?",
    help: "Looked up, not multiplied: they need memory on every replica, not compute.",
    kind: "number",
    unit: "M",
    default: null,
    when: deep,
  },
  {
    id: "gpu",
    path: "model.gpu",
    prompt: "GPU for serving?",
    help: "auto lets the capacity model decide from size, parameters and latency.",
    kind: "select",
    choices: ["auto", "true", "false"],
    default: "auto",
    when: deep,
  },
  {
    id: "mode",
    path: "inference.mode",
    prompt: "How are predictions consumed?",
    help: "realtime: a caller waits; batch: on a schedule; streaming: events on a log; edge: on a fleet of devices; embedded: inside an application; auto: let the rules decide.",
    kind: "select",
    choices: INFERENCE_MODES,
    default: "auto",
    key: true,
  },
  {
    id: "devices",
    path: "edge.devices",
    prompt: "How many devices run the model?",
    help: "Every device runs its own copy; the rings of a release are drawn from them.",
    kind: "number",
    unit: "devices",
    default: 1,
    when: onDevice,
  },
  {
    id: "hardware",
    path: "edge.hardware",
    prompt: "What do the devices run on?",
    help: "cpu-x86, cpu-arm (a Raspberry Pi class board), jetson (NVIDIA, CUDA), npu (an int8 accelerator: its CPU runs the model), browser (WebAssembly).",
    kind: "select",
    choices: EDGE_HARDWARE,
    default: "cpu-x86",
    when: onDevice,
  },
  {
    id: "deviceMemory",
    path: "edge.memoryMb",
    prompt: "Memory the model may use on a device?",
    help: "Decides whether the model fits as exported or must be quantized to int8. 512, 2gb.",
    kind: "number",
    unit: "MB",
    default: 1024,
    when: onDevice,
  },
  {
    id: "connectivity",
    path: "edge.connectivity",
    prompt: "How do the devices reach the cloud?",
    help: "always, intermittent (telemetry waits on disk), offline (updates by hand).",
    kind: "select",
    choices: EDGE_CONNECTIVITY,
    default: "intermittent",
    when: onDevice,
  },
  {
    id: "sites",
    path: "edge.sites",
    prompt: "How many sites are the devices spread over?",
    help: "A release reaches one site before the fleet.",
    kind: "number",
    unit: "sites",
    default: 1,
    when: onDevice,
  },
  {
    id: "latency",
    path: "inference.latencyP99Ms",
    prompt: "What p99 latency must predictions meet?",
    help: "Moves mode, hardware and batching. 50, 50ms, 2s or 4h. Blank: the mode's default (200 ms realtime, 5 s streaming, the run deadline for batch).",
    kind: "number",
    unit: "ms",
    default: null,
    key: true,
  },
  {
    id: "peak",
    path: "inference.peakQps",
    prompt: "Peak requests per second?",
    help: "Sizes replicas and moves runtime and batching. 300 or 3k. Blank: from the average, or 10.",
    kind: "number",
    unit: "QPS",
    default: null,
    when: (a) => mode(a) !== "batch",
    key: true,
  },
  {
    id: "average",
    path: "inference.averageQps",
    prompt: "Average requests per second (blank to estimate)?",
    help: "With the traffic pattern, sets the always-on minimum.",
    kind: "number",
    unit: "QPS",
    default: null,
    when: (a) => mode(a) !== "batch",
  },
  {
    id: "pattern",
    path: "inference.trafficPattern",
    prompt: "What does the traffic look like over a day?",
    help: "Variable traffic autoscales from the average; steady traffic is sized for the peak.",
    kind: "select",
    choices: TRAFFIC_PATTERNS,
    default: "steady",
  },
  {
    id: "rowsPerRequest",
    path: "inference.rowsPerRequest",
    prompt: "Rows the model scores per request?",
    help: "A ranker scoring 300 candidates a request: 300. Multiplies the model's work per request.",
    kind: "number",
    unit: "rows",
    default: 1,
    when: (a) => mode(a) !== "batch" && deep(a),
  },
  {
    id: "grpc",
    path: "inference.grpc",
    prompt: "Do clients call it over gRPC too (Triton or KServe clients)?",
    help: "Serves the Open Inference Protocol over gRPC beside REST, on its own port.",
    kind: "yesno",
    default: false,
    when: (a) => mode(a) === "realtime",
  },
  {
    id: "imageSize",
    path: "inference.imageSize",
    prompt: "Side of the square image the model takes, in pixels (blank for the architecture's)?",
    help: "A vision model's compute grows with the image's area. 640.",
    kind: "number",
    unit: "px",
    default: null,
    when: (a) => get(a, "useCase.kind", "") === "computer-vision",
  },
  {
    id: "sequenceTokens",
    path: "inference.sequenceTokens",
    prompt: "Tokens per input sequence (blank for 128)?",
    help: "A text encoder's compute grows with the sequence, attention with its square. 512.",
    kind: "number",
    unit: "tokens",
    default: null,
    when: (a) => ["nlp-classification", "embedding-search"].includes(String(get(a, "useCase.kind", ""))),
  },
  {
    id: "llmContext",
    path: "inference.llm.contextTokens",
    prompt: "Tokens of context one session holds, prompt and answer (blank for the model's, at most 4096)?",
    help: "Every session's KV cache at full context must fit the GPUs beside the weights. 8192.",
    kind: "number",
    unit: "tokens",
    default: null,
    when: llmGeneration,
  },
  {
    id: "llmOutput",
    path: "inference.llm.outputTokens",
    prompt: "Tokens generated per answer?",
    help: "With the inter-token latency, how long a session lasts.",
    kind: "number",
    unit: "tokens",
    default: 256,
    when: llmGeneration,
  },
  {
    id: "llmSessions",
    path: "inference.llm.concurrentSessions",
    prompt: "Sessions generating at once at peak (blank: peak QPS x the p99 budget)?",
    help: "Sizes the replicas: each holds as many as its memory and the latency targets allow.",
    kind: "number",
    unit: "sessions",
    default: null,
    when: llmGeneration,
  },
  {
    id: "llmTtft",
    path: "inference.llm.ttftMs",
    prompt: "Longest time to the first token (blank for none)?",
    help: "Prefill is compute-bound: long prompts need more GPU. 800ms.",
    kind: "number",
    unit: "ms",
    default: null,
    when: llmGeneration,
  },
  {
    id: "llmInterToken",
    path: "inference.llm.interTokenMs",
    prompt: "Longest time between two generated tokens (blank for none)?",
    help: "Decode is memory-bound: more sessions per replica make each token slower. 40ms.",
    kind: "number",
    unit: "ms",
    default: null,
    when: llmGeneration,
  },
  {
    id: "schedule",
    path: "inference.batch.schedule",
    prompt: "Batch schedule (cron, blank for none)?",
    help: 'A schedule with a loose latency budget makes it a batch plan. "0 3 * * 1" or @daily.',
    kind: "text",
    default: null,
    when: batchish,
  },
  {
    id: "rows",
    path: "inference.batch.rowsPerRun",
    prompt: "Rows scored per run?",
    help: "Sizes the parallelism of each run. 25M.",
    kind: "number",
    unit: "rows",
    default: null,
    when: batchRun,
  },
  {
    id: "deadline",
    path: "inference.batch.deadlineHours",
    prompt: "Hours each run may take?",
    help: "With the rows, sizes the run's workers.",
    kind: "number",
    unit: "h",
    default: null,
    when: batchRun,
  },
  {
    id: "volume",
    path: "data.volumeGbPerDay",
    prompt: "Data volume per day, in GB?",
    help: "Moves versioning and storage cost.",
    kind: "number",
    unit: "GB/day",
    default: 1,
  },
  {
    id: "sources",
    path: "data.sources",
    prompt: "Where does the data come from?",
    help: "Event logs enable streaming; warehouses keep features in place.",
    kind: "multi",
    choices: DATA_SOURCES,
    default: [],
  },
  {
    id: "freshness",
    path: "data.featureFreshness",
    prompt: "How fresh must features be?",
    help: "realtime or minutes needs an online feature store and streaming ingestion.",
    kind: "select",
    choices: FRESHNESS,
    default: "daily",
  },
  {
    id: "labels",
    path: "data.labelDelayDays",
    prompt: "How many days until labels (ground truth) arrive?",
    help: "Late labels make drift the early warning and shape quality monitoring.",
    kind: "number",
    unit: "days",
    default: 7,
  },
  {
    id: "pii",
    path: "data.containsPii",
    prompt: "Does the data contain personal information?",
    help: "Moves encryption and network decisions.",
    kind: "yesno",
    default: false,
  },
  {
    id: "entity",
    path: "features.entityKey",
    prompt: "Key the features are looked up by?",
    help: "The online store's entity key, e.g. card_id.",
    kind: "text",
    default: "id",
  },
  {
    id: "fields",
    path: "features.fields",
    prompt: "Input features, in order (name:type:description; separated by ';', blank for f0..f7)?",
    help: "Declares the model's input columns for /v1/predictions and drift. A range goes after the type: hour:int[0..23]:local hour.",
    kind: "fields",
    default: [],
  },
  {
    id: "cadence",
    path: "training.cadence",
    prompt: "How often is it retrained?",
    help: "on-drift retrains when drift crosses the alert band.",
    kind: "select",
    choices: TRAINING_CADENCES,
    default: "weekly",
  },
  {
    id: "traingpu",
    path: "training.gpu",
    prompt: "Does training need a GPU?",
    help: "Prices the training runs.",
    kind: "yesno",
    default: false,
    when: deep,
  },
  {
    id: "dataset",
    path: "training.datasetGb",
    prompt: "Training dataset size, in GB?",
    help: "Prices storage and training time.",
    kind: "number",
    unit: "GB",
    default: 10,
  },
  {
    id: "availability",
    path: "availability.targetPercent",
    prompt: "Availability target, in percent?",
    help: "99.9 needs 2 replicas in 2 zones, 99.95 needs 3 in 3.",
    kind: "number",
    unit: "%",
    default: 99.5,
  },
  {
    id: "multiregion",
    path: "availability.multiRegion",
    prompt: "Serve from more than one region?",
    help: "Doubles the platform; needed above 99.99%.",
    kind: "yesno",
    default: false,
  },
  {
    id: "budget",
    path: "budget.monthlyUsd",
    prompt: "Monthly budget in USD (blank for none)?",
    help: "Over budget, the plan names the cheapest change that fits.",
    kind: "number",
    unit: "USD",
    default: null,
    key: true,
  },
  {
    id: "priority",
    path: "budget.priority",
    prompt: "What matters more?",
    help: "performance tilts delivery towards canaries and headroom.",
    kind: "select",
    choices: BUDGET_PRIORITIES,
    default: "balanced",
    key: true,
  },
  {
    id: "compliance",
    path: "compliance",
    prompt: "Which compliance frameworks apply?",
    help: "Moves encryption, network, identity and audit; each control is mapped to a decision.",
    kind: "multi",
    choices: COMPLIANCE_FRAMEWORKS,
    default: [],
    key: true,
  },
  {
    id: "residency",
    path: "dataResidency",
    prompt: "Where must the data stay?",
    help: "Checked against the region's jurisdiction.",
    kind: "select",
    choices: DATA_RESIDENCIES,
    default: "any",
  },
  {
    id: "cloud",
    path: "cloud.provider",
    prompt: "Which cloud (or your own Kubernetes cluster)?",
    help: "Chooses the Terraform, registry and price table.",
    kind: "select",
    choices: CLOUD_PROVIDERS,
    default: "aws",
    key: true,
  },
  {
    id: "region",
    path: "cloud.region",
    prompt: "Which region?",
    help: "Checked for residency and HIPAA eligibility. Blank: the provider's default region, or the first that meets residency and HIPAA.",
    kind: "text",
    default: null,
    when: (a) => get(a, "cloud.provider", "aws") !== "kubernetes",
  },
  {
    id: "regions",
    path: "availability.regions",
    prompt: "Which regions should serve (comma-separated, the primary first)?",
    help: "Two or more make the plan multi-region. Blank: the region above, and with multi-region a second one the plan picks within the residency.",
    kind: "list",
    default: null,
    when: (a) => get(a, "cloud.provider", "aws") !== "kubernetes",
  },
  {
    id: "failover",
    path: "availability.failover",
    prompt: "How should the regions share traffic?",
    help: "active-passive: a warm standby takes over on a failed health check (cheaper, minutes to scale). active-active: every region serves and carries the whole peak.",
    kind: "select",
    choices: FAILOVER_MODELS,
    default: null,
    when: multiRegion,
  },
  {
    id: "rto",
    path: "availability.rtoMinutes",
    prompt: "Longest a regional outage may stop serving, in minutes (blank for no objective)?",
    help: "Checked against the routing's detection and a standby's scale-up.",
    kind: "number",
    unit: "min",
    default: null,
    when: multiRegion,
  },
  {
    id: "rpo",
    path: "availability.rpoMinutes",
    prompt: "Most recent data a regional outage may lose, in minutes (blank for no objective)?",
    help: "Checked against each store's replication.",
    kind: "number",
    unit: "min",
    default: null,
    when: multiRegion,
  },
  {
    id: "team",
    path: "team.size",
    prompt: "How many engineers will run it?",
    help: "Two or fewer with a small load get managed serverless runtimes.",
    kind: "number",
    unit: "people",
    default: 3,
  },
  {
    id: "tools",
    path: "team.existingTools",
    prompt: "Tools the team already runs (comma-separated)?",
    help: "MLflow, Airflow, Vault, W&B, lakeFS, DVC are reused when they fit.",
    kind: "list",
    default: [],
  },
  {
    id: "strategy",
    path: "deployment.strategy",
    prompt: "How should a new version reach traffic?",
    help: "auto lets the rules decide (canary for critical endpoints). shadow first answers a copy of live traffic and compares before it takes any; a strategy that cannot run here is refused with the reason.",
    kind: "select",
    choices: DEPLOYMENT_STRATEGIES,
    default: "auto",
    when: (a) => mode(a) !== "batch",
  },
  {
    id: "approval",
    path: "deployment.approval",
    prompt: "Must a person approve each release before production?",
    help: "Yes: the production GitHub environment needs required reviewers, and the deploy workflow checks they are set.",
    kind: "yesno",
    default: true,
  },
  {
    id: "access",
    path: "deployment.access",
    prompt: "How should deploys reach the cluster?",
    help: "auto: a GitOps controller the team already runs, else runners inside the network. public-endpoint opens the API to listed CIDRs (refused under PCI DSS and HIPAA).",
    kind: "select",
    choices: DEPLOYMENT_ACCESS,
    default: "auto",
  },
  {
    id: "repository",
    path: "deployment.repository",
    prompt: "The platform repository's https clone URL?",
    help: "What a GitOps controller pulls the chart and release values from (https://github.com/org/repo.git).",
    kind: "text",
    default: null,
    when: (a) =>
      get(a, "deployment.access", "auto") === "gitops" ||
      (get(a, "team.existingTools", []) as string[]).some((t) =>
        ["argocd", "argo-cd", "flux", "fluxcd"].includes(String(t).toLowerCase()),
      ),
  },
];

export function questionByPath(path: string): Question | undefined {
  return QUESTIONS.find((q) => q.path === path);
}

/**
 * What accepting a question without typing gives: the answer already held for it (seeded by --from,
 * --answers or --set, or given before), else the schema default.
 */
export function defaultFor(question: Question, answers: Answers): unknown {
  if (question.path in answers && answers[question.path] !== undefined) return answers[question.path];
  return typeof question.default === "function"
    ? (question.default as (a: Answers) => unknown)(answers)
    : question.default;
}
