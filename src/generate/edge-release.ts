/**
 * What the release workflow of an on-device plan (.github/workflows/edge-release.yml) and the
 * Terraform of its cloud side (templates/terraform/aws-edge/) agree on: the GitHub environment the
 * release role trusts and the variables the Terraform's output github_environment_variables fills.
 */
export const EDGE_RELEASE = {
  environment: "edge-release",
  variables: {
    role: "EDGE_RELEASE_ROLE_ARN",
    store: "EDGE_BUNDLE_STORE",
    telemetry: "EDGE_TELEMETRY_STORE",
  },
  /** a repository variable: the fleet's Ed25519 public key (PEM), what devices verify with */
  publicKeyVariable: "EDGE_PUBLIC_KEY",
  /** a secret of the environment: the Ed25519 private key (PEM) that signs the bundles */
  signingKeySecret: "EDGE_SIGNING_KEY",
} as const;
