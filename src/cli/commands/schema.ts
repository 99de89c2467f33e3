import type { Command } from "commander";
import type { CliIo } from "../io.js";

export function registerSchema(program: Command, io: CliIo): void {
  program
    .command("schema")
    .description("print the JSON Schema of stackwright.yaml (use with `# yaml-language-server: $schema=...`)")
    .addHelpText("after", "\nExample:\n  $ stackwright schema > stackwright.schema.json\n")
    .action(async () => {
      const { specJsonSchemaText } = await import("../../requirements/json-schema.js");
      io.out(specJsonSchemaText());
    });
}
