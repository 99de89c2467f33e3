import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPlan, type Plan } from "../../src/plan/index.js";
import { parseSpec } from "../../src/requirements/index.js";
import { ROOT, runCli } from "../helpers/cli.js";

const EXAMPLES = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yaml"));

function planOfFile(path: string): Plan {
  const parsed = parseSpec(readFileSync(path, "utf8"), path);
  if (!parsed.ok) throw new Error(`${path}: ${JSON.stringify(parsed.problems)}`);
  return createPlan(parsed.spec);
}

/** What must survive the round trip: every decision with its rule and parameters, capacity and cost. */
const essence = (plan: Plan) => ({
  decisions: plan.decisions.map((d) => [d.capability, d.choice, d.rule, d.params]),
  capacity: plan.capacity,
  cost: plan.cost.monthlyUsd,
  warnings: plan.warnings.map((w) => w.code),
});

// a spec in flow style, with units and a description holding the characters the plain prompts split on
const FLOW = `{ metadata: { name: flow-style, owner: "ml; platform" }, inference: { mode: batch, latencyP99Ms: 2h, batch: { schedule: "0 4 * * *", rowsPerRun: 2M, deadlineHours: 3 } },
  features: { entityKey: account_id, fields: [{ name: spend_7d, type: float, description: "spend: last 7 days; EUR" }, { name: active, type: bool }] },
  data: { sources: [s3, postgres], volumeGbPerDay: 50 }, compliance: [gdpr], dataResidency: eu, cloud: { provider: gcp, region: europe-west4 } }
`;

describe("interview --from X --yes reproduces X (no terminal)", () => {
  const specs = [...EXAMPLES.map((f) => join(ROOT, "examples", f)), "flow-style"];
  it.each(specs)("%s", (source) => {
    const dir = mkdtempSync(join(tmpdir(), "sw-roundtrip-"));
    let from = source;
    if (source === "flow-style") {
      from = join(dir, "flow.yaml");
      writeFileSync(from, FLOW);
    }
    const out = join(dir, "again.yaml");
    const result = runCli(["interview", "--from", from, "--yes", "--out", out], { cwd: dir });
    expect(result.stderr).not.toContain("stackwright:");
    expect(readFileSync(out, "utf8")).toMatch(
      /^# yaml-language-server: \$schema=\.\/stackwright\.schema\.json\n/,
    );
    expect(JSON.parse(readFileSync(join(dir, "stackwright.schema.json"), "utf8")).title).toContain(
      "stackwright",
    );
    const again = planOfFile(out);
    expect(again.spec.name).not.toBe("my-model");
    expect(essence(again)).toEqual(essence(planOfFile(from)));
  });

  it("plain prompts seed every answer from --from: empty lines keep them", () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-roundtrip-"));
    const from = join(dir, "flow.yaml");
    writeFileSync(from, FLOW);
    const out = join(dir, "again.yaml");
    const result = runCli(["interview", "--from", from, "--out", out], { cwd: dir, input: "\n".repeat(60) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("[flow-style]");
    expect(essence(planOfFile(out))).toEqual(essence(planOfFile(from)));
  });
});
