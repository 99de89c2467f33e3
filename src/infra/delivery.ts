/**
 * Facts about delivery that both the cost model and the generators need, kept below both: whether the
 * cloud's image registry is private (reachable only from inside the network) and whether the
 * generated Terraform builds self-hosted runners inside the network (then they are priced).
 */
import type { CloudProvider } from "../requirements/index.js";

/** The registry the Terraform creates has public network access off (Azure's ACR here). */
export const PRIVATE_REGISTRY: Readonly<Record<CloudProvider, boolean>> = {
  aws: false,
  gcp: false,
  azure: true,
  kubernetes: false,
};

/** Jobs must run inside the network: deploys to a private cluster, or pushes to a private registry. */
export function needsRunnerInNetwork(provider: CloudProvider, access: string): boolean {
  return access === "runner-in-network" || PRIVATE_REGISTRY[provider];
}

/** The generated Terraform builds those runners (on the team's own cluster, the team registers its own). */
export function buildsDeployRunner(provider: CloudProvider, access: string): boolean {
  return provider !== "kubernetes" && needsRunnerInNetwork(provider, access);
}

/**
 * The deploy workflow releases production to a multi-region plan's other regions: a chart on the
 * clusters the Terraform builds in each, from the workflow (under GitOps each
 * region's controller would sync it, which is not generated yet; serverless services are not deployed
 * there yet).
 */
export function deploysOtherRegions(provider: CloudProvider, runtime: string, access: string): boolean {
  return provider !== "kubernetes" && runtime === "kubernetes" && access !== "gitops";
}
