/**
 * Prices per region, with their provenance and age: a covered region prices every row at its own
 * rate; an uncovered one is priced at the base region's rates and says which rows; `plan --now` warns
 * when the prices are older than 180 days (stderr and JSON), and generated files never carry the
 * clock. Contacts: empty is a warning, a bad address an error with its path.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { createPlan, parseSpecValue } from "../../src/index.js";
import { regionalPrices } from "../../src/infra/index.js";
import { loadDefaultRuleSet } from "../../src/plan/index.js";
import { runCli } from "../helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "sw-prices-"));

function planFor(value: Record<string, unknown>) {
  const parsed = parseSpecValue({ metadata: { name: "prices", contacts: ["ops@example.com"] }, ...value });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createPlan(parsed.spec);
}

describe("prices per region", () => {
  it("a covered region prices every row at its own rate, each row with source, date and provenance", () => {
    const ireland = planFor({ cloud: { provider: "aws", region: "eu-west-1" }, inference: { peakQps: 300 } });
    const virginia = planFor({
      cloud: { provider: "aws", region: "us-east-1" },
      inference: { peakQps: 300 },
    });
    expect(ireland.warnings.map((w) => w.code)).not.toContain("PRICES_FROM_OTHER_REGION");
    const lines = ireland.cost.items.flatMap((i) => i.lines);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line.region).toBe("eu-west-1");
      expect(line.source).toMatch(/^https:\/\//);
      expect(line.provenance).toBe("recalled");
    }
    // NAT in Ireland is dearer than in Virginia: the regional rate is used, not the base one
    const nat = (plan: typeof ireland) =>
      plan.cost.items
        .find((i) => i.name === "NAT gateways")!
        .lines.find((l) => l.price === "natGatewayHourly")!;
    expect(nat(ireland).unitUsd).toBeGreaterThan(nat(virginia).unitUsd);
    expect(ireland.cost.region).toBe("eu-west-1");
  });

  it("an uncovered region is priced at the base region's rates, and the plan names the rows", () => {
    const tokyo = planFor({
      cloud: { provider: "aws", region: "ap-northeast-1" },
      inference: { peakQps: 300 },
    });
    const warning = tokyo.warnings.find((w) => w.code === "PRICES_FROM_OTHER_REGION");
    expect(warning?.message).toMatch(
      /no ap-northeast-1 rate for .*natGatewayHourly.*priced at us-east-1 rates/,
    );
    expect(tokyo.cost.items.flatMap((i) => i.lines).every((l) => l.region === "us-east-1")).toBe(true);
  });

  it("every row a covered region lists exists in the base table", () => {
    for (const cloud of ["aws", "gcp", "azure"]) {
      const table = loadDefaultRuleSet().prices.get(cloud)!;
      const instances = new Set([...table.cpuInstances, ...table.gpuInstances].map((i) => i.name));
      for (const [region, rates] of Object.entries(table.regions)) {
        for (const key of Object.keys(rates.services))
          expect(table.services, `${cloud} ${region} ${key}`).toHaveProperty(key);
        for (const name of Object.keys(rates.instances))
          expect(instances.has(name), `${cloud} ${region} ${name}`).toBe(true);
        const resolved = regionalPrices(table, region);
        for (const key of Object.keys(table.services))
          expect(resolved.row(key).usd).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

describe("plan --now", () => {
  const spec = join(tmp, "spec.yaml");
  writeFileSync(spec, "metadata: { name: dated, contacts: [ops@example.com] }\ninference: { peakQps: 50 }\n");

  it("warns on stderr and in the JSON when the prices are older than 180 days at that date", () => {
    const old = runCli(["plan", "--spec", spec, "--json", "--now", "2026-12-03"]);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stderr).toMatch(
      /warning PRICES_STALE: the oldest price the cost uses is from \d{4}-\d{2}-\d{2}, \d+ days before 2026-12-03/,
    );
    expect(JSON.parse(old.stdout).warnings.map((w: { code: string }) => w.code)).toContain("PRICES_STALE");
    const asOf = JSON.parse(old.stdout).cost.pricesAsOf as string;
    const fresh = runCli(["plan", "--spec", spec, "--json", "--now", asOf]);
    expect(fresh.stderr).not.toContain("PRICES_STALE");
    expect(JSON.parse(fresh.stdout).warnings.map((w: { code: string }) => w.code)).not.toContain(
      "PRICES_STALE",
    );
  });

  it("refuses a date it cannot read, with what is allowed", () => {
    const bad = runCli(["plan", "--spec", spec, "--now", "next tuesday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--now: "next tuesday" is not a date[\s\S]*YYYY-MM-DD/);
  });

  it("generated files do not depend on the clock: the plan generators read carries no dated warning", () => {
    const plan = planFor({ inference: { peakQps: 50 } });
    expect(plan.warnings.map((w) => w.code)).not.toContain("PRICES_STALE");
    const text = [...textEntries(generateAll(plan))].map(([, t]) => t).join("\n");
    expect(text).not.toContain("PRICES_STALE");
  });
});

describe("metadata.contacts", () => {
  it("feed the budget alerts, and empty is a warning", () => {
    const withContacts = planFor({ budget: { monthlyUsd: 5000 } });
    const files = Object.fromEntries(textEntries(generateAll(withContacts)));
    expect(files["infra/terraform/aws/variables.tf"]).toMatch(
      /variable "budget_alert_emails" \{[^}]*default\s+=\s+\["ops@example.com"\]/,
    );
    const parsed = parseSpecValue({ metadata: { name: "nobody" }, budget: { monthlyUsd: 5000 } });
    if (!parsed.ok) throw new Error("spec");
    const warning = createPlan(parsed.spec).warnings.find((w) => w.code === "NO_CONTACTS");
    expect(warning).toMatchObject({ path: "metadata.contacts", severity: "warning" });
  });

  it("a contact that is not an email address is refused with its path", () => {
    const parsed = parseSpecValue({ metadata: { name: "x", contacts: ["ops at example"] } });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems[0].path).toBe("metadata.contacts[0]");
    expect(parsed.problems[0].message).toMatch(/email/);
  });
});
