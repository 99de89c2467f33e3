/**
 * What the release workflow of an on-device plan (.github/workflows/edge-release.yml) and the
 * Terraform of its cloud side (templates/terraform/<cloud>-edge/) agree on: the GitHub environment the
 * release identity trusts and the variables the Terraform's output github_environment_variables fills.
 */
export const EDGE_RELEASE = {
  environment: "edge-release",
  variables: {
    store: "EDGE_BUNDLE_STORE",
    telemetry: "EDGE_TELEMETRY_STORE",
  },
  /** how the workflow signs in as the release identity, per cloud (OIDC) */
  identity: {
    aws: { role: "EDGE_RELEASE_ROLE_ARN" },
    azure: {
      clientId: "EDGE_RELEASE_CLIENT_ID",
      tenantId: "EDGE_RELEASE_TENANT_ID",
      subscriptionId: "EDGE_RELEASE_SUBSCRIPTION_ID",
    },
  },
  /** a repository variable: the fleet's Ed25519 public key (PEM), what devices verify with */
  publicKeyVariable: "EDGE_PUBLIC_KEY",
  /** a secret of the environment: the Ed25519 private key (PEM) that signs the bundles */
  signingKeySecret: "EDGE_SIGNING_KEY",
} as const;

/**
 * The variables github_environment_variables fills, in the order the Terraform's outputs.tf lists its
 * values: the identity's, then the bundle store and the telemetry store.
 */
export function edgeReleaseVariables(cloud: string): string[] {
  const identity = cloud === "azure" ? EDGE_RELEASE.identity.azure : EDGE_RELEASE.identity.aws;
  return [...Object.values(identity), EDGE_RELEASE.variables.store, EDGE_RELEASE.variables.telemetry];
}
