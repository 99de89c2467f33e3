import { expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ADDON_CHARTS, ADDON_SERVICE_ACCOUNTS } from "../../src/infra/index.js";
import { renderedChartOf, terraformBlocks } from "../helpers/plans.js";
import { describeWith } from "../helpers/tools.js";

/** The generated tree of a plan and its chart's SecretStore as real helm renders it. */
async function secretStoreOf(name: string) {
  const { plan, files, objects } = await renderedChartOf(name);
  const store = objects.find((o) => o.object.kind === "SecretStore")!.object as Record<string, any>;
  return { plan, files, store, blocks: await terraformBlocks(files) };
}

describeWith(
  ["helm"],
  "External Secrets reads the secrets the Terraform writes, as an identity allowed to",
  () => {
    it("GCP: Secret Manager, read by the operator's own service account as a federated principal; the project from the deploy", async () => {
      const { files, store, blocks } = await secretStoreOf("gcp-cluster-online-cmk");
      expect(Object.keys(store.spec.provider)).toEqual(["gcpsm"]);
      const members = blocks.filter((b) =>
        b.address.startsWith("google_secret_manager_secret_iam_member.external_secrets"),
      );
      expect(members.map((b) => b.address).sort()).toEqual([
        "google_secret_manager_secret_iam_member.external_secrets_online_store",
        "google_secret_manager_secret_iam_member.external_secrets_serve_tokens",
      ]);
      const principal = files["infra/terraform/gcp/secrets.tf"].match(
        /external_secrets_principal = "([^"]+)"/,
      )![1];
      expect(principal).toContain(
        `/subject/ns/${ADDON_CHARTS["external-secrets"].namespace}/sa/${ADDON_SERVICE_ACCOUNTS["external-secrets"]}`,
      );
      for (const member of members) expect(member.body.role).toBe("roles/secretmanager.secretAccessor");
      // only the deploy knows the project: every helm install sets it from the environment's variable
      const deploy = files[".github/workflows/deploy.yml"];
      const installs = deploy.match(/helm upgrade --install[^\n]*/g)!;
      expect(installs.length).toBeGreaterThan(0);
      for (const line of installs)
        expect(line).toContain(
          "--set-string 'externalSecrets.provider.gcpsm.projectID=${{ vars.GCP_PROJECT_ID }}'",
        );
    });

    it("Azure: a Key Vault of the chart's secrets, read as the chart's workload identity, which holds Secrets User on each secret", async () => {
      const { files, store, blocks } = await secretStoreOf("vision-inspection");
      const kv = store.spec.provider.azurekv;
      expect(kv.authType).toBe("WorkloadIdentity");
      const vault = blocks.find((b) => b.address === "azurerm_key_vault.secrets")!;
      expect(kv.vaultUrl).toBe(`https://${vault.body.name}.vault.azure.net/`);
      // the service account the federated credential trusts, in each environment's namespace
      const credential = blocks.find((b) => b.address === "azurerm_federated_identity_credential.workload")!;
      expect(String(credential.body.subject)).toContain(`:${kv.serviceAccountRef.name}`);
      const reads = blocks.find((b) => b.address === "azurerm_role_assignment.workload_reads_serve_tokens")!;
      expect(reads.body.role_definition_name).toBe("Key Vault Secrets User");
      expect(String(reads.body.principal_id)).toContain(
        "azurerm_user_assigned_identity.workload.principal_id",
      );
      const deploy = files[".github/workflows/deploy.yml"];
      for (const line of deploy.match(/helm upgrade --install[^\n]*/g)!)
        expect(line).toContain(
          "--set-string 'externalSecrets.provider.azurekv.tenantId=${{ vars.AZURE_TENANT_ID }}'",
        );
      // values.yaml leaves what the deploy sets empty
      const values = parseYaml(files["deploy/helm/vision-inspection/values.yaml"]) as Record<string, any>;
      expect(values.externalSecrets.provider.azurekv.tenantId).toBe("");
    });
  },
);
