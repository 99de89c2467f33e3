/**
 * Cost model: monthly USD of the inventory (src/infra/), priced at the plan region's rates. Each item
 * names the Terraform addresses it prices and carries one line per meter with the price row's
 * source, date, provenance and region; usage-based quantities say how they were assumed. What the
 * platform needs but this Terraform does not build is listed apart (`excluded`), estimated, never in
 * the total. Over budget, the cheapest change that fits is found by re-deriving the inventory of each
 * candidate change, never by cutting a control compliance requires.
 */
import {
  averageReplicas,
  batchRunHours,
  facts,
  HOURS_PER_MONTH,
  type Inventory,
  type InventoryCapacity,
  inventoryOf,
  type Meter,
  type RegionalPrices,
  type Resource,
  regionalPrices,
  storedData,
} from "../infra/index.js";
import type { ResolvedSpec } from "../requirements/index.js";
import type { Capacity, Cost, CostItem, CostLine, PlanWarning } from "./types.js";

/** The decisions and sizes the cost depends on; candidate changes edit a copy of it. */
export interface CostContext {
  spec: ResolvedSpec;
  prices: RegionalPrices;
  capacity: Capacity;
  choices: Record<string, string>;
  averageQps: number;
  /** rows per second one batch replica scores (for run duration) */
  batchRowsPerSecond: number;
  spotForBatch: boolean;
  singleNatGateway: boolean;
  dualRegion: string | null;
  /** the training runs (src/plan/training.ts), estimated apart */
  training: import("../infra/index.js").InventoryTraining;
}

const round = (usd: number) => Math.round(usd * 100) / 100;
const money = (usd: number) => `$${usd.toLocaleString("en-US", { maximumFractionDigits: 0 })}`;
const quantityText = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 });

export function inventoryFor(ctx: CostContext): Inventory | null {
  return inventoryOf({ ...ctx, capacity: ctx.capacity as InventoryCapacity });
}

/**
 * Cost items of priced resources: each item's resources' meters at the region's rates. `named`:
 * whether the resources are Terraform addresses the item names (not on the team's own cluster).
 */
export function itemsOf(
  resources: ReadonlyArray<Pick<Resource, "address" | "item" | "meters">>,
  prices: RegionalPrices,
  named = true,
): CostItem[] {
  const byItem = new Map<string, CostLine[]>();
  for (const resource of resources) {
    if (!resource.item || resource.meters.length === 0) continue;
    const lines = byItem.get(resource.item) ?? [];
    for (const meter of resource.meters) {
      const row = prices.row(meter.price);
      const unitUsd = row.usd * (1 - (meter.discount?.fraction ?? 0));
      lines.push({
        resource: resource.address,
        price: meter.price,
        quantity: meter.quantity,
        unit: meter.unit,
        unitUsd: Math.round(unitUsd * 1e6) / 1e6,
        monthlyUsd: round(meter.quantity * unitUsd),
        source: row.source,
        asOf: row.asOf,
        provenance: row.provenance,
        region: row.region,
        ...(meter.assumption ? { assumption: meter.assumption } : {}),
        ...(meter.discount ? { discount: meter.discount } : {}),
      });
    }
    byItem.set(resource.item, lines);
  }
  const items: CostItem[] = [];
  for (const [name, lines] of byItem) {
    const monthlyUsd = round(lines.reduce((sum, line) => sum + line.monthlyUsd, 0));
    const assumptions = [...new Set(lines.flatMap((line) => (line.assumption ? [line.assumption] : [])))];
    items.push({
      name,
      monthlyUsd,
      detail: lines
        .map(
          (line) =>
            `${quantityText(line.quantity)} ${line.unit} x $${line.unitUsd}${line.discount ? ` (${line.discount.because})` : ""}`,
        )
        .join(" + "),
      source: lines[0].source,
      resources: named ? [...new Set(lines.map((line) => line.resource))] : [],
      lines,
      ...(assumptions.length ? { assumption: assumptions.join("; ") } : {}),
    });
  }
  return items;
}

/**
 * On the team's own cluster nothing is built by Terraform: the items are the workload's share of that
 * cluster, priced as equivalent nodes with the inventory's usage figures, each an estimate that names
 * no resource.
 */
function ownClusterItems(ctx: CostContext): CostItem[] {
  const input = { ...ctx, capacity: ctx.capacity as InventoryCapacity };
  const { capacity, choices } = ctx;
  const share = "the workload's share of the team's existing cluster, priced as equivalent on-demand nodes";
  const node = `instance:${capacity.instanceType}`;
  const mode = choices["serving.mode"];
  const compute = (): Meter => {
    if (mode === "batch") {
      const { runs, hoursPerRun } = batchRunHours(input);
      return {
        price: node,
        quantity: round(runs * hoursPerRun * capacity.replicasMax),
        unit: "node-hours",
        assumption: `${share}: ${runs} runs/month x ${hoursPerRun} h x ${capacity.replicasMax} nodes`,
      };
    }
    const replicas = averageReplicas(input);
    return {
      price: node,
      quantity: replicas * HOURS_PER_MONTH,
      unit: "node-hours",
      assumption: `${share}: ${replicas} average replicas (${capacity.replicasMin}-${capacity.replicasMax})`,
    };
  };
  const stored = storedData(input);
  const resources = [
    {
      item: facts(input).computeItem,
      meters: [compute()],
    },
    {
      item: "Object storage",
      meters: [
        {
          price: "objectStoragePerGbMonth",
          quantity: stored.quantity,
          unit: "GB-month",
          assumption: `the team's S3-compatible store: ${stored.assumption}`,
        },
      ],
    },
    ...(choices["features.store"] === "online"
      ? [
          {
            item: "Online feature store",
            meters: [
              {
                price: "onlineStoreNodeHourly",
                quantity: HOURS_PER_MONTH,
                unit: "node-hours",
                assumption: `${share}: one in-cluster Redis node`,
              },
            ],
          },
        ]
      : []),
  ];
  return itemsOf(
    resources.map((r) => ({ ...r, address: "the team's cluster" })),
    ctx.prices,
    false,
  ).filter((item) => item.monthlyUsd > 0);
}

export function costItems(ctx: CostContext): CostItem[] {
  const inventory = inventoryFor(ctx);
  return inventory ? itemsOf(inventory.resources, ctx.prices) : ownClusterItems(ctx);
}

export function totalOf(items: CostItem[]): number {
  return round(items.reduce((sum, item) => sum + item.monthlyUsd, 0));
}

export function estimateCost(ctx: CostContext, inventory: Inventory | null): Cost {
  const items = inventory ? itemsOf(inventory.resources, ctx.prices) : ownClusterItems(ctx);
  // each other region at its own rates, its items named after it
  for (const stack of inventory?.secondaries ?? [])
    for (const item of itemsOf(stack.resources, regionalPrices(ctx.prices.table, stack.region)))
      items.push({ ...item, name: `${item.name} (${stack.region})`, region: stack.region });
  return {
    monthlyUsd: totalOf(items),
    budgetUsd: ctx.spec.budget.monthlyUsd,
    currency: "USD",
    items,
    pricesAsOf:
      [...new Set(items.flatMap((item) => item.lines.map((line) => line.asOf)))].sort()[0] ??
      ctx.prices.table.pricesAsOf,
    region: ctx.prices.region,
    excluded: [
      ...(inventory?.excluded ?? []),
      ...(inventory?.secondaries ?? []).flatMap((stack) =>
        stack.excluded.map((x) => ({ ...x, name: `${x.name} (${stack.region})` })),
      ),
    ],
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
    applies: (ctx) => !ctx.spotForBatch && ctx.prices.row("spotDiscount").usd > 0,
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

function vcpuOf(prices: RegionalPrices, name: string): number {
  return [...prices.table.cpuInstances, ...prices.table.gpuInstances].find((i) => i.name === name)?.vcpu ?? 1;
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

/** Share of the total above which the logs item is called out with the sampling it could use. */
export const LOGS_DOMINATE_SHARE = 0.25;
const LOG_ITEMS = ["Prediction and service logs", "Platform logs"];

/** COST_LOGS_DOMINATE: usage-based log ingestion outweighs the platform; offer sampling. */
export function logWarnings(cost: Cost): PlanWarning[] {
  const logs = cost.items.filter((i) => LOG_ITEMS.includes(i.name));
  const usd = logs.reduce((sum, i) => sum + i.monthlyUsd, 0);
  if (cost.monthlyUsd <= 0 || usd / cost.monthlyUsd <= LOGS_DOMINATE_SHARE) return [];
  const sampled = usd * 0.1;
  return [
    {
      code: "COST_LOGS_DOMINATE",
      severity: "warning",
      path: "inference.averageQps",
      message: `log ingestion is ${money(usd)}/month, ${Math.round((usd / cost.monthlyUsd) * 100)}% of the estimate (an assumption: ${logs.map((i) => i.assumption ?? i.detail).join("; ")})`,
      suggestion: `sample request logs (keep 1 in 10, and every error): about ${money(sampled)}/month instead; keep full predictions in object storage for label joins`,
    },
  ];
}

function driverOf(cost: Cost): string {
  const top = [...cost.items].sort((a, b) => b.monthlyUsd - a.monthlyUsd)[0];
  return top ? `${top.name}: ${top.detail}` : "nothing";
}
