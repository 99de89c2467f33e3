import { describe, expect, it } from "vitest";
import {
  ExpressionError,
  evaluate,
  parseExpression,
  referencedPaths,
  renderTemplate,
  type Value,
} from "../../src/engine/index.js";

const inputs: Record<string, Value> = {
  "inference.latencyP99Ms": 50,
  "inference.mode": "auto",
  "data.sources": ["kafka", "s3"],
  "facts.tools": ["mlflow"],
  "inference.batch.schedule": null,
  "decision.serving.mode": "realtime",
};
const resolve = (path: string) => inputs[path];
const run = (source: string) => evaluate(parseExpression(source), resolve);

describe("expression language", () => {
  it("compares, combines and tests membership", () => {
    expect(run("inference.latencyP99Ms < 100 and inference.mode == 'auto'")).toBe(true);
    expect(run("'kafka' in data.sources")).toBe(true);
    expect(run("'kinesis' not in data.sources")).toBe(true);
    expect(run("not ('mlflow' in facts.tools) or decision.serving.mode == 'batch'")).toBe(false);
    expect(run("inference.latencyP99Ms * 0.1 + 1")).toBe(6);
  });

  it("treats comparisons with an unset field as false, not as an error", () => {
    expect(run("inference.batch.schedule > 3")).toBe(false);
    expect(run("inference.batch.schedule == null")).toBe(true);
  });

  it("has a fixed set of pure functions", () => {
    expect(run("max(1, floor(inference.latencyP99Ms * 0.1))")).toBe(5);
    expect(run("coalesce(inference.batch.schedule, '@daily')")).toBe("@daily");
    expect(run("if(len(data.sources) > 1, 'many', 'one')")).toBe("many");
    expect(run("intersects(data.sources, ['kafka', 'kinesis'])")).toBe(true);
    expect(() => parseExpression("eval('1')")).toThrow(/unknown function "eval"; allowed: .*min/);
  });

  it("reports syntax errors with the column", () => {
    expect(() => parseExpression("a == ")).toThrow(ExpressionError);
    expect(() => parseExpression("a ; b")).toThrow(/column 3/);
    expect(() => parseExpression("'open")).toThrow(/unterminated string/);
  });

  it("refuses unknown inputs at evaluation", () => {
    expect(() => run("inference.nope == 1")).toThrow(/unknown input "inference.nope"/);
  });

  it("lists the paths an expression reads", () => {
    const paths = referencedPaths(parseExpression("a.b > 1 and f(x.y) == 2".replace("f(", "max(")));
    expect([...paths].sort()).toEqual(["a.b", "x.y"]);
  });

  it("renders because templates without float noise", () => {
    expect(renderTemplate("p99 {inference.latencyP99Ms} ms from {data.sources}", resolve)).toBe(
      "p99 50 ms from kafka, s3",
    );
    expect(renderTemplate("{inference.latencyP99Ms / 3}", resolve)).toBe("16.67");
    expect(renderTemplate("{inference.latencyP99Ms / 30000}", resolve)).toBe("0.0017");
    expect(renderTemplate("{'the ' + inference.mode + ' mode'}", resolve)).toBe("the auto mode");
  });
});
