import { z } from "zod";
import { SPEC_API_VERSION, specSchema } from "./schema.js";

export const SPEC_SCHEMA_ID = "https://stackwright.dev/schema/v1/stackwright.schema.json";

/** The JSON Schema of what a user may write (input side: defaults optional, units as strings allowed). */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(specSchema, { io: "input", target: "draft-2020-12", unrepresentable: "any" });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: SPEC_SCHEMA_ID,
    title: `stackwright requirements spec (${SPEC_API_VERSION})`,
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== "$schema")),
  };
}
