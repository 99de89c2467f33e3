import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planSchema } from "../../src/plan/index.js";
import { CAPABILITIES } from "../../src/plan/types.js";
import { runCli } from "../helpers/cli.js";
import { expectGolden } from "../helpers/golden.js";

const FRAUD = "examples/fraud-detection.yaml";
const tmp = mkdtempSync(join(tmpdir(), "sw-cli-"));
function specFile(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe("stackwright plan", () => {
  it("prints the Plan as JSON in the documented shape, byte-identical on every run", () => {
    const first = runCli(["plan", "--spec", FRAUD, "--format", "json"]);
    const second = runCli(["plan", "--spec", FRAUD, "--format", "json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const plan = planSchema.parse(JSON.parse(first.stdout));
    expect(plan.decisions).toHaveLength(CAPABILITIES.length);
    expect(plan.spec.name).toBe("fraud-detection");
    expect(Object.keys(JSON.parse(first.stdout))).toEqual(
      expect.arrayContaining(["spec", "decisions", "controls", "capacity", "cost", "warnings"]),
    );
  });

  it("prints the table a person reads first (golden file)", () => {
    const result = runCli(["plan", "--spec", FRAUD]);
    expect(result.code, result.stderr).toBe(0);
    expectGolden("plan/fraud-detection.table.txt", result.stdout);
    expect(result.stdout).toMatch(/Cost {6}\$[\d,]+\/month of \$20,000 budget/);
  });

  it("prints Markdown with escaped cells", () => {
    const result = runCli(["plan", "--spec", FRAUD, "--format", "markdown"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("| serving.mode | **realtime** |");
    expectGolden("plan/fraud-detection.md", result.stdout);
  });

  it("lists every problem of a bad spec with its path, found and allowed values, exit 2, no stack trace", () => {
    const path = specFile(
      "bad.yaml",
      "metadata: {name: x}\ninference: {mode: sometimes, latencyP99Ms: fast, peakQps: -3}\ncloud: {provider: oracle}\nteam: {size: 0, colour: blue}\n",
    );
    const result = runCli(["plan", "--spec", path]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines[0]).toMatch(/bad\.yaml is not a valid spec: 6 problems/);
    expect(result.stderr).toContain(
      'INVALID_VALUE at inference.mode: not one of the allowed values; found "sometimes"; allowed: auto | realtime | batch | streaming',
    );
    expect(result.stderr).toContain("inference.latencyP99Ms");
    expect(result.stderr).toContain("OUT_OF_RANGE at inference.peakQps");
    expect(result.stderr).toContain("cloud.provider");
    expect(result.stderr).toContain("OUT_OF_RANGE at team.size");
    expect(result.stderr).toMatch(
      /UNKNOWN_FIELD at team\.colour: unknown field "colour"; allowed: size, existingTools/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it("reports YAML syntax errors with line and column, and unreadable files", () => {
    const path = specFile("syntax.yaml", "metadata:\n  name: [unclosed\n");
    const syntax = runCli(["plan", "--spec", path]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/YAML_SYNTAX .*syntax\.yaml:\d+:\d+/);
    const missing = runCli(["plan", "--spec", join(tmp, "nope.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/FILE_NOT_READABLE .*no such file/);
    const flag = runCli(["plan", "--spec", FRAUD, "--format", "xml"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Allowed choices are table, json, markdown/);
  });

  it("exits 1 when the plan has contradictions, and still prints it", () => {
    const path = specFile("contra.yaml", "metadata: {name: c}\ninference: {mode: batch, latencyP99Ms: 20}\n");
    const result = runCli(["plan", "--spec", path, "--format", "json"]);
    expect(result.code).toBe(1);
    const plan = JSON.parse(result.stdout);
    expect(plan.warnings.map((w: { code: string }) => w.code)).toContain("BATCH_WITH_TIGHT_LATENCY");
    expect(result.stderr).toContain("error BATCH_WITH_TIGHT_LATENCY");
  });
});

describe("stackwright explain / diff / validate", () => {
  it("explains one decision: rule, inputs with values, alternatives", () => {
    const result = runCli(["explain", "serving.hardware", "--spec", "examples/vision-inspection.yaml"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^serving\.hardware = gpu/);
    expect(result.stdout).toContain("Rule     hardware-gpu-recommended");
    expect(result.stdout).toContain("inference.latencyP99Ms = 150");
    expect(result.stdout).toMatch(/cpu: rejected because .* ms per request/);
    const json = JSON.parse(runCli(["explain", "serving.mode", "--spec", FRAUD, "--json"]).stdout);
    expect(json.rule.id).toBe("mode-realtime-requested");
    expect(json.inputs["inference.mode"]).toBe("realtime");
    const unknown = runCli(["explain", "serving.colour", "--spec", FRAUD]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("allowed: serving.mode, serving.runtime");
  });

  it("diffs a --set override: flipped decisions, controls, cost delta", () => {
    const result = runCli([
      "diff",
      "--spec",
      FRAUD,
      "--set",
      "inference.mode=batch",
      "--set",
      "inference.latencyP99Ms=4h",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const diff = JSON.parse(result.stdout);
    const flipped = Object.fromEntries(
      diff.decisions.map((d: { capability: string; to: string }) => [d.capability, d.to]),
    );
    expect(flipped["serving.mode"]).toBe("batch");
    expect(flipped["deployment.strategy"]).toBe("versioned-job");
    expect(diff.controls.removed).toContain("pci-dss 6.4.2");
    expect(diff.cost.deltaUsd).toBeLessThan(0);
    const text = runCli(["diff", "--spec", FRAUD, "--set", "inference.latencyP99Ms=10"]);
    expect(text.stdout).toContain("serving.batching.maxQueueDelayMs: 5 -> 1");
    const against = runCli(["diff", "--spec", FRAUD, "--against", "examples/llm-support-assistant.yaml"]);
    expect(against.stdout).toContain("serving.hardware: cpu -> gpu");
    const bad = runCli(["diff", "--spec", FRAUD, "--set", "inference.mode=sometimes"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("inference.mode");
    // a path through a value that is not an object, or into an object's prototype, is refused
    const through = runCli(["diff", "--spec", FRAUD, "--set", "inference.mode.x=1"]);
    expect(through.code).toBe(2);
    expect(through.stderr).toContain("--set inference.mode.x=1: mode is not an object in the spec");
    const proto = runCli(["diff", "--spec", FRAUD, "--set", "__proto__.polluted=1"]);
    expect(proto.code).toBe(2);
    expect(proto.stderr).toContain("--set __proto__.polluted=1: __proto__ is not allowed in a path");
  });

  it("validates: 0 for a valid spec, 1 for contradictions, 2 for schema problems", () => {
    expect(runCli(["validate", "--spec", FRAUD]).code).toBe(0);
    const contra = specFile(
      "eu.yaml",
      "metadata: {name: e}\ndataResidency: eu\ncloud: {provider: gcp, region: us-central1}\n",
    );
    const result = runCli(["validate", "--spec", contra]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error RESIDENCY_REGION_MISMATCH at cloud.region");
    const json = JSON.parse(runCli(["validate", "--spec", contra, "--json"]).stdout);
    expect(json.valid).toBe(false);
    expect(runCli(["validate", "--spec", specFile("b.yaml", "metadata: {}\n")]).code).toBe(2);
  });
});
