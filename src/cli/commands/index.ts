import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { registerCalibrate } from "./calibrate.js";
import { registerConsume } from "./consume.js";
import { registerEdge } from "./edge.js";
import { registerGenerate } from "./generate.js";
import { registerInterview } from "./interview.js";
import { registerLlm } from "./llm.js";
import { registerMcp } from "./mcp.js";
import { registerPlan } from "./plan.js";
import { registerRules } from "./rules.js";
import { registerSchema } from "./schema.js";
import { registerScore } from "./score.js";
import { registerServe } from "./serve.js";
import { registerStart } from "./start.js";

/**
 * Every command registers its flags here (cheap) and imports its implementation lazily inside the
 * action, so `stackwright plan` never loads onnxruntime, ink, handlebars or an LLM SDK.
 */
export function registerCommands(program: Command, io: CliIo): void {
  registerPlan(program, io);
  registerGenerate(program, io);
  registerCalibrate(program, io);
  registerConsume(program, io);
  registerEdge(program, io);
  registerInterview(program, io);
  registerLlm(program, io);
  registerMcp(program, io);
  registerRules(program, io);
  registerSchema(program, io);
  registerScore(program, io);
  registerServe(program, io);
  registerStart(program, io);
}
