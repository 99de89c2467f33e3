import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HTTP_OVERHEAD_MS } from "../../src/plan/capacity.js";
import { ROOT, runCli } from "../helpers/cli.js";

describe("stackwright explain capacity", () => {
  it("shows the sizing arithmetic step by step, each figure with its source or labelled an estimate", () => {
    const result = runCli(["explain", "capacity", "--spec", join(ROOT, "examples", "defect-detection.yaml")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^capacity = \d+-\d+ x \S+ \(gpu\)/);
    expect(result.stdout).toContain("FLOPs per row");
    expect(result.stdout).toContain("https://docs.ultralytics.com/models/yolov8/");
    // every constant says what it rests on: a measurement here or a published figure
    expect(result.stdout).toMatch(/CPU_GFLOPS_PER_VCPU\s+96\n\s+measured \(bench\/capacity\/cpu-bench\.js/);
    expect(result.stdout).toMatch(/GPU_UTILIZATION\s+0\.4\n\s+derived from published figures/);
    // the constant as the plan holds it (its value follows bench/results/serve-cpu.json)
    expect(result.stdout).toMatch(
      new RegExp(`HTTP_OVERHEAD_MS\\s+${String(HTTP_OVERHEAD_MS).replace(".", "\\.")}\\n\\s+measured`),
    );
    // the GPU's figures with the datasheet they come from
    expect(result.stdout).toMatch(
      /GPU\s+1 x NVIDIA T4 \(Turing\): 16 GB, 65 FP16 TFLOPS dense, 320 GB\/s\n\s+T4 datasheet: .*\(https:\/\/www\.nvidia\.com\/en-us\/data-center\/tesla-t4\/\)/,
    );
  });

  it("an LLM's steps carry its sourced serving constants; --json is the same steps", () => {
    const result = runCli([
      "explain",
      "capacity",
      "--json",
      "--spec",
      join(ROOT, "examples", "llm-support-assistant.yaml"),
    ]);
    expect(result.code).toBe(0);
    const { steps } = JSON.parse(result.stdout) as { steps: Array<{ step: string; basis: string }> };
    const decode = steps.find((s) => s.step === "llm.decodeBandwidthEfficiency")!;
    expect(decode.basis).toContain("https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance");
    expect(steps.map((s) => s.step)).toContain("Training");
  });

  it("an unknown capability names capacity among the allowed ones", () => {
    const result = runCli(["explain", "capacty", "--spec", join(ROOT, "examples", "defect-detection.yaml")]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/allowed: serving\.mode.*, or capacity/);
  });
});
