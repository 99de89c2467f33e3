/**
 * Named features -> the numbers a model reads, by each feature's declared type (serve.yaml
 * features.fields): floats and integers as JSON numbers, booleans as JSON booleans (or 0/1), strings
 * through the encoding the model version declares (model.yaml encodings: the index of the category).
 * Values from a feature store arrive as the store keeps them (Redis: text) and are read the same way.
 */
import type { ModelMeta } from "./config.js";

export type FeatureKind = "float" | "int" | "bool" | "string";

export class FeatureError extends Error {
  override readonly name = "FeatureError";
}

export function encodeFeature(
  name: string,
  kind: FeatureKind,
  value: unknown,
  encodings: ModelMeta["encodings"],
  from: "request" | "store",
): number {
  const where = from === "request" ? `features.${name}` : `stored feature ${name}`;
  // a store keeps text (Redis hashes): read it as the JSON value it stands for
  const v = from === "store" && typeof value === "string" && kind !== "string" ? textValue(value) : value;
  switch (kind) {
    case "bool":
      if (typeof v === "boolean") return v ? 1 : 0;
      if (v === 0 || v === 1) return v;
      throw new FeatureError(`${where} is a bool: give true or false, got ${JSON.stringify(value)}`);
    case "int":
      if (typeof v === "number" && Number.isInteger(v)) return v;
      throw new FeatureError(`${where} is an int: give a whole number, got ${JSON.stringify(value)}`);
    case "string": {
      const categories = encodings?.[name]?.categories;
      if (!categories)
        throw new FeatureError(
          `${where} is a string, but the model declares no encoding for it (model.yaml encodings)`,
        );
      const index = categories.indexOf(String(value));
      if (typeof value !== "string" || index < 0)
        throw new FeatureError(
          `${where} must be one of ${categories.join(", ")}; got ${JSON.stringify(value)}`,
        );
      return index;
    }
    default:
      if (typeof v === "number" && Number.isFinite(v)) return v;
      throw new FeatureError(`${where} is a float: give a finite number, got ${JSON.stringify(value)}`);
  }
}

function textValue(text: string): unknown {
  if (text === "true") return true;
  if (text === "false") return false;
  const n = Number(text);
  return text.trim() !== "" && Number.isFinite(n) ? n : text;
}
