/**
 * Quantities in a spec may be written as plain numbers in the field's base unit or as strings with a
 * unit ("50ms", "0.2s", "1.5GB", "$20k", "3k"). Parsing is strict: an unknown unit is an error that
 * names the units allowed, never a guess.
 */
import { z } from "zod";

type UnitTable = Readonly<Record<string, number>>;

export const DURATION_MS: UnitTable = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
export const SIZE_MB: UnitTable = { kb: 1 / 1024, mb: 1, gb: 1024, tb: 1024 * 1024 };
export const SIZE_GB: UnitTable = { mb: 1 / 1024, gb: 1, tb: 1024, pb: 1024 * 1024 };
export const COUNT: UnitTable = { "": 1, k: 1_000, m: 1_000_000, b: 1_000_000_000 };
export const HOURS: UnitTable = { h: 1, d: 24, min: 1 / 60 };
export const DAYS: UnitTable = { d: 1, w: 7, h: 1 / 24 };
export const MINUTES: UnitTable = { s: 1 / 60, sec: 1 / 60, m: 1, min: 1, h: 60 };

const QUANTITY =
  /^\s*\$?\s*(-?\d+(?:[.,_]\d+)*(?:\.\d+)?)\s*([a-zA-Z]*)\s*(?:\/\s*(?:s|sec|mo|month|day))?\s*$/;

/** Parses "50ms" against a unit table; returns undefined when the text is not a quantity in it. */
export function parseQuantity(text: string, units: UnitTable, baseUnit: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const value = Number(match[1].replace(/[,_]/g, ""));
  const unit = (match[2] || baseUnit).toLowerCase();
  const factor = units[unit] ?? (unit === baseUnit.toLowerCase() ? 1 : undefined);
  if (factor === undefined || !Number.isFinite(value)) return undefined;
  return value * factor;
}

/**
 * A number field that also accepts a string with a unit. The JSON Schema of the input side says
 * "number or string", and the output type is always a number in `baseUnit`.
 */
export function quantity(units: UnitTable, baseUnit: string) {
  const allowed = Object.keys(units)
    .filter((u) => u !== "")
    .join(", ");
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    if (typeof value === "number") return value;
    const parsed = parseQuantity(value, units, baseUnit);
    if (parsed === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected a number in ${baseUnit || "units"} or a quantity with one of the units ${allowed}, found "${value}"`,
      });
      return z.NEVER;
    }
    return parsed;
  });
}
