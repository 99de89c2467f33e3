import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseSpec } from "../../src/requirements/index.js";
import { runCli, runCliAsync } from "../helpers/cli.js";
import { type FakeAnthropic, startFakeAnthropic } from "../helpers/fake-anthropic.js";

let server: FakeAnthropic | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const DRAFT = {
  spec: {
    metadata: { name: "card-fraud" },
    useCase: { kind: "tabular-classification", description: "fraud scoring for card payments" },
    inference: { mode: "realtime", latencyP99Ms: 50, peakQps: 3000 },
    compliance: ["pci-dss"],
    cloud: { provider: "aws", region: "us-east-1" },
    model: { framework: "xgboost", sizeMb: 50 },
  },
  assumed: ["model.framework", "model.sizeMb", "cloud.region"],
};

describe("stackwright draft / review", () => {
  it("drafts a valid spec with assumed fields marked, recording the answer", async () => {
    server = await startFakeAnthropic(() => ({ text: JSON.stringify(DRAFT) }));
    const dir = mkdtempSync(join(tmpdir(), "sw-draft-"));
    const out = join(dir, "stackwright.yaml");
    const lock = join(dir, "lock.json");
    const result = await runCliAsync(
      [
        "draft",
        "fraud scoring for card payments, 3k rps, PCI, AWS, p99 under 50ms",
        "--out",
        out,
        "--lock",
        lock,
        "--yes",
      ],
      { env: { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: server.url } },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("3 assumed field(s): cloud.region, model.framework, model.sizeMb");
    const text = readFileSync(out, "utf8");
    // the schema it names is written beside it: nothing outside the repository or the machine
    expect(text).toMatch(/^# yaml-language-server: \$schema=\.\/stackwright\.schema\.json\n/);
    const schema = JSON.parse(readFileSync(join(dirname(out), "stackwright.schema.json"), "utf8"));
    expect(schema.properties.metadata).toBeDefined();
    expect(text).toMatch(/framework: xgboost # assumed/);
    expect(text).toMatch(/latencyP99Ms: 50\n/);
    const parsed = parseSpec(text);
    expect(parsed.ok).toBe(true);
    expect(JSON.parse(readFileSync(lock, "utf8")).llm).toHaveLength(1);
    // the description reached the model as data
    expect(server.exchanges[0].prompt).toMatch(/<data>[\s\S]*3k rps[\s\S]*<\/data>/);
  });

  it("refuses a draft the schema rejects, listing the problems, and writes nothing", async () => {
    server = await startFakeAnthropic(() => ({
      text: JSON.stringify({
        spec: { metadata: { name: "x" }, inference: { mode: "telepathy" } },
        assumed: [],
      }),
    }));
    const dir = mkdtempSync(join(tmpdir(), "sw-draft-"));
    const out = join(dir, "s.yaml");
    const result = await runCliAsync(
      ["draft", "something", "--out", out, "--lock", join(dir, "l.json"), "--yes"],
      {
        env: { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: server.url },
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("INVALID_VALUE at inference.mode");
    expect(existsSync(out)).toBe(false);
  });

  it("without a key, draft explains what it needs and exits 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-draft-"));
    const result = runCli(["draft", "anything", "--out", join(dir, "s.yaml"), "--lock", join(dir, "l.json")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/draft needs a model[\s\S]*ANTHROPIC_API_KEY/);
  });

  it("review prints the critique labelled as model output", async () => {
    server = await startFakeAnthropic(() => ({
      text: JSON.stringify({
        summary: "Sound for the stated load.",
        risks: [
          {
            title: "Label delay",
            severity: "medium",
            detail: "45 days of label delay hides concept drift.",
            capability: "monitoring.performance",
          },
        ],
        questions: ["Who owns the fallback rules?"],
      }),
    }));
    const dir = mkdtempSync(join(tmpdir(), "sw-review-"));
    const result = await runCliAsync(
      ["review", "--spec", "examples/fraud-detection.yaml", "--lock", join(dir, "l.json")],
      {
        env: { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: server.url },
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^MODEL OUTPUT/);
    expect(result.stdout).toContain("[medium] Label delay (monitoring.performance)");
    expect(result.stdout).toContain("- Who owns the fallback rules?");
  });
});
