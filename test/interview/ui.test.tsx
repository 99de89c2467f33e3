import { readFileSync } from "node:fs";
import { join } from "node:path";
import { render } from "ink-testing-library";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { answersFrom, finish } from "../../src/interview/machine.js";
import { type AppResult, InterviewApp } from "../../src/interview/ui/app.js";
import { createPlan } from "../../src/plan/index.js";
import { parseSpec } from "../../src/requirements/index.js";
import { ROOT } from "../helpers/cli.js";

const KEYS = { enter: "\r", tab: "\t", escape: "\u001B", down: "\u001B[B", ctrlC: "\u0003" };
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

async function type(stdin: { write(s: string): void }, text: string) {
  for (const ch of text) {
    stdin.write(ch);
    await tick(5);
  }
}

describe("the Ink interview", () => {
  it("runs a full interview: typed answers, a select with arrows, defaults with Tab; re-plans as it goes", async () => {
    let result: AppResult | undefined;
    const { stdin, lastFrame } = render(<InterviewApp onExit={(r) => (result = r)} />);
    await tick();
    expect(lastFrame()).toContain("What is the workload called?");
    expect(lastFrame()).toMatch(/stackwright interview 1\/\d+/);
    await type(stdin, "ink-scoring");
    stdin.write(KEYS.enter);
    await tick();
    stdin.write(KEYS.tab); // owner
    await tick();
    stdin.write(KEYS.tab); // contacts
    await tick();
    expect(lastFrame()).toContain("What kind of model is it?");
    stdin.write(KEYS.down); // tabular-regression
    await tick();
    stdin.write(KEYS.enter);
    await tick();
    expect(lastFrame()).toContain("Plan so far");
    expect(lastFrame()).toMatch(/mode: realtime/);
    for (let i = 0; i < 60 && !result; i++) {
      stdin.write(KEYS.tab);
      await tick(15);
    }
    expect(result?.kind).toBe("done");
    if (result?.kind !== "done") return;
    const done = finish(result.state);
    expect(done.ok).toBe(true);
    if (!done.ok) return;
    expect(done.spec.metadata.name).toBe("ink-scoring");
    expect(done.spec.useCase.kind).toBe("tabular-regression");
  });

  it("goes back with Esc and shows why an answer is refused", async () => {
    const { stdin, lastFrame } = render(<InterviewApp onExit={() => {}} />);
    await tick();
    await type(stdin, "svc");
    stdin.write(KEYS.enter);
    await tick();
    expect(lastFrame()).toContain("Which team owns it?");
    stdin.write(KEYS.escape);
    await tick();
    expect(lastFrame()).toContain("What is the workload called?");
    await type(stdin, "svc2");
    stdin.write(KEYS.enter);
    await tick();
    for (let i = 0; i < 15 && !lastFrame()?.includes("What p99 latency"); i++) {
      stdin.write(KEYS.tab);
      await tick(20);
    }
    expect(lastFrame()).toContain("What p99 latency must predictions meet?");
    await type(stdin, "fast");
    stdin.write(KEYS.enter);
    await tick();
    expect(lastFrame()).toContain("not a quantity");
  });

  it("flags contradictions at once in the side panel", async () => {
    const { lastFrame } = render(
      <InterviewApp
        prefill={{ "metadata.name": "c", "inference.mode": "batch", "inference.latencyP99Ms": 20 }}
        onExit={() => {}}
      />,
    );
    await tick();
    expect(lastFrame()).toContain("BATCH_WITH_TIGHT_LATENCY");
  });

  it("Ctrl-C asks whether to save the partial spec", async () => {
    let result: AppResult | undefined;
    const { stdin, lastFrame } = render(<InterviewApp onExit={(r) => (result = r)} />);
    await tick();
    await type(stdin, "partial");
    stdin.write(KEYS.enter);
    await tick();
    stdin.write(KEYS.ctrlC);
    await tick();
    expect(lastFrame()).toContain("Save the partial spec before quitting? (y/n)");
    stdin.write("y");
    await tick();
    expect(result?.kind).toBe("save-partial");
    if (result?.kind === "save-partial") expect(result.state.answers["metadata.name"]).toBe("partial");
  });

  it("submits text pasted together with Enter in one chunk", async () => {
    const { stdin, lastFrame } = render(<InterviewApp onExit={() => {}} />);
    await tick();
    stdin.write("fraud-api\r");
    await tick();
    expect(lastFrame()).toContain("Which team owns it?");
  });

  it("seeded answers (--from) are each question's default: Enter on a choice and Tab keep them", async () => {
    let result: AppResult | undefined;
    const seeded = answersFrom(
      load(readFileSync(join(ROOT, "examples/fraud-detection.yaml"), "utf8")) as Record<string, unknown>,
    );
    const { stdin, lastFrame } = render(<InterviewApp prefill={seeded} onExit={(r) => (result = r)} />);
    await tick();
    expect(lastFrame()).toContain("fraud-detection");
    for (let i = 0; i < 80 && !result; i++) {
      // Enter on a choice question takes the highlighted option, which must be the seeded one
      stdin.write(lastFrame()?.includes("> ") && /\n> [a-z]/.test(lastFrame() ?? "") ? KEYS.enter : KEYS.tab);
      await tick(15);
    }
    expect(result?.kind).toBe("done");
    if (result?.kind !== "done") return;
    const done = finish(result.state);
    if (!done.ok) throw new Error(JSON.stringify(done.problems));
    const original = parseSpec(readFileSync(join(ROOT, "examples/fraud-detection.yaml"), "utf8"));
    if (!original.ok) throw new Error("the example does not parse");
    expect(createPlan(done.spec).decisions).toEqual(createPlan(original.spec).decisions);
  });

  it("fits 80 columns", async () => {
    const { lastFrame } = render(<InterviewApp onExit={() => {}} />);
    await tick();
    for (const line of (lastFrame() ?? "").split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  });
});
