import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { explainDecision, explanationSchema, formatExplanation } from "../../src/plan/explain.js";
import { CAPABILITIES } from "../../src/plan/index.js";
import { loadSpecInput, specInput, type ToolContext, textResult } from "../context.js";

export function registerExplainDecision(server: McpServer, _ctx: ToolContext): void {
  server.registerTool(
    "explain_decision",
    {
      title: "Explain one decision",
      description:
        "One capability's decision in full: the rule, the inputs it read and their values (and which were defaults), parameters, alternatives and why they lost, rules that also matched or were set aside.",
      inputSchema: { spec: specInput, capability: z.enum(CAPABILITIES).describe("e.g. serving.hardware") },
      outputSchema: explanationSchema.shape,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ spec, capability }) => {
      const loaded = loadSpecInput(spec);
      if (!loaded.ok) return loaded.result;
      const explanation = explainDecision(loaded.spec, capability);
      return textResult(formatExplanation(explanation), explanation);
    },
  );
}
