import { describe, expect, it } from "vitest";
import { type BreakerState, CircuitBreaker } from "../../src/serve/breaker.js";
import { modelPath } from "../../src/serve/http.js";

describe("modelPath", () => {
  // the pattern the route matched with before it split strings; the parse must agree with it
  const PATTERN = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer|\/drift|\/shadow)?$/;
  const byPattern = (path: string) => {
    const m = PATTERN.exec(path);
    if (!m) return undefined;
    return {
      name: decodeURIComponent(m[1]),
      version: m[2] === undefined ? undefined : decodeURIComponent(m[2]),
      action: m[3]?.slice(1),
    };
  };
  it.each([
    "/v2/models/fraud",
    "/v2/models/fraud/infer",
    "/v2/models/fraud/ready",
    "/v2/models/fraud/drift",
    "/v2/models/fraud/shadow",
    "/v2/models/fraud/versions/3",
    "/v2/models/fraud/versions/3/infer",
    "/v2/models/fraud/versions/infer",
    "/v2/models/versions/versions/2/ready",
    "/v2/models/infer/infer",
    "/v2/models/..%2F..%2Ftmp%2Fx/infer",
    "/v2/models/a%20b/versions/v%2F1/ready",
    "/v2/models/fraud/versions",
    "/v2/models/fraud/explain",
    "/v2/models/fraud/versions/3/infer/more",
    "/v2/models//infer",
    "/v2/models/",
    "/v2/models",
    "/v2/modelsx/fraud",
    "/v2/repository/models/fraud/load",
  ])("%s as the pattern read it", (path) => {
    expect(modelPath(path)).toEqual(byPattern(path));
  });
});

describe("CircuitBreaker", () => {
  it("reports its closed state at once and each change after, never a repeat", () => {
    const heard: BreakerState[] = [];
    const b = new CircuitBreaker(2, 10_000, 1_000, (s) => heard.push(s));
    expect(heard).toEqual(["closed"]);
    b.success();
    b.failure(0);
    expect(heard).toEqual(["closed"]);
    b.failure(1);
    expect(heard).toEqual(["closed", "open"]);
    expect(b.allow(500)).toBe(false);
    expect(b.allow(1_001)).toBe(true);
    expect(b.allow(1_002)).toBe(false);
    b.failure(1_003);
    expect(b.allow(2_004)).toBe(true);
    b.success();
    b.success();
    expect(heard).toEqual(["closed", "open", "half-open", "open", "half-open", "closed"]);
    expect(b.state).toBe("closed");
  });
});
