import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { CAPABILITIES, loadDefaultRuleSet, planWithTrace } from "../../src/plan/index.js";
import { loadSpecInput, specInput, type ToolContext, textResult } from "../context.js";

export function registerExplainDecision(server: McpServer, _ctx: ToolContext): void {
  server.registerTool(
    "explain_decision",
    {
      title: "Explain one decision",
      description:
        "One capability's decision in full: the rule, the inputs it read and their values, alternatives and why they lost, rules that also matched.",
      inputSchema: { spec: specInput, capability: z.enum(CAPABILITIES).describe("e.g. serving.hardware") },
      outputSchema: {
        capability: z.string(),
        choice: z.string(),
        rule: z.object({
          id: z.string(),
          file: z.string(),
          priority: z.number(),
          when: z.string().nullable(),
        }),
        because: z.string(),
        inputs: z.record(z.string(), z.unknown()),
        alternatives: z.array(z.object({ choice: z.string(), rejectedBecause: z.string() })),
        alsoMatched: z.array(z.string()),
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ spec, capability }) => {
      const loaded = loadSpecInput(spec);
      if (!loaded.ok) return loaded.result;
      const ruleSet = loadDefaultRuleSet();
      const { plan, traces, inputValue } = planWithTrace(loaded.spec, { ruleSet });
      const decision = plan.decisions.find((d) => d.capability === capability)!;
      const rule = (ruleSet.rules.get(capability) ?? []).find((r) => r.id === decision.rule)!;
      const inputs = Object.fromEntries(decision.inputs.map((p) => [p, inputValue(p) ?? null]));
      const alsoMatched = traces.get(capability)!.matched.filter((id) => id !== rule.id);
      const text = [
        `${capability} = ${decision.choice} because ${decision.because}`,
        `rule ${rule.id} (rules/${rule.file}, priority ${rule.priority}${rule.when ? `, when ${rule.when}` : ", default"})`,
        ...Object.entries(inputs).map(([k, v]) => `  ${k} = ${JSON.stringify(v)}`),
        ...decision.alternatives.map((a) => `rejected ${a.choice}: ${a.rejectedBecause}`),
      ].join("\n");
      return textResult(text, {
        capability,
        choice: decision.choice,
        rule: { id: rule.id, file: rule.file, priority: rule.priority, when: rule.when ?? null },
        because: decision.because,
        inputs,
        alternatives: decision.alternatives,
        alsoMatched,
      });
    },
  );
}
