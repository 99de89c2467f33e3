import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { deliveryOf } from "../../src/generate/delivery.js";
import { generateAll } from "../../src/generate/index.js";
import { planSpecFile } from "../../src/plan/index.js";
import { ROOT } from "../helpers/cli.js";
import { MATRIX, planOf, renderedChartOf, terraformBlocks } from "../helpers/plans.js";
import { describeWith } from "../helpers/tools.js";

/** The generated tree of a MATRIX plan, and its Terraform blocks by directory. */
async function treeOf(name: string) {
  const plan = await planOf(name);
  const cloud = plan.requirements.cloud.provider;
  const files = Object.fromEntries(textEntries(generateAll(plan)));
  const blocks = await terraformBlocks(files);
  const global = Object.keys(files).filter((f) => f.startsWith(`infra/terraform/${cloud}/global/`));
  const globalBlocks = await terraformBlocks(
    Object.fromEntries(global.map((f) => [f.replace("/global/", "/"), files[f]])),
  );
  return { plan, files, blocks, globalBlocks };
}

describeWith(["helm"], "AWS multi-region: every region built, routed and replicated", () => {
  it("two regions active-active: a stack per region at its own rates, latency routing on health, each bucket replicated to the other", async () => {
    const { plan, files, blocks, globalBlocks } = await treeOf("payments-multi-region");
    const [secondary] = plan.inventory!.secondaries;
    expect(secondary).toMatchObject({ region: "us-west-2", dir: "regions/us-west-2", role: "active" });
    // the same stack in each region: a cluster, a network, a key, a WAF, a registry
    for (const dir of ["infra/terraform/aws", "infra/terraform/aws/regions/us-west-2"]) {
      const here = blocks.filter(
        (b) => b.file.startsWith(`${dir}/`) && !b.file.slice(dir.length + 1).includes("/"),
      );
      for (const address of [
        "module.eks",
        "module.vpc",
        "aws_kms_key.main",
        "aws_wafv2_web_acl.edge",
        "aws_s3_bucket.data",
      ])
        expect(
          here.some((b) => b.address === address),
          `${dir}: ${address}`,
        ).toBe(true);
    }
    const variables = (dir: string) => files[`${dir}/variables.tf`];
    expect(variables("infra/terraform/aws")).toMatch(/default\s+=\s+"us-east-1"/);
    expect(variables("infra/terraform/aws/regions/us-west-2")).toMatch(/default\s+=\s+"us-west-2"/);
    expect(variables("infra/terraform/aws/regions/us-west-2")).toMatch(/default\s+=\s+"payments-risk-usw2"/);
    // what the account holds once is not built twice
    expect(files["infra/terraform/aws/regions/us-west-2/audit.tf"]).toBeUndefined();
    expect(files["infra/terraform/aws/regions/us-west-2/budget.tf"]).toBeUndefined();
    expect(files["infra/terraform/aws/regions/us-west-2/deploy.tf"]).toMatch(
      /data "aws_iam_openid_connect_provider" "github"/,
    );

    // each region's items at that region's rates
    const west = plan.cost.items.filter((i) => i.region === "us-west-2");
    expect(west.map((i) => i.name)).toContain("Serving replicas (us-west-2)");
    for (const item of west) for (const line of item.lines) expect(line.region).toBe("us-west-2");

    // routing: a latency record per region, on that region's load balancer, following its health
    const records = globalBlocks.filter((b) => b.kind === "aws_route53_record");
    expect(records.map((r) => r.address).sort()).toEqual([
      "aws_route53_record.us_east_1",
      "aws_route53_record.us_west_2",
    ]);
    for (const record of records) {
      expect(record.body.latency_routing_policy).toBeDefined();
      expect((record.body.alias as Array<Record<string, unknown>>)[0].evaluate_target_health).toBe(true);
    }
    // the load balancer it finds is the one the chart's Ingress tags
    const delivery = deliveryOf(plan);
    const production = delivery.environments.at(-1)!.namespace;
    const { objects } = await renderedChartOf("payments-multi-region", undefined, {
      release: delivery.release,
      namespace: production,
    });
    const ingress = objects.find((o) => o.object.kind === "Ingress")!.object as Record<string, any>;
    const tag = ingress.metadata.annotations["alb.ingress.kubernetes.io/tags"] as string;
    const [key, value] = tag.split("=");
    expect(files["infra/terraform/aws/global/routing.tf"]).toContain(`"${key}" = "${value}"`);
    expect(value).toBe(
      `${plan.requirements.metadata.name}.${plan.requirements.metadata.name}`.replace("release.", ""),
    );

    // replication: each bucket to the other, with Replication Time Control (the plan's 15 min RPO)
    const buckets = ["infra/terraform/aws", "infra/terraform/aws/regions/us-west-2"].map(
      (dir) => files[`${dir}/storage.tf`].match(/bucket\s+= "([^"]+)"/)![1],
    );
    const replications = globalBlocks.filter((b) => b.kind === "aws_s3_bucket_replication_configuration");
    expect(replications.map((r) => r.body.bucket).sort()).toEqual([...buckets].sort());
    for (const replication of replications) {
      const [rule] = replication.body.rule as Array<Record<string, any>>;
      const destination = rule.destination[0];
      expect(destination.replication_time[0].time[0].minutes).toBe(15);
      expect(buckets.map((b) => `arn:aws:s3:::${b}`)).toContain(destination.bucket);
      expect(destination.bucket).not.toBe(`arn:aws:s3:::${replication.body.bucket}`);
    }
    expect(plan.availability!.rpo.stores.find((s) => s.store === "data-bucket")!.rpoMinutes).toBe(15);

    // the secondary's release: the chart with that region's values renders, reading its own region's
    // secrets and bucket
    const region = parseYaml(files["deploy/helm/payments-risk/values-region-us-west-2.yaml"]) as Record<
      string,
      any
    >;
    expect(region.externalSecrets.provider.aws.region).toBe("us-west-2");
    expect(region.batch.input).toContain(buckets[1]);
    const secondaryRelease = await renderedChartOf("payments-multi-region", {
      ...(parseYaml(files["deploy/helm/payments-risk/values.yaml"]) as Record<string, unknown>),
      ...region,
      externalSecrets: {
        ...(parseYaml(files["deploy/helm/payments-risk/values.yaml"]) as Record<string, any>).externalSecrets,
        provider: region.externalSecrets.provider,
      },
    });
    const store = secondaryRelease.objects.find((o) => o.object.kind === "SecretStore")!.object as Record<
      string,
      any
    >;
    expect(store.spec.provider.aws.region).toBe("us-west-2");
  });

  it("active-passive: failover records, PRIMARY first, and the primary's bucket replicated to the standby", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "sw-ap-")), "stackwright.yaml");
    writeFileSync(
      path,
      readFileSync(join(ROOT, "examples", "payments-multi-region.yaml"), "utf8")
        .replace("failover: active-active", "failover: active-passive")
        .replace("rtoMinutes: 5", "rtoMinutes: 10"),
    );
    const { plan } = await planSpecFile(path);
    expect(plan.warnings.filter((w) => w.severity === "error")).toEqual([]);
    expect(plan.inventory!.secondaries[0].role).toBe("standby");
    const files = Object.fromEntries(textEntries(generateAll(plan)));
    const routing = files["infra/terraform/aws/global/routing.tf"];
    expect(routing).toMatch(/type = "PRIMARY"/);
    expect(routing).toMatch(/type = "SECONDARY"/);
    const replication = files["infra/terraform/aws/global/replication.tf"];
    expect(replication.match(/resource "aws_s3_bucket_replication_configuration"/g)).toHaveLength(1);
    // a warm standby at its minimum costs less than the primary that serves
    const replicas = (region?: string) =>
      plan.cost.items.find((i) => i.name.startsWith("Serving replicas") && i.region === region)!.monthlyUsd;
    expect(replicas("us-west-2")).toBeLessThanOrEqual(replicas(undefined));
  });
});

describeWith(
  ["helm"],
  "Google Cloud multi-region: every region's cluster, one global load balancer, a dual-region bucket",
  () => {
    it("two regions active-active: a stack per region at its own rates, the global load balancer over both clusters' endpoints, the bucket and the registry shared", async () => {
      const { plan, files, blocks, globalBlocks } = await treeOf("gcp-multi-region");
      const [secondary] = plan.inventory!.secondaries;
      expect(secondary).toMatchObject({ region: "us-east4", dir: "regions/us-east4", role: "active" });
      const primaryDir = "infra/terraform/gcp";
      const secondaryDir = "infra/terraform/gcp/regions/us-east4";
      const inDir = (dir: string) =>
        blocks.filter((b) => b.file.startsWith(`${dir}/`) && !b.file.slice(dir.length + 1).includes("/"));
      // each region: its network, cluster, key and online store
      for (const dir of [primaryDir, secondaryDir])
        for (const address of [
          "google_compute_network.main",
          "google_container_cluster.main",
          "google_container_node_pool.serving",
          "google_kms_crypto_key.main",
          "google_redis_instance.features",
        ])
          expect(
            inDir(dir).some((b) => b.address === address),
            `${dir}: ${address}`,
          ).toBe(true);
      expect(files[`${secondaryDir}/variables.tf`]).toMatch(/default\s+=\s+"us-east4"/);
      expect(files[`${secondaryDir}/variables.tf`]).toMatch(/default\s+=\s+"payments-gcp-use4"/);
      // what the project holds once is the primary's: audit, budget, deploy identities, the bucket, the registry
      for (const file of [
        "audit.tf",
        "budget.tf",
        "deploy.tf",
        "storage.tf",
        "registry.tf",
        "workload.tf",
        "waf.tf",
      ])
        expect(files[`${secondaryDir}/${file}`], file).toBeUndefined();

      // the data bucket: a dual-region of both regions with turbo replication, the plan's 15-minute RPO
      const bucket = inDir(primaryDir).find((b) => b.address === "google_storage_bucket.data")!.body;
      expect(bucket.location).toBe("US");
      expect(bucket.rpo).toBe("ASYNC_TURBO");
      expect((bucket.custom_placement_config as Array<Record<string, unknown>>)[0].data_locations).toEqual([
        "US-CENTRAL1",
        "US-EAST4",
      ]);
      expect((bucket.encryption as Array<Record<string, unknown>>)[0].default_kms_key_name).toBe(
        "${google_kms_crypto_key.dual_region.id}",
      );
      expect(plan.availability!.rpo.stores.find((s) => s.store === "data-bucket")!.rpoMinutes).toBe(15);
      // the repository is in the multi-region both clusters pull from; the standby's nodes may pull
      const registry = inDir(primaryDir).find(
        (b) => b.address === "google_artifact_registry_repository.images",
      )!;
      expect(registry.body.location).toBe("us");
      const pull = inDir(secondaryDir).find(
        (b) => b.address === "google_artifact_registry_repository_iam_member.nodes_pull_images",
      )!;
      expect(pull.body).toMatchObject({ location: "us", repository: registry.body.repository_id });

      // routing: one HTTPS forwarding rule on a backend service whose backends are every region's NEGs,
      // health-checked on readiness and protected by the Cloud Armor policy
      const kinds = globalBlocks.map((b) => b.kind);
      for (const kind of [
        "google_compute_global_forwarding_rule",
        "google_compute_target_https_proxy",
        "google_compute_managed_ssl_certificate",
        "google_compute_health_check",
        "google_compute_backend_service",
      ])
        expect(kinds, kind).toContain(kind);
      const health = globalBlocks.find((b) => b.kind === "google_compute_health_check")!.body;
      expect((health.http_health_check as Array<Record<string, unknown>>)[0].request_path).toBe(
        "/v2/health/ready",
      );
      const routing = files["infra/terraform/gcp/global/routing.tf"];
      expect(routing).toContain(
        'security_policy = "projects/${var.project_id}/global/securityPolicies/payments-gcp"',
      );
      expect(files[`${primaryDir}/waf.tf`]).toContain("name = var.name");
      expect(routing).toMatch(/name\s+= "payments-gcp"\s+location = "us-central1"/);
      expect(routing).toMatch(/name\s+= "payments-gcp-use4"\s+location = "us-east4"/);
      expect(routing).not.toMatch(/preference/);
      expect(
        globalBlocks
          .filter((b) => b.kind === "google_compute_firewall")
          .map((b) => b.address)
          .sort(),
      ).toEqual(["google_compute_firewall.us_central1", "google_compute_firewall.us_east4"]);
      // the NEG it looks up is the one the chart's Service creates, in production's namespace
      const delivery = deliveryOf(plan);
      const production = delivery.environments.at(-1)!.namespace;
      const { objects } = await renderedChartOf("gcp-multi-region", undefined, {
        release: delivery.release,
        namespace: production,
      });
      expect(objects.some((o) => o.object.kind === "Ingress")).toBe(false);
      const service = objects.find((o) => o.object.kind === "Service")!.object as Record<string, any>;
      const neg = JSON.parse(service.metadata.annotations["cloud.google.com/neg"]) as {
        exposed_ports: Record<string, { name: string }>;
      };
      const [negName] = Object.values(neg.exposed_ports).map((p) => p.name);
      expect(routing).toContain(`name     = "${negName}"`);
      // the NetworkPolicy admits the load balancer's proxies
      const policy = objects.find((o) => o.object.kind === "NetworkPolicy")!.object as Record<string, any>;
      expect(JSON.stringify(policy.spec.ingress)).toContain("35.191.0.0/16");

      // each region's items at that region's rates; the routing at the primary's
      const east = plan.cost.items.filter((i) => i.region === "us-east4");
      expect(east.map((i) => i.name)).toContain("Serving replicas (us-east4)");
      // a row the table lacks for us-east4 is priced at us-central1's rate, and the plan says which
      const borrowed = plan.warnings
        .filter((w) => w.code === "PRICES_FROM_OTHER_REGION")
        .map((w) => w.message)
        .join("\n");
      for (const item of east)
        for (const line of item.lines)
          if (line.region !== "us-east4")
            expect(borrowed, line.price).toMatch(new RegExp(`us-east4 rate for ${line.price}`));
      expect(east.find((i) => i.name === "Serving replicas (us-east4)")!.lines[0].region).toBe("us-east4");
      expect(plan.cost.items.find((i) => i.name === "Global routing")!.monthlyUsd).toBeGreaterThan(0);
      const storage = plan.cost.items.find((i) => i.name === "Object storage")!;
      expect(storage.lines.map((l) => l.price)).toEqual([
        "dualRegionStoragePerGbMonth",
        "turboReplicationPerGb",
      ]);

      // the secondary's release: production in us-east4, as the environment's service account, with the
      // region's values: its own store's secret, the primary's serving tokens and the shared bucket
      const deploy = parseYaml(files[".github/workflows/deploy.yml"]) as Record<string, any>;
      const job = deploy.jobs["deploy-production-us-east4"];
      expect(job.environment).toBe("production");
      const runs = (job.steps as Array<Record<string, string>>).map((s) => s.run ?? "").join("\n");
      expect(runs).toContain("get-credentials payments-gcp-use4 --region us-east4");
      expect(runs).toContain("--values deploy/helm/payments-gcp/values-region-us-east4.yaml");
      const region = parseYaml(files["deploy/helm/payments-gcp/values-region-us-east4.yaml"]) as Record<
        string,
        any
      >;
      const remoteKeys = (region.externalSecrets.secrets as Array<{ remoteKey: string }>).map(
        (s) => s.remoteKey,
      );
      const storeSecret = inDir(secondaryDir).find(
        (b) => b.address === "google_secret_manager_secret.features",
      )!;
      expect(remoteKeys).toContain(storeSecret.body.secret_id);
      expect(files[`${primaryDir}/secrets.tf`]).toMatch(/"payments-gcp-production-serve-tokens"/);
      expect(remoteKeys).toContain("payments-gcp-production-serve-tokens");
      expect(region.batch?.input).toBeUndefined();
    });

    it("regions that cannot share a dual-region bucket are an error naming the pairs that can", async () => {
      const path = join(mkdtempSync(join(tmpdir(), "sw-dr-")), "stackwright.yaml");
      for (const regions of ["[us-central1, europe-west1]", "[us-central1, us-east4, us-east1]"]) {
        writeFileSync(
          path,
          `metadata: { name: pair }\ncloud: { provider: gcp, region: us-central1 }\navailability: { regions: ${regions} }\n`,
        );
        const { plan } = await planSpecFile(path);
        const [problem] = plan.warnings.filter((w) => w.code === "DUAL_REGION_PAIR");
        expect(problem, regions).toMatchObject({ severity: "error", path: "availability.regions" });
        expect(problem.suggestion).toMatch(/us-east4 \(US\)/);
      }
    });

    it("active-passive: the primary's endpoints preferred, the standby's by default", async () => {
      const path = join(mkdtempSync(join(tmpdir(), "sw-gap-")), "stackwright.yaml");
      writeFileSync(
        path,
        MATRIX["gcp-multi-region"]
          .replace("failover: active-active", "failover: active-passive")
          .replace("rtoMinutes: 5", "rtoMinutes: 10"),
      );
      const { plan } = await planSpecFile(path);
      expect(plan.warnings.filter((w) => w.severity === "error")).toEqual([]);
      expect(plan.inventory!.secondaries[0].role).toBe("standby");
      const routing = Object.fromEntries(textEntries(generateAll(plan)))[
        "infra/terraform/gcp/global/routing.tf"
      ];
      expect(routing).toContain(
        'preference            = backend.value == "us-central1" ? "PREFERRED" : "DEFAULT"',
      );
    });
  },
);

describeWith(
  ["helm"],
  "Azure multi-region: every region's cluster, Front Door over the gateways, object replication",
  () => {
    it("two regions active-active: a stack per region, Front Door probing each gateway, the data replicated, the registry geo-replicated, one identity per environment", async () => {
      const { plan, files, blocks, globalBlocks } = await treeOf("azure-multi-region");
      const [secondary] = plan.inventory!.secondaries;
      expect(secondary).toMatchObject({ region: "centralus", dir: "regions/centralus", role: "active" });
      const primaryDir = "infra/terraform/azure";
      const secondaryDir = "infra/terraform/azure/regions/centralus";
      const inDir = (dir: string) =>
        blocks.filter((b) => b.file.startsWith(`${dir}/`) && !b.file.slice(dir.length + 1).includes("/"));
      for (const dir of [primaryDir, secondaryDir])
        for (const address of [
          "azurerm_resource_group.main",
          "azurerm_kubernetes_cluster.main",
          "azurerm_application_gateway.ingress",
          "azurerm_web_application_firewall_policy.edge",
          "azurerm_storage_account.data",
          "azurerm_redis_cache.features",
          "azurerm_key_vault_key.main",
        ])
          expect(
            inDir(dir).some((b) => b.address === address),
            `${dir}: ${address}`,
          ).toBe(true);
      // the subscription's audit export and the deploy identities are the primary's
      expect(files[`${secondaryDir}/audit.tf`]).toBeUndefined();
      expect(files[`${secondaryDir}/budget.tf`]).toBeUndefined();
      expect(
        inDir(secondaryDir)
          .filter((b) => b.kind === "azurerm_user_assigned_identity")
          .map((b) => b.address),
      ).not.toEqual(expect.arrayContaining(["azurerm_user_assigned_identity.workload"]));
      expect(
        inDir(secondaryDir).some((b) => b.address.startsWith("azurerm_user_assigned_identity.deploy")),
      ).toBe(false);
      expect(inDir(secondaryDir).some((b) => b.address === "azurerm_container_registry.main")).toBe(false);
      expect(files[`${secondaryDir}/deploy.tf`]).toContain(
        'name                = "payments-az-deploy-${each.key}"',
      );
      expect(files[`${secondaryDir}/deploy.tf`]).not.toContain("AcrPush");
      // globally unique names differ per region
      const account = (dir: string) =>
        /default\s+=\s+"([a-z0-9]+)"/.exec(
          files[`${dir}/variables.tf`].slice(
            files[`${dir}/variables.tf`].indexOf('variable "storage_account_name"'),
          ),
        )![1];
      expect(account(primaryDir)).not.toBe(account(secondaryDir));
      // one budget over both resource groups
      const budget = inDir(primaryDir).find((b) => b.kind === "azurerm_consumption_budget_subscription")!;
      expect(JSON.stringify(budget.body)).toContain('"payments-az-centralus-rg"');

      // the registry is geo-replicated into the other region
      const registry = inDir(primaryDir).find((b) => b.address === "azurerm_container_registry.main")!;
      expect((registry.body.georeplications as Array<Record<string, unknown>>)[0].location).toBe("centralus");

      // the data container replicated from the primary's account into the other's
      const replication = globalBlocks.find((b) => b.kind === "azurerm_storage_object_replication")!;
      expect(replication.address).toBe("azurerm_storage_object_replication.centralus");
      expect(files["infra/terraform/azure/global/replication.tf"]).toContain(
        `name                = "${account(secondaryDir)}"`,
      );
      expect(files[`${primaryDir}/storage.tf`]).toContain("change_feed_enabled = true");

      // routing: Front Door, an origin per region's gateway at the same priority, probing readiness
      const group = globalBlocks.find((b) => b.kind === "azurerm_cdn_frontdoor_origin_group")!;
      expect((group.body.health_probe as Array<Record<string, unknown>>)[0].path).toBe("/v2/health/ready");
      const origins = globalBlocks.filter((b) => b.kind === "azurerm_cdn_frontdoor_origin");
      expect(origins.map((o) => o.body.priority)).toEqual([1, 1]);
      expect(files["infra/terraform/azure/global/routing.tf"]).toContain(
        'name                = "payments-az-centralus-gateway"',
      );
      expect(plan.cost.items.find((i) => i.name === "Global routing")!.monthlyUsd).toBeGreaterThan(0);

      // each region's items at its own rates, or named by the plan where the table lacks the region
      const borrowed = plan.warnings
        .filter((w) => w.code === "PRICES_FROM_OTHER_REGION")
        .map((w) => w.message)
        .join("\n");
      for (const item of plan.cost.items.filter((i) => i.region === "centralus"))
        for (const line of item.lines)
          if (line.region !== "centralus")
            expect(
              borrowed.split("\n").find((m) => m.includes("centralus rate for")),
              line.price,
            ).toContain(line.price);

      // the release in centralus: as production's identity, with the region's values (its own vault)
      const deploy = parseYaml(files[".github/workflows/deploy.yml"]) as Record<string, any>;
      const job = deploy.jobs["deploy-production-centralus"];
      const runs = (job.steps as Array<Record<string, string>>).map((s) => s.run ?? "").join("\n");
      expect(runs).toContain("--resource-group payments-az-centralus-rg --name payments-az-centralus");
      const region = parseYaml(files["deploy/helm/payments-az/values-region-centralus.yaml"]) as Record<
        string,
        any
      >;
      const vault = inDir(secondaryDir).find((b) => b.address === "azurerm_key_vault.secrets")!;
      expect(region.externalSecrets.provider.azurekv.vaultUrl).toBe(
        `https://${vault.body.name}.vault.azure.net/`,
      );
      // its tokens are the primary's, copied
      expect(files[`${secondaryDir}/secrets.tf`]).toContain(
        "data.azurerm_key_vault_secret.primary_serve_tokens[each.key].value",
      );
      expect(files[`${secondaryDir}/secrets.tf`]).not.toContain("random_password");
    });
  },
);
