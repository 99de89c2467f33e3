import { describe, expect, it } from "vitest";
import { loadDefaultRuleSet } from "../../src/plan/index.js";
import { checkRuleExamples } from "../../src/plan/lint.js";

// Every rule fires on the specs built for it (match) and not on its near misses.
const ruleSet = loadDefaultRuleSet();
const results = checkRuleExamples(ruleSet);
const ruleIds = [...ruleSet.rules.values()].flat().map((r) => r.id);

describe("decision rules", () => {
  it("every rule has match and nearMiss examples", () => {
    for (const id of ruleIds) {
      expect(results.filter((r) => r.ruleId === id && r.kind === "match").length, id).toBeGreaterThan(0);
      expect(results.filter((r) => r.ruleId === id && r.kind === "nearMiss").length, id).toBeGreaterThan(0);
    }
  });

  it.each(ruleIds)("%s fires on its match examples and not on its near misses", (id) => {
    const failures = results.filter((r) => r.ruleId === id && !r.ok).map((r) => r.message);
    expect(failures).toEqual([]);
  });
});
