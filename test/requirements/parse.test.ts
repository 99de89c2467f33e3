import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSpec, specJsonSchema, specJsonSchemaText } from "../../src/requirements/index.js";
import { ROOT, runCli } from "../helpers/cli.js";

describe("spec parsing", () => {
  it("applies defaults and parses unit strings", () => {
    const result = parseSpec(
      "metadata: {name: fraud}\ninference: {latencyP99Ms: 0.05s, peakQps: 3k}\nmodel: {sizeMb: 1.5GB}\n",
      "spec.yaml",
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.inference.latencyP99Ms).toBe(50);
    expect(result.spec.inference.peakQps).toBe(3000);
    expect(result.spec.model.sizeMb).toBe(1536);
    // left for the plan, which picks it from the provider, residency and HIPAA (test/plan/defaults.test.ts)
    expect(result.spec.cloud.region).toBeNull();
    expect(result.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("lists every problem at once with its path, what was found and what is allowed", () => {
    const result = parseSpec(
      "metadata: {name: x}\ninference: {mode: sometimes, latencyP99Ms: -5}\ncloud: {provider: oracle}\nbogus: 1\n",
      "spec.yaml",
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.problems.map((p) => p.path).sort();
    expect(paths).toEqual(["bogus", "cloud.provider", "inference.latencyP99Ms", "inference.mode"].sort());
    const mode = result.problems.find((p) => p.path === "inference.mode");
    expect(mode?.found).toBe("sometimes");
    expect(mode?.allowed).toContain("realtime");
  });

  it("the JSON Schema describes the spec fields", () => {
    const schema = specJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["metadata", "inference", "data", "compliance", "cloud", "budget", "team"]),
    );
  });

  it("`stackwright schema` prints the JSON Schema", () => {
    const result = runCli(["schema"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).$id).toBe("urn:stackwright:requirements:v1");
  });
});

describe("every validation error path", () => {
  const cases: Array<[string, string, string]> = [
    ["just a string", "NOT_AN_OBJECT", ""],
    ["[1, 2]", "NOT_AN_OBJECT", ""],
    ["metadata: {owner: x}", "INVALID_TYPE", "metadata.name"],
    ["metadata: {name: 42}", "INVALID_TYPE", "metadata.name"],
    ["metadata: {name: x}\ninference: {mode: sometimes}", "INVALID_VALUE", "inference.mode"],
    ["metadata: {name: x}\nextra: 1", "UNKNOWN_FIELD", "extra"],
    ["metadata: {name: x}\navailability: {targetPercent: 120}", "OUT_OF_RANGE", "availability.targetPercent"],
    [
      "metadata: {name: x}\ninference: {batch: {schedule: 'every day'}}",
      "INVALID_FORMAT",
      "inference.batch.schedule",
    ],
    ["metadata: {name: x}\ninference: {latencyP99Ms: fast}", "INVALID_QUANTITY", "inference.latencyP99Ms"],
    [
      "metadata: {name: x}\ninference: {latencyP99Ms: 5 parsecs}",
      "INVALID_QUANTITY",
      "inference.latencyP99Ms",
    ],
    ["metadata: {name: x}\ndata: {sources: [kafka, ftp]}", "INVALID_VALUE", "data.sources[1]"],
    ["metadata: {name: x}\ncompliance: pci-dss", "INVALID_TYPE", "compliance"],
    ["metadata: {name: x}\nmetadata: {name: y}", "YAML_SYNTAX", ""],
  ];
  it.each(cases)("%j -> %s at %s", (text, code, path) => {
    const result = parseSpec(text, "spec.yaml");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const match = result.problems.find((p) => p.code === code && p.path === path);
    expect(match, JSON.stringify(result.problems)).toBeDefined();
    expect(match?.message.length).toBeGreaterThan(5);
  });

  it("the schema beside the examples (their $schema comment) is the one the code produces", () => {
    // npm run examples rewrites it
    expect(readFileSync(join(ROOT, "examples/stackwright.schema.json"), "utf8")).toBe(specJsonSchemaText());
  });
});
