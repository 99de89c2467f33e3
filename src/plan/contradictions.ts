/**
 * Contradictions between spec fields (and between the spec and the region catalog) are surfaced as
 * coded warnings or errors in the Plan, never silently "fixed": the user decides what they meant.
 */
import type { RegionCatalog } from "../engine/index.js";
import { EDGE_CLOUDS } from "../infra/index.js";
import { EVENT_LOG_SOURCES, type ResolvedSpec } from "../requirements/index.js";
import type { Availability } from "./availability.js";
import type { Workload } from "./capacity.js";
import type { PlanWarning } from "./types.js";

const JURISDICTION_NAMES: Record<string, string> = {
  us: "the United States",
  eu: "the EU",
  uk: "the United Kingdom",
  ch: "Switzerland",
  other: "outside the EU and the US",
};

export function findContradictions(
  spec: ResolvedSpec,
  workload: Workload,
  regions: RegionCatalog,
  choices: Record<string, string>,
  isProvided: (path: string) => boolean,
  /** the plan's availability model (availabilityOf), derived once by the planner */
  availability: Availability | null,
): PlanWarning[] {
  const out: PlanWarning[] = [];
  // each contradiction names the fields it is about; one between values the user never gave is a
  // fault of the defaults, not of the spec, and is never reported against it
  const push = (w: PlanWarning, about: readonly string[]) => {
    if (about.some(isProvided)) out.push(w);
  };
  const inf = spec.inference;
  const mode = choices["serving.mode"];

  if (mode === "batch" && inf.latencyP99Ms < 1000) {
    push(
      {
        code: "BATCH_WITH_TIGHT_LATENCY",
        severity: "error",
        path: "inference.latencyP99Ms",
        message: `batch scoring cannot promise a ${inf.latencyP99Ms} ms p99: results are computed per run, hours apart`,
        suggestion:
          "if callers wait for each answer set inference.mode: realtime; if they read precomputed results, set latencyP99Ms to the run deadline (e.g. '4h')",
      },
      ["inference.latencyP99Ms"],
    );
  }
  if (mode === "realtime" && inf.batch.deadlineHours !== null && inf.batch.deadlineHours >= 1) {
    push(
      {
        code: "REALTIME_WITH_LONG_DEADLINE",
        severity: "warning",
        path: "inference.batch.deadlineHours",
        message: `a realtime endpoint was chosen, but a ${inf.batch.deadlineHours} h batch deadline says results are not awaited per request`,
        suggestion: "set inference.mode: batch (with a schedule) if nobody waits per prediction",
      },
      ["inference.batch.deadlineHours"],
    );
  }
  const eventLog = spec.data.sources.some((s) => (EVENT_LOG_SOURCES as readonly string[]).includes(s));
  if ((mode === "streaming" || inf.mode === "streaming") && !eventLog) {
    push(
      {
        code: "STREAMING_WITHOUT_EVENT_SOURCE",
        severity: "error",
        path: "data.sources",
        message: `streaming inference reads events from a log, but data.sources has none (${spec.data.sources.join(", ") || "empty"})`,
        suggestion: `add the event log to data.sources (${EVENT_LOG_SOURCES.join(", ")}) or choose inference.mode realtime or batch`,
      },
      ["inference.mode", "data.sources"],
    );
  }
  if (mode === "batch" && inf.batch.schedule === null) {
    push(
      {
        code: "BATCH_WITHOUT_SCHEDULE",
        severity: "warning",
        path: "inference.batch.schedule",
        message: "batch scoring without a schedule: the plan assumes daily at 02:00 ('0 2 * * *')",
        suggestion: "set inference.batch.schedule to a cron expression",
      },
      ["inference.mode", "inference.batch.schedule"],
    );
  }
  if (inf.averageQps !== null && inf.averageQps > inf.peakQps) {
    push(
      {
        code: "AVERAGE_ABOVE_PEAK",
        severity: "error",
        path: "inference.averageQps",
        message: `average ${inf.averageQps} QPS is above the peak of ${inf.peakQps} QPS`,
        suggestion: "the peak is the highest rate the endpoint must absorb; swap or correct the two values",
      },
      ["inference.averageQps", "inference.peakQps"],
    );
  }

  const provider = spec.cloud.provider;
  const region = regions.clouds[provider]?.[spec.cloud.region];
  if (provider !== "kubernetes" && !region) {
    const known = Object.keys(regions.clouds[provider] ?? {});
    push(
      {
        code: "UNKNOWN_REGION",
        severity: "warning",
        path: "cloud.region",
        message: `region ${spec.cloud.region} is not in the region catalog for ${provider}: residency and HIPAA eligibility cannot be checked`,
        suggestion: `use a known region (${known.join(", ")}) or add it to rules/regions.yaml`,
      },
      ["cloud.region"],
    );
  }
  if (spec.dataResidency !== "any") {
    if (provider === "kubernetes") {
      push(
        {
          code: "UNKNOWN_REGION",
          severity: "warning",
          path: "dataResidency",
          message: `data must stay in ${JURISDICTION_NAMES[spec.dataResidency]}, but the location of the team's own cluster is not known to stackwright`,
          suggestion: "confirm where the cluster and its storage run",
        },
        ["dataResidency"],
      );
    } else if (region && region.jurisdiction !== spec.dataResidency) {
      push(
        {
          code: "RESIDENCY_REGION_MISMATCH",
          severity: "error",
          path: "cloud.region",
          message: `dataResidency is ${spec.dataResidency}, but ${provider} region ${spec.cloud.region} is in ${JURISDICTION_NAMES[region.jurisdiction]}`,
          suggestion: `choose a ${provider} region in ${JURISDICTION_NAMES[spec.dataResidency]}: ${Object.entries(
            regions.clouds[provider] ?? {},
          )
            .filter(([, r]) => r.jurisdiction === spec.dataResidency)
            .map(([name]) => name)
            .join(", ")}`,
        },
        ["cloud.region", "dataResidency"],
      );
    }
  }
  if (spec.compliance.includes("hipaa") && region && !region.hipaaEligible) {
    push(
      {
        code: "HIPAA_REGION_NOT_ELIGIBLE",
        severity: "error",
        path: "cloud.region",
        message: `HIPAA applies, but ${provider} region ${spec.cloud.region} has no HIPAA-eligible services under the provider's BAA${region.note ? ` (${region.note})` : ""}`,
        suggestion: `choose a region covered by the BAA: ${Object.entries(regions.clouds[provider] ?? {})
          .filter(([, r]) => r.hipaaEligible && r.jurisdiction === "us")
          .map(([name]) => name)
          .join(", ")}`,
      },
      ["cloud.region", "compliance"],
    );
  }
  if (spec.availability.multiRegion && provider === "kubernetes") {
    push(
      {
        code: "MULTI_REGION_ON_EXISTING_CLUSTER",
        severity: "warning",
        path: "availability.multiRegion",
        message:
          "multi-region availability was asked for, but the plan deploys to the team's one existing cluster",
        suggestion: "deploy the chart to a second cluster in another region and route between them",
      },
      ["availability.multiRegion"],
    );
  }
  if (spec.availability.targetPercent >= 99.99 && !spec.availability.multiRegion) {
    push(
      {
        code: "AVAILABILITY_NEEDS_MULTI_REGION",
        severity: "warning",
        path: "availability.targetPercent",
        message: `${spec.availability.targetPercent}% availability allows ${((100 - spec.availability.targetPercent) * 438).toFixed(1)} minutes of downtime a month: one region's outage exceeds it`,
        suggestion: "set availability.multiRegion: true, or lower the target to 99.95",
      },
      ["availability.targetPercent"],
    );
  }
  out.push(...regionListProblems(spec, regions, isProvided));
  out.push(...recoveryProblems(spec, availability, isProvided));
  if (spec.model.gpu === true && workload.classical) {
    push(
      {
        code: "GPU_FOR_TREE_MODEL",
        severity: "warning",
        path: "model.gpu",
        message: `a ${spec.model.framework} model gains nothing from a GPU in ONNX Runtime; the plan serves it on CPU`,
        suggestion: "set model.gpu: auto",
      },
      ["model.gpu"],
    );
  }
  if (spec.model.gpu === false && workload.gpuRequired) {
    push(
      {
        code: "GPU_REQUIRED_BUT_DISABLED",
        severity: "error",
        path: "model.gpu",
        message: `an LLM of ${Math.round(workload.parametersMillions)}M parameters cannot be served on CPU within any interactive latency`,
        suggestion: "set model.gpu: auto or true",
      },
      ["model.gpu"],
    );
  }
  if (choices["serving.hardware"] === "gpu" && !workload.gpu) {
    push(
      {
        code: "GPU_REQUIRED_BUT_DISABLED",
        severity: "error",
        path: "model.parametersMillions",
        message: `no GPU instance in the ${provider} price table holds ${Math.round(workload.parametersMillions)}M parameters even at int4`,
        suggestion:
          "shard the model across GPUs (tensor parallelism) outside stackwright, or choose a smaller model",
      },
      ["model.parametersMillions", "model.sizeMb", "useCase.kind"],
    );
  }
  out.push(...deviceContradictions(spec, workload, isProvided));
  if (spec.data.containsPii && spec.compliance.length === 0) {
    push(
      {
        code: "PII_WITHOUT_COMPLIANCE",
        severity: "warning",
        path: "compliance",
        message: "the data contains personal information but no compliance framework is listed",
        suggestion:
          "add gdpr (EU residents' data), hipaa (health data) or pci-dss (card data) where they apply",
      },
      ["data.containsPii"],
    );
  }
  out.push(...deliveryContradictions(spec, choices, isProvided));
  const seen = new Set<string>();
  spec.features.fields.forEach((field, index) => {
    if (seen.has(field.name)) {
      push(
        {
          code: "DUPLICATE_FEATURE",
          severity: "error",
          path: `features.fields[${index}].name`,
          message: `feature ${field.name} is declared twice; input order would be ambiguous`,
        },
        ["features.fields"],
      );
    }
    seen.add(field.name);
  });
  return out;
}

/**
 * A delivery the spec states (deployment.strategy, deployment.access, deployment.environments) is
 * honoured by a rule at the top priority; where none could honour it, this says why instead of
 * quietly deploying another way.
 */
function deliveryContradictions(
  spec: ResolvedSpec,
  choices: Record<string, string>,
  isProvided: (path: string) => boolean,
): PlanWarning[] {
  const out: PlanWarning[] = [];
  const { strategy, access } = spec.deployment;
  const mode = choices["serving.mode"];
  const runtime = choices["serving.runtime"];
  const strict = spec.compliance.includes("pci-dss") || spec.compliance.includes("hipaa");
  if (
    isProvided("deployment.strategy") &&
    strategy !== "auto" &&
    choices["deployment.strategy"] !== strategy
  ) {
    const why =
      mode === "batch"
        ? "batch runs have no live traffic to split or mirror: each run pins one model version (versioned-job)"
        : mode === "streaming" && strategy !== "rolling"
          ? strategy === "shadow"
            ? "the stream consumer has no shadow comparison (the serving core's shadow routing serves the HTTP path)"
            : "splitting or switching a partitioned stream by weight reorders events per key"
          : runtime !== "kubernetes"
            ? `the ${runtime} runtime deploys a new revision in place; ${strategy} gates run on Kubernetes (Argo Rollouts, the serving core's shadow routing)`
            : `the rules chose ${choices["deployment.strategy"]}`;
    out.push({
      code: "DEPLOYMENT_STRATEGY_REFUSED",
      severity: "error",
      path: "deployment.strategy",
      message: `${strategy} cannot be honoured: ${why}`,
      suggestion: `remove deployment.strategy (or set auto) to take ${choices["deployment.strategy"]}`,
    });
  }
  if (isProvided("deployment.access") && access !== "auto" && choices["deployment.access"] !== access) {
    const why =
      runtime !== "kubernetes"
        ? `the ${runtime} runtime has no cluster to reach: deploys go through the cloud's API`
        : access === "public-endpoint" && strict
          ? "PCI DSS and HIPAA keep the cluster API off the internet"
          : access === "gitops" && choices["deployment.strategy"] === "shadow"
            ? "the shadow strategy's promotion gate reads the serving core's comparison from the cluster, which a GitOps pipeline never reaches"
            : `the rules chose ${choices["deployment.access"]}`;
    out.push({
      code: "DEPLOYMENT_ACCESS_REFUSED",
      severity: "error",
      path: "deployment.access",
      message: `${access} cannot be honoured: ${why}`,
      suggestion: `remove deployment.access (or set auto) to take ${choices["deployment.access"]}`,
    });
  }
  if (choices["deployment.access"] === "gitops" && spec.deployment.repository === null)
    out.push({
      code: "GITOPS_WITHOUT_REPOSITORY",
      severity: "error",
      path: "deployment.repository",
      message:
        "a GitOps controller pulls the chart and release values from the platform repository, and the spec does not name it",
      suggestion: "set deployment.repository to its https clone URL (https://github.com/org/repo.git)",
    });
  return out;
}

/** The regions a multi-region spec lists: each known, within the residency, HIPAA-eligible, listed once. */
function regionListProblems(
  spec: ResolvedSpec,
  regions: RegionCatalog,
  isProvided: (path: string) => boolean,
): PlanWarning[] {
  if (!isProvided("availability.regions")) {
    if (
      spec.availability.multiRegion &&
      spec.availability.regions.length < 2 &&
      spec.cloud.provider !== "kubernetes"
    )
      return [
        {
          code: "NO_SECOND_REGION",
          severity: "error",
          path: "availability.multiRegion",
          message: `multi-region was asked for, but no other ${spec.cloud.provider} region in the catalog meets the residency and HIPAA needs of ${spec.cloud.region}`,
          suggestion: "list the regions in availability.regions, or relax dataResidency",
        },
      ];
    return [];
  }
  const out: PlanWarning[] = [];
  const provider = spec.cloud.provider;
  const catalog = regions.clouds[provider] ?? {};
  const listed = spec.availability.regions;
  if (isProvided("cloud.region") && listed[0] !== spec.cloud.region)
    out.push({
      code: "PRIMARY_REGION_MISMATCH",
      severity: "error",
      path: "availability.regions[0]",
      message: `availability.regions starts with ${listed[0]}, but cloud.region is ${spec.cloud.region}: the primary is the first region listed`,
      suggestion: `put ${spec.cloud.region} first in availability.regions, or leave cloud.region out`,
    });
  if (spec.availability.multiRegion === false || listed.length < 2) {
    if (isProvided("availability.multiRegion") && spec.availability.multiRegion !== listed.length > 1)
      out.push({
        code: "MULTI_REGION_ONE_REGION",
        severity: "error",
        path: "availability.regions",
        message: `availability.multiRegion is ${spec.availability.multiRegion}, but availability.regions lists ${listed.length} region(s)`,
        suggestion: "list two or more regions for multi-region, or one without multiRegion",
      });
  }
  if (provider === "kubernetes" && listed.length > 1)
    out.push({
      code: "MULTI_REGION_ON_EXISTING_CLUSTER",
      severity: "error",
      path: "availability.regions",
      message: "several regions are listed, but the plan deploys to the team's one existing cluster",
      suggestion: "choose a cloud provider, or list one region",
    });
  const seen = new Set<string>();
  listed.forEach((name, i) => {
    const path = `availability.regions[${i}]`;
    if (seen.has(name))
      out.push({
        code: "DUPLICATE_REGION",
        severity: "error",
        path,
        message: `${name} is listed twice: a region cannot fail over to itself`,
        suggestion: `list ${name} once and add another region`,
      });
    seen.add(name);
    // the primary is cloud.region, which the checks above already judge
    if (i === 0 || provider === "kubernetes") return;
    const region = catalog[name];
    if (!region) {
      out.push({
        code: "UNKNOWN_REGION",
        severity: "warning",
        path,
        message: `region ${name} is not in the region catalog for ${provider}: residency and HIPAA eligibility cannot be checked`,
        suggestion: `use a known region (${Object.keys(catalog).join(", ")}) or add it to rules/regions.yaml`,
      });
      return;
    }
    if (spec.dataResidency !== "any" && region.jurisdiction !== spec.dataResidency)
      out.push({
        code: "RESIDENCY_REGION_MISMATCH",
        severity: "error",
        path,
        message: `dataResidency is ${spec.dataResidency}, but ${provider} region ${name} is in ${JURISDICTION_NAMES[region.jurisdiction]}: every region holds the data (replicated stores, the data bucket)`,
        suggestion: `choose ${provider} regions in ${JURISDICTION_NAMES[spec.dataResidency]}: ${Object.entries(
          catalog,
        )
          .filter(([, r]) => r.jurisdiction === spec.dataResidency)
          .map(([n]) => n)
          .join(", ")}`,
      });
    if (spec.compliance.includes("hipaa") && !region.hipaaEligible)
      out.push({
        code: "HIPAA_REGION_NOT_ELIGIBLE",
        severity: "error",
        path,
        message: `HIPAA applies, but ${provider} region ${name} has no HIPAA-eligible services under the provider's BAA${region.note ? ` (${region.note})` : ""}`,
        suggestion: "list only regions the BAA covers",
      });
  });
  if (provider === "gcp" && listed.length > 1) out.push(...dualRegionProblems(listed, catalog));
  return out;
}

/**
 * Google Cloud: a multi-region plan's data bucket is a configurable dual-region (turbo replication),
 * which pairs exactly two regions of one multi-region location (rules/regions.yaml, dualRegion).
 */
function dualRegionProblems(
  listed: readonly string[],
  catalog: Record<string, { dualRegion?: string }>,
): PlanWarning[] {
  const pairs = Object.entries(catalog).filter(([, r]) => r.dualRegion !== undefined);
  const suggestion = (location: string | undefined) =>
    `list two regions of one location: ${pairs
      .filter(([, r]) => location === undefined || r.dualRegion === location)
      .map(([n, r]) => `${n} (${r.dualRegion})`)
      .join(", ")}`;
  if (listed.length > 2)
    return [
      {
        code: "DUAL_REGION_PAIR",
        severity: "error",
        path: "availability.regions",
        message: `${listed.length} Google Cloud regions are listed, but the data bucket is a dual-region bucket with turbo replication, which pairs exactly two regions`,
        suggestion: suggestion(catalog[listed[0]]?.dualRegion),
      },
    ];
  const [primary, second] = listed.map((name) => catalog[name]?.dualRegion);
  if (primary !== undefined && primary === second) return [];
  return [
    {
      code: "DUAL_REGION_PAIR",
      severity: "error",
      path: "availability.regions",
      message: `${listed.join(" and ")} cannot share a dual-region bucket: ${listed
        .map(
          (name, i) =>
            `${name} is ${[primary, second][i] ? `in ${[primary, second][i]}` : "in no dual-region location"}`,
        )
        .join(", ")} (the data bucket is a configurable dual-region of one multi-region location)`,
      suggestion: suggestion(primary),
    },
  ];
}

/** Recovery objectives against what the plan's replication and routing can do (availabilityOf). */
function recoveryProblems(
  spec: ResolvedSpec,
  model: Availability | null,
  isProvided: (path: string) => boolean,
): PlanWarning[] {
  const out: PlanWarning[] = [];
  const { rpoMinutes, rtoMinutes, targetPercent } = spec.availability;
  if (model === null) {
    // one region: a regional outage stops serving until the region is back and may lose what it held
    for (const [path, value] of [
      ["availability.rtoMinutes", rtoMinutes],
      ["availability.rpoMinutes", rpoMinutes],
    ] as const)
      if (value !== null && isProvided(path) && spec.cloud.provider !== "kubernetes")
        out.push({
          code: "RECOVERY_NEEDS_SECOND_REGION",
          severity: "error",
          path,
          message: `${path.slice("availability.".length)} ${value} min cannot be met in one region: a regional outage lasts until the provider restores the region, with no bound`,
          suggestion:
            "set availability.multiRegion: true (or list availability.regions), or leave the objective out",
        });
    return out;
  }
  if (rpoMinutes !== null && rpoMinutes < model.rpo.achievableMinutes) {
    const worst = model.rpo.stores.filter((s) => s.rpoMinutes > rpoMinutes);
    out.push({
      code: "RPO_UNACHIEVABLE",
      severity: "error",
      path: "availability.rpoMinutes",
      message: `an RPO of ${rpoMinutes} min cannot be met: ${worst.map((s) => `the ${s.store} (${s.mechanism}) can lose ${s.rpoMinutes} min (${s.basis})`).join("; ")}`,
      suggestion: `raise availability.rpoMinutes to ${model.rpo.achievableMinutes}${worst.some((s) => s.store === "online-store") ? ", or make the features fresher (data.featureFreshness)" : ""}`,
    });
  }
  if (rtoMinutes !== null && rtoMinutes < model.rto.estimatedMinutes)
    out.push({
      code: "RTO_UNACHIEVABLE",
      severity: "error",
      path: "availability.rtoMinutes",
      message: `an RTO of ${rtoMinutes} min cannot be met: a failover takes about ${model.rto.estimatedMinutes} min (${model.rto.parts.map((p) => `${p.minutes} min ${p.what}`).join("; ")})`,
      suggestion:
        model.failover === "active-passive"
          ? "set availability.failover: active-active (every region carries the peak: no scale-up), or raise the RTO"
          : `raise availability.rtoMinutes to ${model.rto.estimatedMinutes}`,
    });
  if (model.rto.estimatedMinutes > model.monthlyBudgetMinutes && isProvided("availability.targetPercent"))
    out.push({
      code: "FAILOVER_EXCEEDS_BUDGET",
      severity: "warning",
      path: "availability.targetPercent",
      message: `${targetPercent}% allows ${model.monthlyBudgetMinutes} min of downtime a month, and one regional failover takes about ${model.rto.estimatedMinutes} min: a single regional outage spends more than the month's budget`,
      suggestion:
        model.failover === "active-passive"
          ? "set availability.failover: active-active, or lower the target"
          : "lower the target: the routing's own detection takes longer than the budget",
    });
  return out;
}

/**
 * An edge or embedded plan's device against its model: the model must fit the memory the spec gives
 * (quantized to int8 at best), a request must finish within the latency on the device class's figures,
 * a model that needs a GPU needs a device that has one, and an NPU is not what the serving core runs on.
 */
function deviceContradictions(
  spec: ResolvedSpec,
  workload: Workload,
  isProvided: (path: string) => boolean,
): PlanWarning[] {
  const device = workload.device;
  if (!device || !spec.edge) return [];
  const out: PlanWarning[] = [];
  const push = (w: PlanWarning, about: readonly string[]) => {
    if (about.some(isProvided)) out.push(w);
  };
  if (!EDGE_CLOUDS.has(spec.cloud.provider))
    out.push({
      code: "EDGE_CLOUD_SIDE_NOT_BUILT",
      severity: "warning",
      path: "cloud.provider",
      message: `the cloud side of an on-device plan is built where the cloud has a managed device registry (AWS IoT Core, Azure IoT Hub): on ${spec.cloud.provider} no Terraform, no release workflow and no price are generated${spec.cloud.provider === "gcp" ? "; Google Cloud has had no managed device registry since IoT Core was retired" : ""}`,
      suggestion:
        "host the bundle store, the channel pointers (stackwright edge bundle, platform/edge/rollout.yaml) and a telemetry endpoint yourself, with the devices' identities your own; or plan the cloud side on AWS or Azure (cloud.provider: aws or azure)",
    });
  const figure = `${device.gflops} GFLOP/s, ${device.measured ? "measured" : "estimated"} (rules/models.yaml devices.${device.hardware}: ${device.source})`;
  if (!device.fitsInt8)
    push(
      {
        code: "MODEL_TOO_LARGE_FOR_DEVICE",
        severity: "error",
        path: "edge.memoryMb",
        message: `the serving core needs ${device.memoryMbInt8} MB with the model even quantized to int8 (${device.memoryMbFp32} MB at FP32), more than the ${device.memoryMb} MB a device gives it`,
        suggestion:
          "give the model more of the device's memory, or choose a smaller model (fewer parameters, a smaller input)",
      },
      ["edge.memoryMb", "model.parametersMillions", "model.sizeMb", "model.architecture"],
    );
  if (device.latencyMs > spec.inference.latencyP99Ms)
    push(
      {
        code: "LATENCY_UNREACHABLE_ON_DEVICE",
        severity: "error",
        path: "inference.latencyP99Ms",
        message: `one request takes about ${device.latencyMs} ms on ${device.title} at ${figure}, more than the ${spec.inference.latencyP99Ms} ms p99`,
        suggestion:
          "a smaller input (inference.imageSize) or model, a faster device class (edge.hardware), or a looser latency; measure the model on the device with stackwright calibrate",
      },
      [
        "inference.latencyP99Ms",
        "edge.hardware",
        "model.architecture",
        "model.parametersMillions",
        "inference.imageSize",
      ],
    );
  if (spec.model.gpu === true && device.accelerator === "none")
    push(
      {
        code: "GPU_MODEL_ON_CPU_DEVICE",
        severity: "error",
        path: "model.gpu",
        message: `the model needs a GPU, and ${device.title} has none the serving core can use`,
        suggestion:
          "run it on Jetson devices (edge.hardware: jetson), or set model.gpu: auto if it runs on a CPU",
      },
      ["model.gpu", "edge.hardware"],
    );
  if (device.hardware === "npu")
    push(
      {
        code: "NPU_NOT_USED",
        severity: "warning",
        path: "edge.hardware",
        message:
          "the NPU is not used: it runs only models compiled for its vendor's runtime (Edge TPU, HailoRT, RKNN), which ONNX Runtime has no provider for; the serving core runs on the board's CPU and is sized for it",
        suggestion: "compile the model for the NPU's runtime outside stackwright if its CPU is too slow",
      },
      ["edge.hardware"],
    );
  return out;
}
