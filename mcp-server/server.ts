/**
 * The stackwright MCP server: the CLI's engine as tools, the rule files as resources, and a prompt
 * that walks an assistant through them. Tool order is fixed (clients show it as registered).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { packageVersion } from "../src/util/package.js";
import type { ToolContext } from "./context.js";
import { registerPrompts } from "./prompts.js";
import { registerResources } from "./resources.js";
import { registerDiffSpecs } from "./tools/diff-specs.js";
import { registerEstimateCost } from "./tools/estimate-cost.js";
import { registerExplainDecision } from "./tools/explain-decision.js";
import { registerGenerateFiles } from "./tools/generate-files.js";
import { registerListQuestions } from "./tools/list-questions.js";
import { registerRecommendArchitecture } from "./tools/recommend-architecture.js";
import { registerValidateSpec } from "./tools/validate-spec.js";

export const SERVER_NAME = "stackwright";
export const SERVER_VERSION = packageVersion();

export type ToolRegistrar = (server: McpServer, ctx: ToolContext) => void;

/** In the order clients list them. */
export const TOOLS: readonly ToolRegistrar[] = [
  registerValidateSpec,
  registerListQuestions,
  registerRecommendArchitecture,
  registerExplainDecision,
  registerDiffSpecs,
  registerEstimateCost,
  registerGenerateFiles,
];

export function createStackwrightServer(
  ctx: ToolContext = {},
  extraTools: readonly ToolRegistrar[] = [],
): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, title: "stackwright", version: SERVER_VERSION },
    {
      capabilities: { tools: {}, resources: {}, prompts: {}, logging: {} },
      instructions:
        "stackwright designs ML serving platforms from a requirements spec. The rules decide every capability; use validate_spec, list_questions and recommend_architecture, then explain_decision and diff_specs. Spec problems come back as tool results with isError and a path per problem.",
    },
  );
  for (const register of [...TOOLS, ...extraTools]) register(server, ctx);
  registerResources(server);
  registerPrompts(server);
  return server;
}
