import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RuleSetError } from "../../src/engine/index.js";
import { loadRuleSetFrom } from "../../src/plan/index.js";
import { CAPABILITIES } from "../../src/plan/types.js";
import { runCli } from "../helpers/cli.js";

const RULES = new URL("../../rules", import.meta.url).pathname;
const dirs: string[] = [];

/** A copy of the shipped rules with one file edited. */
function rulesWith(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), "sw-rules-"));
  dirs.push(dir);
  cpSync(RULES, dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, edit(readFileSync(path, "utf8")));
  return dir;
}

function problemsOf(dir: string): RuleSetError["problems"] {
  try {
    loadRuleSetFrom(dir);
  } catch (error) {
    if (error instanceof RuleSetError) return error.problems;
    throw error;
  }
  throw new Error("the rule set loaded");
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("rule set loading", () => {
  it("knows the tools its rules tell apart, read from the rules themselves", () => {
    expect(loadRuleSetFrom(RULES).knownTools).toEqual(
      expect.arrayContaining(["airflow", "flux", "mlflow", "vault"]),
    );
    const feast = rulesWith("decisions/security.yaml", (t) =>
      t.replace(
        "when: \"'vault' in facts.tools\"",
        "when: \"'vault' in facts.tools or 'feast' in facts.tools\"",
      ),
    );
    expect(loadRuleSetFrom(feast).knownTools).toContain("feast");
  });

  it("refuses a failover partner in another jurisdiction, or one not in the catalog", () => {
    const abroad = rulesWith("regions.yaml", (t) =>
      t.replace(
        "eu-west-1: { jurisdiction: eu, hipaaEligible: true, failoverTo: eu-central-1 }",
        "eu-west-1: { jurisdiction: eu, hipaaEligible: true, failoverTo: us-east-1 }",
      ),
    );
    expect(problemsOf(abroad).map((p) => p.message)).toContainEqual(
      expect.stringContaining("eu-west-1: failoverTo us-east-1"),
    );
    const unknown = rulesWith("regions.yaml", (t) =>
      t.replace("failoverTo: eu-central-1 }", "failoverTo: eu-nowhere-9 }"),
    );
    expect(problemsOf(unknown).map((p) => p.message)).toContainEqual(
      expect.stringContaining("failoverTo eu-nowhere-9"),
    );
  });

  it("fills every cloud's GPU rows from the one GPU catalog, and refuses a row naming a GPU it lacks", () => {
    const ruleSet = loadRuleSetFrom(RULES);
    const t4Rows = [...ruleSet.prices.values()].flatMap((t) =>
      t.gpuInstances.filter((i) => i.gpuModel === "nvidia-t4"),
    );
    expect(t4Rows.length).toBeGreaterThan(2);
    for (const row of t4Rows)
      expect(row).toMatchObject({ gpuMemoryGb: 16, gpuTflops: 65, gpuBandwidthGbps: 320 });
    const missing = rulesWith("prices/aws.yaml", (t) =>
      t.replace("gpuModel: nvidia-t4,", "gpuModel: nvidia-t5,"),
    );
    expect(problemsOf(missing).map((p) => p.message)).toContainEqual(
      expect.stringContaining('g4dn.xlarge: gpuModel "nvidia-t5" is not in models.yaml gpus'),
    );
  });

  it("loads the shipped rules with every capability decided", () => {
    const ruleSet = loadRuleSetFrom(RULES);
    expect(ruleSet.capabilities).toHaveLength(CAPABILITIES.length);
    for (const capability of ruleSet.capabilities) {
      expect(ruleSet.rules.get(capability)?.some((r) => r.condition === null)).toBe(true);
    }
    expect(ruleSet.hash).toMatch(/^sha256:/);
  });

  it("refuses a capability left undecided, naming its rules", () => {
    const dir = rulesWith("decisions/serving.yaml", (t) =>
      t.replace(/ {2}- id: caching-none-default[\s\S]*?(?=\n {2}- id: )/, ""),
    );
    const problems = problemsOf(dir);
    const problem = problems.find((p) => p.message.includes("serving.caching can be left undecided"));
    expect(problem?.ruleIds.sort()).toEqual(["caching-prefix-in-llm-engine", "caching-repeated-inputs"]);
  });

  it("refuses a capability decided twice at equal priority", () => {
    const dir = rulesWith("decisions/serving.yaml", (t) =>
      t.replace(
        "id: caching-repeated-inputs\n    capability: serving.caching\n    description: Exact-match caching when inputs repeat and the model is deterministic.\n    priority: 50",
        "id: caching-repeated-inputs\n    capability: serving.caching\n    description: Exact-match caching when inputs repeat and the model is deterministic.\n    priority: 0",
      ),
    );
    const problem = problemsOf(dir).find((p) => p.message.includes("decided twice at priority 0"));
    expect(problem?.ruleIds.sort()).toEqual(["caching-none-default", "caching-repeated-inputs"]);
  });

  it("refuses unknown choices, unknown inputs and bad expressions", () => {
    const dir = rulesWith("decisions/serving.yaml", (t) =>
      t
        .replace("choice: exact-match\n", "choice: semantic\n")
        .replace("when: model.gpu == false", "when: model.gpus == false")
        .replace("when: facts.gpuRequired", "when: facts.gpuRequired and and"),
    );
    const messages = problemsOf(dir).map((p) => p.message);
    expect(messages).toContainEqual(
      expect.stringMatching(/caching-repeated-inputs: choice semantic is not a pattern/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/hardware-cpu-requested: reads unknown input "model.gpus"/),
    );
    expect(messages).toContainEqual(expect.stringMatching(/hardware-gpu-required-for-llm: expression/));
  });

  it("refuses a dependency cycle between decisions", () => {
    const dir = rulesWith("decisions/serving.yaml", (t) =>
      t.replace(
        "when: inference.mode == 'realtime'",
        "when: inference.mode == 'realtime' and decision.serving.batching == 'none'",
      ),
    );
    const problem = problemsOf(dir).find((p) => p.message.includes("dependency cycle"));
    expect(problem?.message).toMatch(
      /serving\.mode -> .*serving\.batching.* -> serving\.mode|serving\.batching -> .*serving\.mode/,
    );
  });

  it("`rules lint` exits 0 on the shipped rules and 1 on a rule whose example no longer matches", () => {
    const ok = runCli(["rules", "lint"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`ok: \\d+ rules over ${CAPABILITIES.length} capabilities`));
    const dir = rulesWith("decisions/serving.yaml", (t) =>
      t.replace("when: facts.highTraffic or facts.cpuRowLatencyMs >= 2", "when: facts.cpuRowLatencyMs >= 2"),
    );
    const bad = runCli(["rules", "lint", "--dir", dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      "[batching-dynamic-under-load]: match example 1 is decided by batching-none-default",
    );
  });
});
