/** Shared pieces of the per-cloud inventory builders. */
import { type Addon, addonsOf } from "./addons.js";
import { buildsDeployRunner, PRIVATE_REGISTRY } from "./delivery.js";
import type {
  Excluded,
  InventoryCloud,
  InventoryInput,
  KeyGrant,
  Mechanism,
  Meter,
  Relation,
  Resource,
  TemplateValue,
} from "./types.js";
import { HOURS_PER_MONTH } from "./usage.js";

/**
 * The clouds whose secondary regions the Terraform builds (multi-region plans elsewhere build the
 * primary alone): AWS on every runtime, Google Cloud and Azure on the cluster runtime.
 */
export const MULTI_REGION_CLOUDS: ReadonlySet<string> = new Set(["aws", "gcp", "azure"]);

/** The Terraform builds every region of the plan (cloud and runtime allow it, and it lists several). */
export function buildsRegions(input: Pick<InventoryInput, "spec" | "choices">): boolean {
  const { spec, choices } = input;
  if (spec.availability.regions.length < 2 || !MULTI_REGION_CLOUDS.has(spec.cloud.provider)) return false;
  // Google Cloud and Azure: every region's cluster; their serverless services are not built twice yet
  return spec.cloud.provider === "aws" || choices["serving.runtime"] === "kubernetes";
}

export interface ResourceDraft {
  address: string;
  /** file name under infra/terraform/<cloud>/ */
  file: string;
  title: string;
  item?: string;
  meters?: Meter[];
  relations?: Relation[];
  implements?: Mechanism[];
  attributes?: Record<string, string | number | boolean>;
}

/** Argo Rollouts' default maxSurge of a canary (the chart sets none): a share of the replicas. */
export const ARGO_CANARY_MAX_SURGE = 0.25;

/** The plan's decisions and sizes, read the way every cloud's builder reads them. */
export function facts(input: InventoryInput) {
  const { choices, spec } = input;
  const mode = choices["serving.mode"];
  const runtime = choices["serving.runtime"];
  const cloud = spec.cloud.provider as InventoryCloud;
  // pre-production runs in the primary region only: another region's stack serves production
  const environments =
    ["namespaces", "services"].includes(choices["deployment.environments"] ?? "") && !input.secondary
      ? spec.deployment.environments
      : spec.deployment.environments.slice(-1);
  return {
    mode,
    /** the cost item of the serving compute, the same words on every cloud */
    computeItem:
      mode === "streaming"
        ? "Stream consumers"
        : mode === "batch"
          ? "Batch scoring compute"
          : "Serving replicas",
    batch: mode === "batch",
    realtime: mode === "realtime",
    cluster: runtime === "kubernetes",
    serverless: runtime === "serverless-container" || runtime === "serverless-job",
    gpu: input.capacity.hardware === "gpu",
    cmk: choices["security.encryption"] === "customer-managed-keys",
    waf: choices["security.network"] === "private-with-waf",
    publicEndpoint: choices["security.network"] === "public-tls",
    onlineStore: choices["features.store"] === "online",
    immutableAudit: choices["security.audit"] === "immutable-audit-trail",
    budget: spec.budget.monthlyUsd !== null,
    runner: buildsDeployRunner(cloud, choices["deployment.access"] ?? ""),
    privateRegistry: PRIVATE_REGISTRY[cloud],
    /** the environments a release passes through, production last */
    environments,
    production: environments[environments.length - 1],
    preProduction: environments.slice(0, -1),
    /**
     * serving nodes pre-production adds on a cluster: one replica per pre-production namespace, on top
     * of production's maximum (the node pool's maximum is replicas_max plus these)
     */
    preProductionNodes: runtime === "kubernetes" && mode !== "batch" ? environments.length - 1 : 0,
    /**
     * serving nodes a production release adds while both versions run (one replica a node at most):
     * Argo Rollouts' canary surges by its default maxSurge, a quarter of the replicas rounded up; a
     * blue-green release runs a full preview beside the active version. The pool's maximum leaves room
     * for them, so a release at peak is not stuck on a pod no node can take.
     */
    rolloutSurgeNodes:
      runtime === "kubernetes" && mode !== "batch"
        ? choices["deployment.strategy"] === "canary"
          ? Math.ceil(Math.max(1, input.capacity.replicasMax) * ARGO_CANARY_MAX_SURGE)
          : choices["deployment.strategy"] === "blue-green"
            ? Math.max(1, input.capacity.replicasMax)
            : 0
        : 0,
    /** the stack is another region's (multi-region): what the project or account holds once is the primary's */
    secondary: input.secondary !== undefined,
    /** the plan's regions are all built (each its own stack, joined by infra/terraform/<cloud>/global) */
    multiRegion: buildsRegions(input),
    /** zones the network spans: at least two (managed clusters and load balancers need two subnets) */
    zones: Math.max(2, input.capacity.zones),
  };
}

export type Facts = ReturnType<typeof facts>;

/** The cluster add-ons of the plan (src/infra/addons.ts), as every cloud's builder reads them. */
export function addonsFor(input: InventoryInput): Addon[] {
  const f = facts(input);
  return addonsOf({
    cloud: input.spec.cloud.provider,
    choices: input.choices,
    hardware: input.capacity.hardware,
    access: input.choices["deployment.access"] ?? "",
    podsOutgrowMinimum:
      input.capacity.replicasMax > input.capacity.replicasMin ||
      f.preProductionNodes > 0 ||
      f.rolloutSurgeNodes > 0,
  });
}

/**
 * The add-ons the Terraform installs as Helm releases, as resources of addons.tf, and the chart
 * coordinates the template renders (`addons`, by id). A release is free: what it builds in the cloud
 * (a load balancer) is priced by the builder that knows it.
 */
export function addHelmReleases(b: InventoryBuilder, addons: Addon[]): void {
  const charts: Record<string, Record<string, string | string[]>> = {};
  const addressOf = (id: string) => {
    const install = addons.find((a) => a.id === id)?.install;
    return install?.via === "terraform" ? [install.address] : [];
  };
  for (const addon of addons) {
    if (addon.install.via !== "terraform") continue;
    const { chart } = addon.install;
    b.add({
      address: addon.install.address,
      file: addon.install.file,
      title: `${addon.title}: Helm chart ${chart.chart} ${chart.version}`,
    });
    charts[addon.id] = { ...chart, dependsOn: (addon.after ?? []).flatMap(addressOf) };
  }
  b.vars.helmAddons = Object.keys(charts).length > 0;
  b.vars.addons = charts;
}

export function hours(count: number): number {
  return count * HOURS_PER_MONTH;
}

export class InventoryBuilder {
  readonly resources: Resource[] = [];
  readonly excluded: Excluded[] = [];
  readonly vars: Record<string, TemplateValue> = {};
  /** `dir`: the stack's directory under infra/terraform/<cloud>/ ("" for the primary region's) */
  constructor(
    readonly cloud: InventoryCloud,
    readonly dir = "",
  ) {}

  add(draft: ResourceDraft): Resource {
    if (this.resources.some((r) => r.address === draft.address))
      throw new Error(`inventory: ${draft.address} added twice`);
    const resource: Resource = {
      address: draft.address,
      file: `infra/terraform/${this.cloud}/${this.dir ? `${this.dir}/` : ""}${draft.file}`,
      title: draft.title,
      ...(draft.item ? { item: draft.item } : {}),
      meters: draft.meters ?? [],
      relations: draft.relations ?? [],
      implements: draft.implements ?? [],
      attributes: draft.attributes ?? {},
    };
    this.resources.push(resource);
    return resource;
  }

  exclude(name: string, monthlyUsd: number, reason: string): void {
    this.excluded.push({ name, monthlyUsd: Math.round(monthlyUsd * 100) / 100, reason });
  }

  /** relation from every resource in `sources` to `target` */
  relate(kind: Relation["kind"], from: string, targets: string[]): void {
    const source = this.resources.find((r) => r.address === from);
    if (!source) throw new Error(`inventory: relation from unknown ${from}`);
    for (const target of targets) source.relations.push({ kind, target });
  }

  /**
   * The grants of a customer-managed key over the resources it encrypts: each kind serves the
   * encrypted resources of its Terraform type (or the targets it names), kinds that serve none are
   * dropped, and `rest`, when given, serves everything no kind does. Each grant is a relation `holder
   * grants target` (a holder with a title is a resource of its own in kms.tf) and an entry of the list
   * the template renders (`keyGrants`).
   */
  grantKey(
    encrypted: string[],
    kinds: Array<
      Omit<KeyGrant, "targets"> & { holder: string; type?: string; targets?: string[]; title?: string }
    >,
    rest?: Omit<KeyGrant, "targets"> & { holder: string },
  ): void {
    const served = kinds
      .map((k) => ({ ...k, targets: k.targets ?? encrypted.filter((a) => a.startsWith(`${k.type}.`)) }))
      .filter((k) => k.targets.length > 0);
    const grants = rest
      ? [{ ...rest, targets: encrypted.filter((a) => !served.some((k) => k.targets.includes(a))) }, ...served]
      : served;
    for (const grant of grants) {
      if ("title" in grant && grant.title)
        this.add({ address: grant.holder, file: "kms.tf", title: grant.title });
      this.relate("grants", grant.holder, grant.targets);
    }
    // a stack with two keys (Google Cloud's dual-region key beside the regional one) grants on each
    const earlier = (this.vars.keyGrants ?? []) as Array<Record<string, string | string[]>>;
    this.vars.keyGrants = [
      ...earlier,
      ...grants.map((g) => ({
        id: g.id,
        principal: g.principal,
        targets: g.targets,
        ...(g.role ? { role: g.role } : {}),
        ...(g.key ? { key: g.key } : {}),
      })),
    ];
  }

  has(address: string): boolean {
    return this.resources.some((r) => r.address === address);
  }
}
