/**
 * .github/workflows/edge-release.yml of an on-device plan whose cloud side is built: a change to
 * platform/edge/ (or a manual run) builds the bundle, signs it with the fleet's key from the
 * environment's secret store, publishes it and points the first ring at it; an hourly run promotes the
 * next ring whose previous ring passed its gate (rollout.yaml) in the devices' reported health, and
 * fails, so the team hears of it, when a gate halts the release.
 */

import { cloudName } from "../../infra/names.js";
import type { Plan } from "../../plan/types.js";
import { edgeBundleArgs, edgePromoteArgs, edgePublishArgs } from "../commands.js";
import { EDGE_RELEASE } from "../edge-release.js";
import { ringsOf } from "../platform/edge.js";
import { ACTIONS, e } from "./deploy.js";

/** Minute past each hour the promote job runs (off the hour, when GitHub's scheduler is busiest). */
const PROMOTE_CRON = "17 * * * *";
const ROLLOUT = "platform/edge/rollout.yaml";

/** A shell word for a run: block: a literal quoted, an environment variable reference left to the shell. */
const word = (a: string) =>
  /^"\$[A-Za-z_]+[^"]*"$/.test(a) || /^[\w./:=@-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;

export function edgeReleaseWorkflow(plan: Plan, packageSpec: string): Record<string, unknown> {
  const spec = plan.requirements;
  const first = ringsOf(plan)[0]!.name;
  const cli = (args: string[]) =>
    `npx --yes --package ${JSON.stringify(packageSpec)} stackwright ${args.map(word).join(" ")}`;
  const stores = {
    store: '"$EDGE_BUNDLE_STORE"',
    telemetry: '"$EDGE_TELEMETRY_STORE"',
    key: '"$RUNNER_TEMP/edge-signing.pub"',
  };
  const setup = [
    { uses: ACTIONS.checkout },
    { uses: ACTIONS.setupNode, with: { "node-version": "24" } },
    spec.cloud.provider === "azure"
      ? {
          // the CLI's Blob client then signs in as this identity through the Azure CLI's session
          name: "Sign in to Azure as the release identity (OIDC federated credential)",
          uses: ACTIONS.azureLogin,
          with: {
            "client-id": e(`vars.${EDGE_RELEASE.identity.azure.clientId}`),
            "tenant-id": e(`vars.${EDGE_RELEASE.identity.azure.tenantId}`),
            "subscription-id": e(`vars.${EDGE_RELEASE.identity.azure.subscriptionId}`),
          },
        }
      : {
          name: "Sign in to AWS as the release role (OIDC)",
          uses: ACTIONS.awsCredentials,
          with: {
            "role-to-assume": e(`vars.${EDGE_RELEASE.identity.aws.role}`),
            "aws-region": spec.cloud.region,
          },
        },
    {
      name: "The fleet's public key (what devices verify with)",
      env: { EDGE_PUBLIC_KEY: e(`vars.${EDGE_RELEASE.publicKeyVariable}`) },
      run: 'test -n "$EDGE_PUBLIC_KEY" || { echo "::error::set the repository variable EDGE_PUBLIC_KEY to the fleet\'s public key (stackwright edge keygen)"; exit 1; }\nprintf \'%s\\n\' "$EDGE_PUBLIC_KEY" > "$RUNNER_TEMP/edge-signing.pub"',
    },
  ];
  const env = {
    EDGE_BUNDLE_STORE: e(`vars.${EDGE_RELEASE.variables.store}`),
    EDGE_TELEMETRY_STORE: e(`vars.${EDGE_RELEASE.variables.telemetry}`),
  };
  return {
    name: "edge-release",
    on: {
      push: { branches: ["main"], paths: ["platform/edge/**"] },
      workflow_dispatch: {
        inputs: {
          bundle_version: {
            description:
              "The release's version (letters, digits, dots, hyphens); empty: the date and run number",
            required: false,
            type: "string",
          },
        },
      },
      schedule: [{ cron: PROMOTE_CRON }],
    },
    permissions: { contents: "read", "id-token": "write" },
    // one release step at a time: a publish and a promotion never move the same pointer together
    concurrency: { group: "edge-release", "cancel-in-progress": false },
    jobs: {
      publish: {
        name: `Build, sign and publish a bundle; point the ${first} ring at it`,
        if: "github.event_name != 'schedule'",
        "runs-on": "ubuntu-24.04",
        environment: EDGE_RELEASE.environment,
        env,
        steps: [
          ...setup,
          {
            name: "Build and sign the bundle",
            id: "bundle",
            env: {
              EDGE_SIGNING_KEY: e(`secrets.${EDGE_RELEASE.signingKeySecret}`),
              REQUESTED: e("inputs.bundle_version"),
            },
            run: [
              'test -n "$EDGE_SIGNING_KEY" || { echo "::error::set the environment secret EDGE_SIGNING_KEY to the fleet\'s private key"; exit 1; }',
              "umask 077",
              'printf \'%s\\n\' "$EDGE_SIGNING_KEY" > "$RUNNER_TEMP/edge-signing.key"',
              'version="${REQUESTED:-$(date -u +%Y.%m.%d)-${GITHUB_RUN_NUMBER}.${GITHUB_RUN_ATTEMPT}}"',
              cli(
                edgeBundleArgs({
                  from: "platform/edge",
                  out: '"$RUNNER_TEMP/bundle"',
                  name: cloudName(spec.metadata.name, 40),
                  version: '"$version"',
                  // the workflow's run number only grows: each release is later than the one before
                  sequence: '"$GITHUB_RUN_NUMBER"',
                  key: '"$RUNNER_TEMP/edge-signing.key"',
                }),
              ),
              'rm -f "$RUNNER_TEMP/edge-signing.key"',
              'echo "version=$version" >> "$GITHUB_OUTPUT"',
            ].join("\n"),
          },
          {
            name: "Verify and publish it (a published version is never replaced)",
            run: cli(
              edgePublishArgs({ bundle: '"$RUNNER_TEMP/bundle"', store: stores.store, key: stores.key }),
            ),
          },
          {
            name: `Point the ${first} ring at it`,
            env: { VERSION: e("steps.bundle.outputs.version") },
            run: cli(edgePromoteArgs({ rollout: ROLLOUT, ...stores, ring: first, version: '"$VERSION"' })),
          },
        ],
      },
      promote: {
        name: "Promote the next ring whose previous ring passed its gate",
        if: "github.event_name == 'schedule'",
        "runs-on": "ubuntu-24.04",
        environment: EDGE_RELEASE.environment,
        env,
        steps: [
          ...setup,
          {
            name: "Promote (fails when a gate halts the release)",
            run: cli(edgePromoteArgs({ rollout: ROLLOUT, ...stores })),
          },
        ],
      },
    },
  };
}
