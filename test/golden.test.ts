import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expectGolden, goldenPath } from "./helpers/golden.js";

describe("golden files", () => {
  it("a missing golden file fails instead of being written and compared with itself", () => {
    const saved = process.env.UPDATE_GOLDEN;
    delete process.env.UPDATE_GOLDEN;
    try {
      expect(() => expectGolden("never/written.txt", "output")).toThrow(
        /missing golden file test\/golden\/never\/written\.txt/,
      );
      expect(existsSync(goldenPath("never/written.txt"))).toBe(false);
    } finally {
      if (saved !== undefined) process.env.UPDATE_GOLDEN = saved;
    }
  });
});
