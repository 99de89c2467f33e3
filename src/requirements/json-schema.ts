import { dirname, join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../util/atomic-write.js";
import { SPEC_API_VERSION, specSchema } from "./schema.js";

/** A name, not a location: the schema ships with stackwright and is written next to each spec. */
export const SPEC_SCHEMA_ID = `urn:stackwright:requirements:${SPEC_API_VERSION.split("/").pop()}`;
/** The file a spec's JSON Schema is written to, beside the spec. */
export const SPEC_SCHEMA_FILE = "stackwright.schema.json";
/** The comment at the top of a written spec that points editors at that file (relative, so it travels). */
export const SPEC_SCHEMA_COMMENT = `yaml-language-server: $schema=./${SPEC_SCHEMA_FILE}`;

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

/** The schema as the file `stackwright schema` prints and `writeSchemaBeside` writes. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}

/** Writes the schema next to a spec (atomically), so the spec's $schema comment resolves offline. */
export function writeSchemaBeside(specPath: string): string {
  const path = join(dirname(specPath), SPEC_SCHEMA_FILE);
  writeFileAtomic(path, specJsonSchemaText());
  return path;
}
