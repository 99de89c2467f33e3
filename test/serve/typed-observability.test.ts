/**
 * Drift and shadow comparison for the tensor types beyond FP32: an FP16 input is binned by the
 * values its bits hold (not the bits), a text (BYTES) input has no distribution to watch, and two
 * text answers are compared on agreement only.
 */
import { describe, expect, it } from "vitest";
import type { RowSlice } from "../../src/serve/batcher.js";
import { DriftMonitor } from "../../src/serve/drift.js";
import { createMetrics } from "../../src/serve/metrics.js";
import { Observability } from "../../src/serve/observability.js";
import { ShadowMirror } from "../../src/serve/shadow.js";
import { encodeStrings, toHalfBits } from "../../src/serve/tensors.js";

const loadedWith = (drift: DriftMonitor) => ({
  version: "1",
  batcher: { depth: 0 },
  drift,
  source: { meta: { features: ["x"] } },
});

describe("drift and shadow for FP16 and BYTES", () => {
  it("an FP16 input is binned by its values", () => {
    const drift = new DriftMonitor({ x: { edges: [0.5], fractions: [0.9, 0.1] } });
    // 90% at 0.25 and 10% at 0.75: the reference's own split, as values (as bits, all above 0.5)
    const halves = new Uint16Array(200).map((_, i) => toHalfBits(i < 180 ? 0.25 : 0.75));
    new Observability().observeDrift(loadedWith(drift), {
      input: { type: "float16", rowDims: [1], data: halves },
    });
    const { psi, samples } = drift.scores().x;
    expect(samples).toBe(200);
    expect(psi).toBeLessThan(0.01);
  });

  it("a text input is not binned", () => {
    const drift = new DriftMonitor({ x: { edges: [0.5], fractions: [0.5, 0.5] } });
    new Observability().observeDrift(loadedWith(drift), {
      input: { type: "string", rowDims: [1], data: encodeStrings(["a", "b"]) },
    });
    expect(drift.scores().x.samples).toBe(0);
  });

  it("two text answers are compared on agreement, with no score difference", async () => {
    const text = (rows: string[][]): RowSlice => {
      const bytes = encodeStrings(rows.flat());
      return {
        type: "string",
        dims: [rows.length, rows[0].length],
        buffer: bytes.buffer as ArrayBuffer,
        offset: 0,
      };
    };
    const mirror = new ShadowMirror(createMetrics());
    mirror.mirror("m", "2", { output: text([["yes"], ["no"]]) }, async () => ({
      output: text([["yes"], ["maybe"]]),
    }));
    await new Promise((r) => setTimeout(r, 20));
    expect(mirror.statsOf("m", "2")).toMatchObject({ compared: 1, agreement: 0.5, meanAbsDiff: null });
  });
});
