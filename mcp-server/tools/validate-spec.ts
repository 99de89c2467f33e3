import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { createPlan, planErrors } from "../../src/plan/index.js";
import { loadSpecInput, specInput, type ToolContext, textResult } from "../context.js";

export function registerValidateSpec(server: McpServer, _ctx: ToolContext): void {
  server.registerTool(
    "validate_spec",
    {
      title: "Validate a spec",
      description:
        "Check a stackwright requirements spec: every schema problem with its path, what was found and what is allowed, and contradictions between fields (as coded warnings/errors).",
      inputSchema: { spec: specInput },
      outputSchema: {
        valid: z.boolean(),
        warnings: z.array(
          z.object({
            code: z.string(),
            severity: z.string(),
            message: z.string(),
            path: z.string().optional(),
          }),
        ),
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ spec }) => {
      const loaded = loadSpecInput(spec);
      if (!loaded.ok) return loaded.result;
      const plan = createPlan(loaded.spec);
      const errors = planErrors(plan);
      const warnings = plan.warnings.map(({ code, severity, message, path }) => ({
        code,
        severity,
        message,
        path,
      }));
      const lines = plan.warnings.map(
        (w) => `${w.severity} ${w.code}${w.path ? ` at ${w.path}` : ""}: ${w.message}`,
      );
      return {
        ...textResult(
          errors.length === 0
            ? `valid (${plan.warnings.length} warning(s))${lines.length ? `\n${lines.join("\n")}` : ""}`
            : `${errors.length} contradiction(s)\n${lines.join("\n")}`,
          { valid: errors.length === 0, warnings },
        ),
        isError: errors.length > 0,
      };
    },
  );
}
