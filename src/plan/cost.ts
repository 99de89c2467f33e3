/**
 * Cost model: monthly USD from the dated price table of the plan's cloud. Every item names its
 * quantity, its unit price and the price's source, including the items people forget (cluster fee,
 * NAT, load balancer, logs, online store nodes, keys). Over budget, the cheapest change that fits is
 * found by re-costing each candidate change, never by cutting a control compliance requires.
 */
import type { PriceTable } from "../engine/index.js";
import type { CloudProvider, ResolvedSpec } from "../requirements/index.js";
import { buildsDeployRunner, PRIVATE_REGISTRY } from "./delivery.js";
import type { Capacity, Cost, CostItem, PlanWarning } from "./types.js";

export const HOURS_PER_MONTH = 730;

/** The decisions and sizes the cost depends on; candidate changes edit a copy of it. */
export interface CostContext {
  spec: ResolvedSpec;
  prices: PriceTable;
  capacity: Capacity;
  choices: Record<string, string>;
  averageQps: number;
  /** rows per second one batch replica scores (for run duration) */
  batchRowsPerSecond: number;
  spotForBatch: boolean;
  singleNatGateway: boolean;
}

const round = (usd: number) => Math.round(usd * 100) / 100;
const money = (usd: number) => `$${usd.toLocaleString("en-US", { maximumFractionDigits: 0 })}`;

/** Approximate runs per month of a 5-field cron expression or an @-macro. */
export function runsPerMonth(schedule: string | null): number {
  if (!schedule) return 30;
  const macro: Record<string, number> = { "@hourly": 730, "@daily": 30.4, "@weekly": 4.35, "@monthly": 1 };
  if (schedule in macro) return macro[schedule];
  const [minute, hour, dayOfMonth, , dayOfWeek] = schedule.split(/\s+/);
  const count = (field: string, range: number): number => {
    if (field === "*") return range;
    const step = /^\*\/(\d+)$/.exec(field);
    if (step) return Math.ceil(range / Number(step[1]));
    return field.split(",").reduce((n, part) => {
      const span = /^(\d+)-(\d+)$/.exec(part);
      return n + (span ? Number(span[2]) - Number(span[1]) + 1 : 1);
    }, 0);
  };
  const perDay = count(minute, 60) * count(hour, 24);
  const days =
    dayOfMonth !== "*" ? count(dayOfMonth, 31) : dayOfWeek !== "*" ? count(dayOfWeek, 7) * 4.35 : 30.4;
  return Math.round(perDay * days * 100) / 100;
}

function instancePrice(prices: PriceTable, name: string): number {
  const found = [...prices.cpuInstances, ...prices.gpuInstances].find((i) => i.name === name);
  return found?.hourlyUsd ?? 0;
}

function instanceSource(prices: PriceTable, name: string): string {
  const found = [...prices.cpuInstances, ...prices.gpuInstances].find((i) => i.name === name);
  return found?.source ?? "serverless pricing";
}

export function costItems(ctx: CostContext): CostItem[] {
  const { spec, prices, capacity, choices } = ctx;
  const s = prices.services;
  const items: CostItem[] = [];
  const add = (name: string, monthlyUsd: number, detail: string, source: string) => {
    if (monthlyUsd > 0) items.push({ name, monthlyUsd: round(monthlyUsd), detail, source });
  };
  const mode = choices["serving.mode"];
  const runtime = choices["serving.runtime"];
  const ownCluster = prices.cloud === "kubernetes";
  const serverless = runtime === "serverless-container" || runtime === "serverless-job";

  // Serving compute
  const hourly = serverless
    ? 1 * s.serverlessVcpuHourly.usd + 2 * s.serverlessGbHourly.usd
    : instancePrice(prices, capacity.instanceType);
  const computeSource = serverless
    ? s.serverlessVcpuHourly.source
    : instanceSource(prices, capacity.instanceType);
  if (mode === "batch") {
    const runs = runsPerMonth(spec.inference.batch.schedule);
    const rows = spec.inference.batch.rowsPerRun ?? 0;
    const runHours = Math.max(
      0.25,
      ctx.batchRowsPerSecond > 0 ? rows / (capacity.replicasMax * ctx.batchRowsPerSecond) / 3600 : 1,
    );
    const spot = ctx.spotForBatch ? 1 - s.spotDiscount.usd : 1;
    add(
      "Batch scoring compute",
      runs * runHours * capacity.replicasMax * hourly * spot,
      `${runs} runs/month x ${round(runHours)} h x ${capacity.replicasMax} x ${capacity.instanceType} at $${round(hourly * spot)}/h${ctx.spotForBatch ? " (spot)" : ""}; nothing runs between runs`,
      computeSource,
    );
  } else {
    const forAverage = Math.ceil(
      ctx.averageQps / Math.max(0.001, capacity.perReplicaQps * capacity.targetUtilization),
    );
    const billed = Math.min(capacity.replicasMax, Math.max(capacity.replicasMin, forAverage));
    add(
      mode === "streaming" ? "Stream consumers" : "Serving replicas",
      billed * hourly * HOURS_PER_MONTH * capacity.regions,
      `${billed} average replicas (${capacity.replicasMin}-${capacity.replicasMax}) x ${capacity.instanceType} at $${round(hourly)}/h x ${HOURS_PER_MONTH} h${capacity.regions > 1 ? ` x ${capacity.regions} regions` : ""}`,
      computeSource,
    );
  }

  // Pre-production environments run one replica each beside production: on Kubernetes a pod of the
  // serving size in its own namespace (a node of the serving pool when production fills its nodes),
  // on ECS one always-on task per service; Cloud Run and Container Apps scale pre-production to zero
  // and pre-production score jobs run on demand, so those carry no fixed cost.
  const preProduction = ["namespaces", "services"].includes(choices["deployment.environments"] ?? "")
    ? spec.deployment.environments.length - 1
    : 0;
  const alwaysOn = mode !== "batch" && (runtime === "kubernetes" || (serverless && prices.cloud === "aws"));
  if (preProduction > 0 && alwaysOn)
    add(
      "Pre-production environments",
      preProduction * hourly * HOURS_PER_MONTH,
      `${preProduction} x 1 replica (${spec.deployment.environments.slice(0, -1).join(", ")}) x ${serverless ? "1 task (1 vCPU, 2 GB)" : capacity.instanceType} at $${round(hourly)}/h, always on`,
      computeSource,
    );

  // Cluster
  if (runtime === "kubernetes" && !ownCluster) {
    add(
      "Managed Kubernetes control plane",
      s.clusterFeeHourly.usd * HOURS_PER_MONTH * capacity.regions,
      `${capacity.regions} cluster(s) at $${s.clusterFeeHourly.usd}/h`,
      s.clusterFeeHourly.source,
    );
    const systemNodes = Math.max(2, capacity.zones) * capacity.regions;
    add(
      "System node pool",
      systemNodes * instancePrice(prices, prices.systemInstance) * HOURS_PER_MONTH,
      `${systemNodes} x ${prices.systemInstance} for cluster add-ons (ingress, monitoring, operators)`,
      instanceSource(prices, prices.systemInstance),
    );
  }

  // Delivery: the self-hosted runner the Terraform builds inside the network (one, always on)
  if (buildsDeployRunner(prices.cloud as CloudProvider, choices["deployment.access"] ?? ""))
    add(
      "Deploy runner inside the network",
      instancePrice(prices, prices.systemInstance) * HOURS_PER_MONTH,
      `1 x ${prices.systemInstance}: the self-hosted GitHub Actions runner that deploys to the private cluster${PRIVATE_REGISTRY[prices.cloud as CloudProvider] ? " and pushes to the private registry" : ""}`,
      instanceSource(prices, prices.systemInstance),
    );

  // Network
  const privateNet = choices["security.network"] !== "public-tls";
  if (privateNet && !ownCluster && runtime !== "serverless-job") {
    const gateways = (ctx.singleNatGateway ? 1 : capacity.zones) * capacity.regions;
    const natGb = spec.data.volumeGbPerDay * 30 * 0.1;
    add(
      "NAT gateways",
      gateways * s.natGatewayHourly.usd * HOURS_PER_MONTH + natGb * s.natGatewayPerGb.usd,
      `${gateways} gateway(s) (${ctx.singleNatGateway ? "one shared" : "one per zone"}) + ${round(natGb)} GB/month processed (10% of data volume assumed to leave through NAT)`,
      s.natGatewayHourly.source,
    );
  }
  if (mode === "realtime" && !ownCluster) {
    const lcu = Math.max(1, ctx.averageQps / 1000);
    add(
      "Load balancer",
      (s.loadBalancerHourly.usd + lcu * s.loadBalancerCapacityUnitHourly.usd) *
        HOURS_PER_MONTH *
        capacity.regions,
      `1 load balancer${capacity.regions > 1 ? " per region" : ""} + ${round(lcu)} capacity units at ${round(ctx.averageQps)} QPS average`,
      s.loadBalancerHourly.source,
    );
  }

  // Storage and data
  const storageGb = spec.training.datasetGb + spec.data.volumeGbPerDay * 90 + (spec.model.sizeMb / 1024) * 10;
  add(
    "Object storage",
    storageGb * s.objectStoragePerGbMonth.usd,
    `${round(storageGb)} GB: training data, 90 days of raw data at ${spec.data.volumeGbPerDay} GB/day, 10 model versions`,
    s.objectStoragePerGbMonth.source,
  );
  if (choices["features.store"] === "online") {
    const nodes = capacity.zones > 1 ? 2 : 1;
    add(
      "Online feature store",
      nodes * s.onlineStoreNodeHourly.usd * HOURS_PER_MONTH,
      `${nodes} x ${prices.onlineStoreNode} (${nodes > 1 ? "primary + replica in another zone" : "single node"})`,
      s.onlineStoreNodeHourly.source,
    );
  }

  // Observability and security
  const logGb =
    mode === "batch"
      ? ((spec.inference.batch.rowsPerRun ?? 0) * runsPerMonth(spec.inference.batch.schedule) * 200) / 1e9
      : (ctx.averageQps * HOURS_PER_MONTH * 3600 * 500) / 1e9;
  add(
    "Prediction and service logs",
    logGb * s.logIngestPerGb.usd,
    `${round(logGb)} GB/month (${mode === "batch" ? "200 B per scored row" : "500 B per request"}) ingested`,
    s.logIngestPerGb.source,
  );
  if (choices["security.encryption"] === "customer-managed-keys") {
    add(
      "Customer-managed keys",
      4 * s.kmsKeyMonthly.usd,
      "4 keys: storage, logs, registry, secrets",
      s.kmsKeyMonthly.source,
    );
  }
  if (choices["security.audit"] === "immutable-audit-trail") {
    add(
      "Immutable audit trail",
      5 * 12 * s.auditLogPerGbMonth.usd,
      "about 5 GB/month of audit events kept 12 months on write-once storage",
      s.auditLogPerGbMonth.source,
    );
  }

  // Training
  const trainRuns = { daily: 30.4, weekly: 4.35, monthly: 1, "on-drift": 2 }[spec.training.cadence];
  const trainHours = Math.max(0.5, spec.training.datasetGb / 50);
  const trainInstance = spec.training.gpu
    ? [...prices.gpuInstances].sort((a, b) => a.hourlyUsd - b.hourlyUsd)[0]
    : [...prices.cpuInstances].sort((a, b) => b.vcpu - a.vcpu)[Math.min(1, prices.cpuInstances.length - 1)];
  const trainSpot = ctx.spotForBatch ? 1 - s.spotDiscount.usd : 1;
  add(
    "Training runs",
    trainRuns * trainHours * trainInstance.hourlyUsd * trainSpot,
    `${trainRuns} runs/month x ${round(trainHours)} h (${spec.training.datasetGb} GB at 50 GB/h) on ${trainInstance.name}${ctx.spotForBatch ? " (spot)" : ""}`,
    trainInstance.source,
  );
  return items;
}

export function totalOf(items: CostItem[]): number {
  return round(items.reduce((sum, item) => sum + item.monthlyUsd, 0));
}

export function estimateCost(ctx: CostContext): Cost {
  const items = costItems(ctx);
  return {
    monthlyUsd: totalOf(items),
    budgetUsd: ctx.spec.budget.monthlyUsd,
    currency: "USD",
    items,
    pricesAsOf: ctx.prices.pricesAsOf,
  };
}

interface Candidate {
  change: string;
  applies: (ctx: CostContext) => boolean;
  apply: (ctx: CostContext) => CostContext;
}

/** Changes an architect would propose, least disruptive first; none cuts a required control. */
const CANDIDATES: Candidate[] = [
  {
    change: "use spot/preemptible capacity for batch scoring and training (interruptible, retried)",
    applies: (ctx) => !ctx.spotForBatch && ctx.prices.services.spotDiscount.usd > 0,
    apply: (ctx) => ({ ...ctx, spotForBatch: true }),
  },
  {
    change: "share one NAT gateway across zones instead of one per zone",
    applies: (ctx) => !ctx.singleNatGateway && ctx.capacity.zones > 1,
    apply: (ctx) => ({ ...ctx, singleNatGateway: true }),
  },
  {
    change: "scale the always-on minimum down to the availability floor and let autoscaling cover the peak",
    applies: (ctx) =>
      ctx.capacity.replicasMin > ctx.capacity.zones && ctx.choices["serving.mode"] !== "batch",
    apply: (ctx) => ({ ...ctx, capacity: { ...ctx.capacity, replicasMin: ctx.capacity.zones } }),
  },
  {
    change: "run the serving core on managed serverless containers instead of a Kubernetes cluster",
    applies: (ctx) =>
      ctx.choices["serving.runtime"] === "kubernetes" &&
      ctx.choices["serving.hardware"] === "cpu" &&
      ctx.choices["serving.mode"] === "realtime" &&
      ctx.prices.cloud !== "kubernetes",
    apply: (ctx) => ({
      ...ctx,
      choices: { ...ctx.choices, "serving.runtime": "serverless-container" },
      capacity: {
        ...ctx.capacity,
        instanceType: "serverless-1vcpu-2gb",
        // a 1-vCPU instance serves about a quarter of what the sized node did per vCPU count
        perReplicaQps:
          ctx.capacity.perReplicaQps / Math.max(1, vcpuOf(ctx.prices, ctx.capacity.instanceType)),
        replicasMin: Math.max(1, ctx.capacity.zones),
        replicasMax: Math.ceil(
          ctx.capacity.replicasMax * Math.max(1, vcpuOf(ctx.prices, ctx.capacity.instanceType)),
        ),
      },
    }),
  },
];

function vcpuOf(prices: PriceTable, name: string): number {
  return [...prices.cpuInstances, ...prices.gpuInstances].find((i) => i.name === name)?.vcpu ?? 1;
}

/**
 * OVER_BUDGET with the cheapest single change that fits (or the combination, when no single one
 * does); BUDGET_INFEASIBLE (an error) when even every change together costs more than twice the
 * budget: the budget is far below the cheapest viable design.
 */
export function budgetWarnings(ctx: CostContext, cost: Cost): PlanWarning[] {
  const budget = ctx.spec.budget.monthlyUsd;
  if (budget === null || cost.monthlyUsd <= budget) return [];
  const over = cost.monthlyUsd - budget;
  const applicable = CANDIDATES.filter((c) => c.applies(ctx));
  const single = applicable
    .map((c) => ({ c, total: totalOf(costItems(c.apply(ctx))) }))
    .filter((x) => x.total <= budget)
    .sort((a, b) => b.total - a.total)[0];
  const combined = applicable.reduce((acc, c) => (c.applies(acc) ? c.apply(acc) : acc), ctx);
  const cheapest = totalOf(costItems(combined));
  const base = `estimated ${money(cost.monthlyUsd)}/month is ${money(over)} (${Math.round((over / budget) * 100)}%) over the ${money(budget)} budget`;
  if (single) {
    return [
      {
        code: "OVER_BUDGET",
        severity: "warning",
        path: "budget.monthlyUsd",
        message: base,
        suggestion: `${single.c.change}: about ${money(single.total)}/month, within budget`,
      },
    ];
  }
  if (cheapest <= budget) {
    return [
      {
        code: "OVER_BUDGET",
        severity: "warning",
        path: "budget.monthlyUsd",
        message: base,
        suggestion: `no single change fits; together: ${applicable.map((c) => c.change).join("; ")} — about ${money(cheapest)}/month`,
      },
    ];
  }
  const infeasible = cheapest > budget * 2;
  return [
    {
      code: infeasible ? "BUDGET_INFEASIBLE" : "OVER_BUDGET",
      severity: infeasible ? "error" : "warning",
      path: "budget.monthlyUsd",
      message: `${base}; the cheapest viable design found costs about ${money(cheapest)}/month${infeasible ? ", more than twice the budget" : ""}`,
      suggestion: `raise budget.monthlyUsd to at least ${money(Math.ceil(cheapest / 100) * 100)}, or relax what drives the cost (${driverOf(cost)})${applicable.length ? `; and ${applicable.map((c) => c.change).join("; ")}` : ""}`,
    },
  ];
}

function driverOf(cost: Cost): string {
  const top = [...cost.items].sort((a, b) => b.monthlyUsd - a.monthlyUsd)[0];
  return top ? `${top.name}: ${top.detail}` : "nothing";
}
