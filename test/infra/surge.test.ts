/**
 * A production release on a cluster runs both versions for a while: the serving pool's maximum in the
 * generated Terraform leaves room for it beside pre-production's replicas, read off the chart the
 * release installs (a canary's Rollout surges by Argo Rollouts' default maxSurge; a blue-green one runs
 * a full preview), so a release at peak never waits on a pod no node can take.
 */
import { expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { ARGO_CANARY_MAX_SURGE } from "../../src/infra/build.js";
import { CASES, planOf } from "../helpers/plans.js";

const POOL_MAXIMUM = [
  /max_size\s+= var\.replicas_max \+ (\d+)/,
  /total_max_node_count = var\.replicas_max \+ (\d+)/,
  /max_count\s+= var\.replicas_max \+ (\d+)/,
];

it.each(CASES)("%s: the serving pool leaves room for pre-production and a release's surge", async (name) => {
  const plan = await planOf(name);
  const files = Object.fromEntries(textEntries(generateAll(plan)));
  const cloud = plan.requirements.cloud.provider;
  const cluster = files[`infra/terraform/${cloud}/cluster.tf`];
  const valuesFile = Object.keys(files).find((f) => /^deploy\/helm\/[^/]+\/values\.yaml$/.test(f));
  if (!cluster || !valuesFile) {
    // no cluster the Terraform builds (serverless, a managed endpoint, the team's own cluster)
    expect(cluster === undefined || valuesFile === undefined).toBe(true);
    return;
  }
  const values = parseYaml(files[valuesFile]) as Record<string, any>;
  const extra = Number(POOL_MAXIMUM.map((re) => re.exec(cluster)?.[1]).find((m) => m !== undefined));
  const replicas = values.autoscaling.maxReplicas as number;
  const surge = values.canary.enabled
    ? Math.ceil(replicas * ARGO_CANARY_MAX_SURGE)
    : values.blueGreen.enabled
      ? replicas
      : 0;
  const preProduction = Object.keys(files).filter((f) =>
    new RegExp(`^${valuesFile.replace(/values\.yaml$/, "")}values-(?!region-).+\\.yaml$`).test(f),
  ).length;
  expect(extra, name).toBe(values.mode === "batch" ? 0 : preProduction + surge);
});
