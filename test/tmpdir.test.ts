import { tmpdir } from "node:os";
import { basename, dirname } from "node:path";
import { expect, it } from "vitest";

it("tests write their temporary files inside the run's own directory, which the run removes", () => {
  expect(basename(tmpdir())).toMatch(/^stackwright-tests-/);
  expect(dirname(tmpdir())).not.toBe(tmpdir());
});
