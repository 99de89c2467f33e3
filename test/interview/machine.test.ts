import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  answer,
  answersFrom,
  asked,
  back,
  finish,
  next,
  progress,
  start,
} from "../../src/interview/machine.js";
import { QUESTIONS } from "../../src/interview/questions.js";
import { createPlan } from "../../src/plan/index.js";
import { parseSpec } from "../../src/requirements/index.js";
import { ROOT } from "../helpers/cli.js";

/** Answers every question with the given text per path ("" accepts the default). */
function run(inputs: Record<string, string>) {
  let state = start();
  for (let q = next(state); q; q = next(state)) {
    const result = answer(state, q, inputs[q.path] ?? "");
    if (!result.ok) throw new Error(`${q.path}: ${result.error}`);
    state = result.state;
  }
  return state;
}

describe("the interview state machine", () => {
  it("accepts every default and ends with a valid spec", () => {
    const state = run({ "metadata.name": "defaults" });
    const done = finish(state);
    expect(done.ok).toBe(true);
    expect(progress(state)).toEqual({ done: asked(state).length, total: asked(state).length });
  });

  it("asks batch questions only for batch-like workloads", () => {
    const realtime = run({ "metadata.name": "rt", "inference.mode": "realtime" });
    expect(asked(realtime).map((q) => q.id)).not.toContain("schedule");
    const batch = run({
      "metadata.name": "b",
      "inference.mode": "batch",
      "inference.latencyP99Ms": "4h",
      "inference.batch.schedule": "@daily",
    });
    expect(asked(batch).map((q) => q.id)).toEqual(expect.arrayContaining(["schedule", "rows", "deadline"]));
    expect(asked(batch).map((q) => q.id)).not.toContain("peak");
    const autoSlow = run({ "metadata.name": "a", "inference.latencyP99Ms": "2h" });
    expect(asked(autoSlow).map((q) => q.id)).toContain("schedule");
  });

  it("asks no GPU questions for a small sklearn model, and asks them for deep models", () => {
    const sk = run({ "metadata.name": "s" });
    expect(asked(sk).map((q) => q.id)).not.toEqual(expect.arrayContaining(["gpu"]));
    expect(asked(sk).map((q) => q.id)).not.toContain("params");
    const deep = run({ "metadata.name": "d", "model.framework": "pytorch" });
    expect(asked(deep).map((q) => q.id)).toEqual(expect.arrayContaining(["params", "gpu", "traingpu"]));
    const llm = run({ "metadata.name": "l", "useCase.kind": "llm-generation" });
    expect(asked(llm).map((q) => q.id)).toContain("gpu");
  });

  it("asks for a region unless the team runs its own cluster; left blank, the plan picks it", () => {
    const own = run({ "metadata.name": "k", "cloud.provider": "kubernetes" });
    expect(asked(own).map((q) => q.id)).not.toContain("region");
    const gcp = run({ "metadata.name": "g", "cloud.provider": "gcp" });
    expect(gcp.answers["cloud.region"]).toBeNull();
    const done = finish(gcp);
    if (!done.ok) throw new Error("the spec does not parse");
    expect(done.document.cloud).toEqual({ provider: "gcp" });
    expect(createPlan(done.spec).requirements.cloud.region).toBe("us-central1");
    const eu = finish(run({ "metadata.name": "e", "cloud.provider": "gcp", dataResidency: "eu" }));
    if (!eu.ok) throw new Error("the spec does not parse");
    expect(createPlan(eu.spec).requirements.cloud.region).toMatch(/^europe-/);
  });

  it("refuses invalid answers with the schema's message, and goes back", () => {
    let state = start();
    const first = next(state)!;
    state = (answer(state, first, "svc") as { ok: true; state: typeof state }).state;
    const kind = QUESTIONS.find((q) => q.id === "kind")!;
    const bad = answer(state, kind, "telepathy");
    expect(bad).toEqual({
      ok: false,
      error: expect.stringContaining("choose one of: tabular-classification"),
    });
    const latency = QUESTIONS.find((q) => q.id === "latency")!;
    const badLatency = answer(state, latency, "fast");
    expect(badLatency.ok).toBe(false);
    expect((badLatency as { error: string }).error).toContain("not a quantity");
    const availability = QUESTIONS.find((q) => q.id === "availability")!;
    expect(answer(state, availability, "120").ok).toBe(false);
    const yes = QUESTIONS.find((q) => q.id === "pii")!;
    expect(answer(state, yes, "maybe")).toEqual({ ok: false, error: "answer yes or no" });
    const backed = back(state);
    expect(backed.history).toEqual([]);
    expect(backed.answers["metadata.name"]).toBeUndefined();
  });

  const examples = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yaml"));
  it.each(examples)("answering the questions for %s reproduces its spec", (file) => {
    const text = readFileSync(join(ROOT, "examples", file), "utf8");
    const document = load(text) as Record<string, unknown>;
    const prefill = answersFrom(document);
    let state = start();
    for (let q = next(state); q; q = next(state)) {
      const value = prefill[q.path];
      const input =
        value === undefined
          ? ""
          : q.kind === "fields"
            ? (
                value as Array<{
                  name: string;
                  type?: string;
                  description?: string;
                  min?: number;
                  max?: number;
                }>
              )
                .map((f) => {
                  const range =
                    f.min !== undefined || f.max !== undefined ? `[${f.min ?? ""}..${f.max ?? ""}]` : "";
                  return [f.name, `${f.type ?? "float"}${range}`, f.description ?? ""].join(":");
                })
                .join("; ")
            : Array.isArray(value)
              ? value.join(", ")
              : String(value);
      const result = answer(state, q, input);
      if (!result.ok) throw new Error(`${q.path}: ${result.error}`);
      state = result.state;
    }
    const done = finish(state);
    if (!done.ok) throw new Error(JSON.stringify(done.problems));
    const expected = parseSpec(text);
    if (!expected.ok) throw new Error("example");
    expect(done.spec).toEqual(expected.spec);
  });
});
