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
import { planOf, renderedChartOf, terraformBlocks } from "../helpers/plans.js";
import { describeWith } from "../helpers/tools.js";

/** The generated tree of a MATRIX plan, and its Terraform blocks by directory. */
async function treeOf(name: string) {
  const plan = await planOf(name);
  const files = Object.fromEntries(textEntries(generateAll(plan)));
  const blocks = await terraformBlocks(files);
  const global = Object.keys(files).filter((f) => f.startsWith("infra/terraform/aws/global/"));
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
