import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { registerSchema } from "./schema.js";

/**
 * Every command registers its flags here (cheap) and imports its implementation lazily inside the
 * action, so `stackwright plan` never loads onnxruntime, ink, handlebars or an LLM SDK.
 */
export function registerCommands(program: Command, io: CliIo): void {
  registerSchema(program, io);
}
