/** The prediction format of /v1/predictions, score and consume, read from a model's first output. */
import type { RowSlice } from "./batcher.js";
import { toJsonArray } from "./tensors.js";

export interface Prediction {
  /** 0/1 for a single probability (threshold 0.5), else the index of the highest class score */
  prediction: number;
  probability: number;
}

/** One prediction per row of the first output: one value a row is a probability, several are class scores. */
export function predictionsOf(outputs: Record<string, RowSlice>): Prediction[] {
  const out = Object.values(outputs)[0];
  const rows = out.dims[0] ?? 1;
  const perRow = out.dims.slice(1).reduce((a, b) => a * b, 1);
  const flat = toJsonArray(out.type, out.buffer, out.offset, rows * perRow) as number[];
  const result: Prediction[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    if (perRow === 1) {
      const probability = flat[r];
      result[r] = { prediction: probability >= 0.5 ? 1 : 0, probability };
    } else {
      const values = flat.slice(r * perRow, (r + 1) * perRow);
      const probability = Math.max(...values);
      result[r] = { prediction: values.indexOf(probability), probability };
    }
  }
  return result;
}
