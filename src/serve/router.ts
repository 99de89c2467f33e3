/**
 * Routing among a model's versions: the production primary takes traffic, a staging version takes
 * its canary weight (sticky per request key, so one caller keeps seeing one version), and versions
 * marked `shadow` receive copies whose answers are only compared. Roles are derived when the set of
 * versions changes, never per request.
 */
import { createHash } from "node:crypto";
import type { ModelMeta } from "./config.js";

export interface Routable {
  source: { meta: Pick<ModelMeta, "stage" | "canaryWeight" | "shadow"> };
}

export interface Routes<V extends Routable> {
  versions: Map<string, V>;
  /** set at run time (POST /v2/repository/models/{name}/routing); wins over model.yaml and config */
  canaryWeight?: number;
  /** the newest production version, else the newest that is not archived */
  primary?: V;
  /** the newest staging version: the canary */
  staging?: V;
  shadows: V[];
}

/** Replaces a model's versions and derives the routing roles once. */
export function setVersions<V extends Routable>(routes: Routes<V>, versions: Map<string, V>): void {
  const list = [...versions.values()];
  routes.versions = versions;
  routes.primary = primaryOf(list);
  routes.staging = list.filter((v) => v.source.meta.stage === "staging").at(-1);
  routes.shadows = list.filter((v) => v.source.meta.shadow);
}

/**
 * The version that answers by default, for serve, score and consume alike: the newest production
 * version, else the newest sample (a generated stand-in until a trained version is published), else
 * the newest that is not archived.
 */
export function primaryVersion<S extends { meta: Pick<ModelMeta, "stage"> }>(
  list: readonly S[],
): S | undefined {
  return (
    list.filter((s) => s.meta.stage === "production").at(-1) ??
    list.filter((s) => s.meta.stage === "sample").at(-1) ??
    list.filter((s) => s.meta.stage !== "archived").at(-1)
  );
}

/** primaryVersion over loaded versions (each holding its source). */
export function primaryOf<V extends Routable>(list: readonly V[]): V | undefined {
  const source = primaryVersion(list.map((v) => v.source));
  return list.find((v) => v.source === source);
}

/** A stable bucket 0..99 for a request key. */
export function stickyBucket(key: string): number {
  return createHash("sha1").update(key).digest().readUInt16BE(0) % 100;
}

/** The canary weight in effect: run-time override, then the version's model.yaml, then the config default. */
export function canaryWeightOf<V extends Routable>(routes: Routes<V>, configured: number): number {
  return routes.canaryWeight ?? routes.staging?.source.meta.canaryWeight ?? configured;
}

/**
 * The version a request that names none goes to: the canary for `weight`% of buckets (by the sticky
 * key when there is one, at random otherwise), the primary for the rest; undefined when nothing is
 * servable.
 */
export function chooseVersion<V extends Routable>(
  routes: Routes<V>,
  configuredCanaryWeight: number,
  stickyKey: string | undefined,
): V | undefined {
  const { primary, staging } = routes;
  if (!primary || !staging || staging === primary) return primary;
  const weight = canaryWeightOf(routes, configuredCanaryWeight);
  if (weight <= 0) return primary;
  const bucket = stickyKey !== undefined ? stickyBucket(stickyKey) : Math.floor(Math.random() * 100);
  return bucket < weight ? staging : primary;
}
