import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPlan, type Plan, type PlanWarning } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { runCli } from "../helpers/cli.js";

function planOf(fragment: Record<string, unknown>): Plan {
  const parsed = parseSpecValue({ metadata: { name: "payments" }, ...fragment });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createPlan(parsed.spec);
}
const find = (ws: PlanWarning[], code: string) => ws.filter((w) => w.code === code);

describe("multi-region: regions, failover and recovery objectives", () => {
  it("multiRegion alone picks the primary's failover partner within the residency", () => {
    const plan = planOf({ dataResidency: "eu", availability: { multiRegion: true } });
    expect(plan.requirements.cloud.region).toBe("eu-west-1");
    expect(plan.requirements.availability.regions).toEqual(["eu-west-1", "eu-central-1"]);
    expect(plan.availability?.regions.map((r) => [r.name, r.role, r.jurisdiction])).toEqual([
      ["eu-west-1", "primary", "eu"],
      ["eu-central-1", "secondary", "eu"],
    ]);
    expect(plan.availability?.failover).toBe("active-passive");
    expect(plan.defaults.find((d) => d.path === "availability.regions")?.because).toMatch(/failover partner/);
    expect(plan.capacity.regions).toBe(2);
    // Azure: the published region pair
    const azure = planOf({
      cloud: { provider: "azure", region: "westeurope" },
      availability: { multiRegion: true },
    });
    expect(azure.requirements.availability.regions).toEqual(["westeurope", "northeurope"]);
  });

  it("one region has no availability model, and a recovery objective there is an error", () => {
    const plan = planOf({});
    expect(plan.availability).toBeNull();
    expect(plan.requirements.availability.regions).toEqual(["us-east-1"]);
    const ws = planOf({ availability: { rtoMinutes: "30m" } }).warnings;
    expect(find(ws, "RECOVERY_NEEDS_SECOND_REGION")).toEqual([
      expect.objectContaining({ severity: "error", path: "availability.rtoMinutes" }),
    ]);
  });

  it("a listed region outside the residency, twice, or not first where cloud.region says otherwise is an error naming it", () => {
    const outside = planOf({ dataResidency: "eu", availability: { regions: ["eu-west-1", "us-east-1"] } });
    expect(find(outside.warnings, "RESIDENCY_REGION_MISMATCH")).toEqual([
      expect.objectContaining({ severity: "error", path: "availability.regions[1]" }),
    ]);
    expect(find(outside.warnings, "RESIDENCY_REGION_MISMATCH")[0].suggestion).toContain("eu-central-1");
    const twice = planOf({ availability: { regions: ["us-east-1", "us-east-1"] } });
    expect(find(twice.warnings, "DUPLICATE_REGION")[0]).toMatchObject({ path: "availability.regions[1]" });
    const mismatch = planOf({
      cloud: { region: "us-east-2" },
      availability: { regions: ["us-west-2", "us-east-1"] },
    });
    expect(find(mismatch.warnings, "PRIMARY_REGION_MISMATCH")[0]).toMatchObject({ severity: "error" });
    const hipaa = planOf({ compliance: ["hipaa"], availability: { regions: ["us-east-1", "cn-north-1"] } });
    expect(find(hipaa.warnings, "HIPAA_REGION_NOT_ELIGIBLE")[0]).toMatchObject({
      path: "availability.regions[1]",
    });
  });

  it("an RPO below what the stores' replication can keep is an error naming the store; at it, none", () => {
    const online = { data: { featureFreshness: "realtime" }, inference: { peakQps: 300, latencyP99Ms: 60 } };
    const tight = planOf({
      ...online,
      availability: { regions: ["us-east-1", "us-west-2"], rpoMinutes: "5m" },
    });
    const [rpo] = find(tight.warnings, "RPO_UNACHIEVABLE");
    expect(rpo).toMatchObject({ severity: "error", path: "availability.rpoMinutes" });
    expect(rpo.message).toContain("Replication Time Control");
    expect(rpo.suggestion).toContain("15");
    const stores = tight.availability!.rpo.stores.map((s) => [s.store, s.rpoMinutes]);
    expect(stores).toContainEqual(["data-bucket", 15]);
    const met = planOf({ ...online, availability: { regions: ["us-east-1", "us-west-2"], rpoMinutes: 15 } });
    expect(find(met.warnings, "RPO_UNACHIEVABLE")).toEqual([]);
    // a store per region (GCP): what a failover loses follows the feature pipeline's freshness
    const gcp = planOf({
      ...online,
      data: { featureFreshness: "minutes" },
      cloud: { provider: "gcp" },
      availability: { multiRegion: true },
    });
    const store = gcp.availability!.rpo.stores.find((s) => s.store === "online-store");
    expect(store?.mechanism).toMatch(/per region/);
    expect(store?.rpoMinutes).toBe(15);
  });

  it("an RTO a warm standby cannot meet suggests active-active; 99.999% warns that one failover spends the month", () => {
    const passive = planOf({ availability: { regions: ["us-east-1", "us-west-2"], rtoMinutes: 3 } });
    const [rto] = find(passive.warnings, "RTO_UNACHIEVABLE");
    expect(rto).toMatchObject({ severity: "error", path: "availability.rtoMinutes" });
    expect(rto.suggestion).toContain("active-active");
    const active = planOf({
      availability: { regions: ["us-east-1", "us-west-2"], failover: "active-active", rtoMinutes: 3 },
    });
    expect(find(active.warnings, "RTO_UNACHIEVABLE")).toEqual([]);
    const fives = planOf({ availability: { targetPercent: 99.999, regions: ["us-east-1", "us-west-2"] } });
    expect(find(fives.warnings, "FAILOVER_EXCEEDS_BUDGET")[0]).toMatchObject({ severity: "warning" });
    expect(fives.availability!.monthlyBudgetMinutes).toBeLessThan(1);
  });

  it("says what is not built: nothing for AWS on a cluster behind a WAF; GitOps releases and other clouds' regions", () => {
    const aws = planOf({
      compliance: ["pci-dss"],
      team: { size: 6 },
      inference: { peakQps: 300, latencyP99Ms: 60 },
      availability: { regions: ["us-east-1", "us-west-2"] },
    });
    expect(aws.inventory!.secondaries.map((s) => s.region)).toEqual(["us-west-2"]);
    expect(find(aws.warnings, "MULTI_REGION_NOT_BUILT")).toEqual([]);
    const gitops = planOf({
      compliance: ["pci-dss"],
      team: { size: 6 },
      inference: { peakQps: 300, latencyP99Ms: 60 },
      availability: { regions: ["us-east-1", "us-west-2"] },
      deployment: { access: "gitops", repository: "https://github.com/example/p.git" },
    });
    expect(find(gitops.warnings, "MULTI_REGION_NOT_BUILT")[0].message).toMatch(/GitOps/);
    // a serverless service on AWS: its stacks are built, the routing and the release are not
    const serverless = planOf({
      team: { size: 1 },
      inference: { peakQps: 5 },
      availability: { multiRegion: true },
    });
    const [missing] = find(serverless.warnings, "MULTI_REGION_NOT_BUILT");
    expect(missing.message).toMatch(/routing between the regions' serverless endpoints/);
    expect(missing.message).not.toMatch(/chart/);
    // Google Cloud builds every region of the cluster runtime, not of its serverless services yet
    const gcp = planOf({
      cloud: { provider: "gcp" },
      team: { size: 1 },
      inference: { peakQps: 5 },
      availability: { multiRegion: true },
    });
    expect(gcp.inventory!.secondaries).toEqual([]);
    expect(find(gcp.warnings, "MULTI_REGION_NOT_BUILT")[0].message).toMatch(
      /builds us-central1 only \(on gcp it builds other regions for the kubernetes runtime, not serverless/,
    );
    // its cost prices the primary alone
    expect(gcp.cost.items.every((i) => i.region === undefined)).toBe(true);
    // Azure likewise: every region of the cluster runtime
    const azure = planOf({
      cloud: { provider: "azure" },
      team: { size: 6 },
      compliance: ["pci-dss"],
      inference: { peakQps: 300, latencyP99Ms: 60 },
      availability: { multiRegion: true },
    });
    expect(azure.inventory!.secondaries.map((s) => s.region)).toEqual(["centralus"]);
    expect(find(azure.warnings, "MULTI_REGION_NOT_BUILT")).toEqual([]);
  });

  it("the CLI exits non-zero on an impossible RPO and names the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-mr-"));
    const spec = join(dir, "stackwright.yaml");
    writeFileSync(
      spec,
      "metadata: { name: payments }\navailability: { regions: [us-east-1, us-west-2], rpoMinutes: 1m }\n",
    );
    const result = runCli(["plan", "--spec", spec]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/RPO_UNACHIEVABLE at availability\.rpoMinutes/);
  });
});
