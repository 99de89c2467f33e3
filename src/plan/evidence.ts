/**
 * Where each mechanism a control needs is implemented in the generated tree: Terraform resources of
 * the inventory (by what they implement), the chart's objects (`Kind/name`, checked against the helm
 * render), and workflow jobs. A mechanism found nowhere is not generated: the controls that need it
 * are the customer's. Nothing here claims a file the generators do not write — the evidence test
 * resolves every locator in every example's tree.
 */
import type { MechanismName } from "../engine/index.js";
import { type Inventory, syncsExternalSecrets } from "../infra/index.js";
import { chartNameOf } from "../infra/names.js";
import type { ResolvedSpec } from "../requirements/index.js";
import type { Evidence } from "./types.js";

/** Mechanisms a decided choice claims beyond the control's own needs. */
export const CLAIMS: Readonly<Record<string, MechanismName[]>> = {
  "security.identity=workload-identity-mtls": ["mtls"],
  "security.secrets=external-secrets": ["external-secrets"],
  "security.secrets=vault": ["vault"],
  "security.network=private-with-waf": ["waf-attached"],
  "security.encryption=customer-managed-keys": ["customer-managed-key"],
  "security.audit=immutable-audit-trail": ["immutable-audit-trail"],
};

/** Why a mechanism is absent, in the words a reviewer needs. */
export const NOT_GENERATED: Readonly<Record<MechanismName, string>> = {
  "private-network": "no private network is built",
  "network-policy": "no inbound allow-list for the workload is generated",
  "waf-attached": "no WAF is attached to an entry point (a policy may be built, but it protects nothing)",
  "tls-in-transit": "no TLS entry point is generated (on a cluster the chart's Service is ClusterIP)",
  mtls: "no service mesh or mTLS between services is generated",
  "encryption-at-rest": "no encrypted store is built",
  "customer-managed-key": "no customer-managed key is built",
  "audit-trail": "no audit trail is built",
  "immutable-audit-trail": "no write-once audit storage is built",
  "workload-identity": "no workload identity is built",
  "deploy-identity": "no deploy identity is built",
  "secret-store": "no secret store is built",
  "external-secrets":
    "no ExternalSecret is generated: External Secrets syncs the cloud's secret store on the clusters the Terraform builds, not on the team's own cluster",
  vault: "no Vault is generated",
  "versioned-data": "no versioned data store is built",
  "data-retention": "no retention rule is built on the data store",
  erasure: "no erasure job is generated",
  "alert-rules":
    "no alert rules are deployed (on serverless runtimes platform/monitoring/alerts.rules.yaml is not loaded anywhere; a managed endpoint's are CloudWatch alarms in sagemaker.tf)",
  "change-approval": "no approval gate before production is generated (deployment.approval is false)",
  "budget-alerts": "no budget alert is built",
};

export interface EvidenceContext {
  spec: ResolvedSpec;
  choices: Record<string, string>;
  inventory: Inventory | null;
}

/** Every place the generated tree implements `mechanism` (empty: not generated). */
export function evidenceFor(mechanism: MechanismName, ctx: EvidenceContext): Evidence[] {
  const found: Evidence[] = (ctx.inventory?.resources ?? [])
    .filter((r) => (r.implements as string[]).includes(mechanism))
    .map((r) => ({ file: r.file, locator: r.address }));
  const chart = chartNameOf(ctx.spec.metadata.name);
  const onCluster = ctx.choices["serving.runtime"] === "kubernetes";
  const chartObject = (kind: string, template: string): Evidence => ({
    file: `deploy/helm/${chart}/templates/${template}`,
    locator: `${kind}/${chart}`,
  });
  switch (mechanism) {
    case "network-policy":
      if (onCluster) found.push(chartObject("NetworkPolicy", "networkpolicy.yaml"));
      break;
    case "alert-rules":
      if (onCluster && ctx.choices["monitoring.metrics"] === "prometheus")
        found.push(chartObject("PrometheusRule", "prometheusrule.yaml"));
      break;
    case "external-secrets":
      if (syncsExternalSecrets(ctx.choices, ctx.spec.cloud.provider))
        found.push(chartObject("SecretStore", "externalsecret.yaml"));
      break;
    case "mtls":
      // the pods join Istio's ambient mesh (the add-ons plan.addons installs) and this makes mTLS STRICT
      if (onCluster && ctx.choices["security.identity"] === "workload-identity-mtls")
        found.push(chartObject("PeerAuthentication", "peerauthentication.yaml"));
      break;
    case "workload-identity":
      if (onCluster) found.push(chartObject("ServiceAccount", "serviceaccount.yaml"));
      break;
    case "change-approval":
      if (ctx.spec.deployment.approval)
        found.push({ file: ".github/workflows/deploy.yml", locator: "job: approval-required" });
      break;
    default:
      break;
  }
  return found;
}
