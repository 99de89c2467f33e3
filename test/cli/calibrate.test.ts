import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump, load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTP_OVERHEAD_MS } from "../../src/plan/capacity.js";
import { loadDefaultRuleSet } from "../../src/plan/index.js";
import { calibrationSchema } from "../../src/requirements/calibration.js";
import { buildMlp } from "../../src/serve/onnx-build.js";
import { ROOT, runCli } from "../helpers/cli.js";

let dir: string;
let specPath: string;
const ROWS = 64;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sw-calibrate-"));
  const model = buildMlp({ layers: [256, 1024, 1024, 1], seed: 5 });
  writeFileSync(join(dir, "model.onnx"), model);
  const spec = load(readFileSync(join(ROOT, "examples", "fraud-detection.yaml"), "utf8")) as Record<
    string,
    Record<string, unknown>
  >;
  // a neural scorer, 64 rows a request, on CPU: the measured figure, not the FLOP estimate, sizes it
  spec.model = { framework: "pytorch", format: "onnx", sizeMb: model.byteLength / 1e6, gpu: false };
  spec.inference = { ...spec.inference, rowsPerRequest: ROWS, latencyP99Ms: 200 };
  specPath = join(dir, "spec.yaml");
  writeFileSync(specPath, dump(spec));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("stackwright calibrate, then plan from the measurement", () => {
  it("measures the model at each batch size through the serving core and writes the calibration", () => {
    const result = runCli(
      ["calibrate", "--model", "model.onnx", "--batch-sizes", "1,8,64,128", "--seconds-per-batch", "0.2"],
      { cwd: dir },
    );
    expect(result.stderr).toMatch(/calibrate: batch 64: [\d,]+ rows\/s, p50 [\d.]+ ms, p99 [\d.]+ ms/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^measured on 1 thread\(s\) of .+, model\.onnx sha256 [0-9a-f]{12}/);
    const calibration = calibrationSchema.parse(
      JSON.parse(readFileSync(join(dir, "stackwright.calibration.json"), "utf8")),
    );
    expect(calibration.device).toBe("cpu");
    expect(calibration.batches.map((b) => b.rows)).toEqual([1, 8, 64, 128]);
    for (const b of calibration.batches) {
      expect(b.runs).toBeGreaterThanOrEqual(20);
      expect(b.p99Ms).toBeGreaterThanOrEqual(b.p50Ms);
      expect(b.rowsPerSecondPerCore).toBeCloseTo(b.rowsPerSecond / calibration.threads, 2);
    }
  });

  it("a plan beside it sizes each replica from the measured rows per second, scaled by its vCPUs", () => {
    const calibration = calibrationSchema.parse(
      JSON.parse(readFileSync(join(dir, "stackwright.calibration.json"), "utf8")),
    );
    const result = runCli(["plan", "--json", "--spec", specPath]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `capacity: using the calibration in ${join(dir, "stackwright.calibration.json")}`,
    );
    const plan = JSON.parse(result.stdout);
    const c = plan.capacity;
    expect(c.hardware).toBe("cpu");
    expect(c.estimatedFrom).toMatch(/^measured on 1 thread\(s\) of /);
    // the batch it runs at: the fastest measured one that holds a request within half the p99
    const fitting = calibration.batches.filter((b) => b.rows >= ROWS && b.p99Ms <= 100);
    const best = fitting.reduce((a, b) => (b.rowsPerSecondPerCore! > a.rowsPerSecondPerCore! ? b : a));
    expect(c.measured).toMatchObject({ device: "cpu", batchRows: best.rows, unit: "vcpu" });
    expect(c.measured.rowsPerSecondPerUnit).toBeCloseTo(best.rowsPerSecondPerCore!, 1);
    // per replica: the measured rows per second per core x the instance's vCPUs, a request being
    // 64 rows plus the serving core's per-request time (and never past one event loop)
    const instance = loadDefaultRuleSet()
      .prices.get("aws")!
      .cpuInstances.find((i) => i.name === c.instanceType)!;
    const expected = Math.min(
      1000 / HTTP_OVERHEAD_MS,
      (instance.vcpu * 1000) / (HTTP_OVERHEAD_MS + (ROWS * 1000) / best.rowsPerSecondPerCore!),
    );
    expect(c.perReplicaQps).toBeCloseTo(expected, 0);
    expect(plan.warnings.map((w: { code: string }) => w.code)).not.toContain("CALIBRATION_NOT_USED");

    const explained = runCli(["explain", "capacity", "--spec", specPath]);
    expect(explained.stdout).toMatch(/Measured throughput\s+[\d.]+ rows\/s per vCPU at batches of \d+/);
    // --no-calibration: the estimate again
    const estimated = JSON.parse(runCli(["plan", "--json", "--no-calibration", "--spec", specPath]).stdout);
    expect(estimated.capacity.measured).toBeUndefined();
    expect(estimated.capacity.estimatedFrom).not.toMatch(/^measured/);
    // diff sizes both sides as plan does: its "from" is the calibrated figure
    const diff = JSON.parse(
      runCli(["diff", "--json", "--spec", specPath, "--set", `inference.rowsPerRequest=${ROWS * 2}`]).stdout,
    );
    const perReplica = diff.capacity.find((f: { field: string }) => f.field === "perReplicaQps");
    expect(perReplica.from).toBe(c.perReplicaQps);
    expect(perReplica.to).toBeLessThan(c.perReplicaQps);
  });

  it("a calibration the plan cannot size from is said, not silently used", () => {
    writeFileSync(join(dir, "llm.yaml"), readFileSync(join(ROOT, "examples", "llm-support-assistant.yaml")));
    const result = runCli([
      "plan",
      "--json",
      "--spec",
      join(dir, "llm.yaml"),
      "--calibration",
      join(dir, "stackwright.calibration.json"),
    ]);
    const plan = JSON.parse(result.stdout);
    expect(plan.capacity.measured).toBeUndefined();
    const warning = plan.warnings.find((w: { code: string }) => w.code === "CALIBRATION_NOT_USED");
    expect(warning.message).toContain("an LLM is sized from its architecture");
  });

  it("refuses a broken calibration with the field that is wrong, and a model it cannot read", () => {
    const broken = join(dir, "broken.json");
    const calibration = JSON.parse(readFileSync(join(dir, "stackwright.calibration.json"), "utf8"));
    calibration.batches[0].rows = -1;
    writeFileSync(broken, JSON.stringify(calibration));
    const result = runCli(["plan", "--spec", specPath, "--calibration", broken]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${broken} is not a stackwright calibration`);
    expect(result.stderr).toMatch(/batches\.0\.rows: /);

    const missing = runCli(["calibrate", "--model", join(dir, "nope.onnx")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file");
    const notOnnx = join(dir, "not-a-model.onnx");
    copyFileSync(specPath, notOnnx);
    const bad = runCli(["calibrate", "--model", notOnnx, "-o", join(dir, "never.json")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`cannot load ${notOnnx}`);
    expect(() => readFileSync(join(dir, "never.json"))).toThrow();
    const flags = runCli(["calibrate", "--model", "model.onnx", "--batch-sizes", "8,zero"], { cwd: dir });
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain('each batch size must be a whole number from 1 to 65536, got "zero"');
  });
});
