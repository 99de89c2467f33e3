import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { budgetBar } from "../../src/plan/format.js";
import { costSchema, createPlan, warningSchema } from "../../src/plan/index.js";
import { loadSpecInput, specInput, type ToolContext, textResult } from "../context.js";

export function registerEstimateCost(server: McpServer, _ctx: ToolContext): void {
  server.registerTool(
    "estimate_cost",
    {
      title: "Estimate monthly cost",
      description:
        "Monthly USD of the planned platform from dated price tables (every item with its quantity, unit price and source), against the budget, with the cheapest change that fits when over.",
      inputSchema: { spec: specInput },
      outputSchema: { cost: costSchema, budgetWarnings: z.array(warningSchema) },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ spec }) => {
      const loaded = loadSpecInput(spec);
      if (!loaded.ok) return loaded.result;
      const plan = createPlan(loaded.spec);
      const budgetWarnings = plan.warnings.filter(
        (w) => w.code === "OVER_BUDGET" || w.code === "BUDGET_INFEASIBLE",
      );
      const text = [
        budgetBar(plan.cost.monthlyUsd, plan.cost.budgetUsd),
        ...plan.cost.items.map((i) => `  ${i.name}: $${i.monthlyUsd.toFixed(2)} (${i.detail})`),
        ...budgetWarnings.map((w) => `${w.code}: ${w.message}${w.suggestion ? `; ${w.suggestion}` : ""}`),
        `prices as of ${plan.cost.pricesAsOf}`,
      ].join("\n");
      return textResult(text, { cost: plan.cost, budgetWarnings });
    },
  );
}
