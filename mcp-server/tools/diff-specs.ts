import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { diffPlans, formatDiff } from "../../src/plan/diff.js";
import { createPlan } from "../../src/plan/index.js";
import { parseSpecValue, type Spec } from "../../src/requirements/index.js";
import { PathError, setPath } from "../../src/util/paths.js";
import { loadSpecInput, problemResult, rawOf, specInput, type ToolContext, textResult } from "../context.js";

export function registerDiffSpecs(server: McpServer, _ctx: ToolContext): void {
  server.registerTool(
    "diff_specs",
    {
      title: "Diff two specs",
      description:
        "What changes between a spec and either another spec (`against`) or `set` overrides (path -> value): decisions that flip, parameters, capacity, controls and the monthly cost delta.",
      inputSchema: {
        spec: specInput,
        against: specInput.optional(),
        set: z
          .record(z.string(), z.unknown())
          .optional()
          .describe('overrides such as {"inference.latencyP99Ms": 10}'),
      },
      outputSchema: {
        decisions: z.array(
          z.object({
            capability: z.string(),
            from: z.string(),
            to: z.string(),
            rule: z.string(),
            because: z.string(),
          }),
        ),
        costDeltaUsd: z.number(),
        diff: z
          .record(z.string(), z.unknown())
          .describe("the full diff: params, capacity, controls, cost items, warnings"),
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ spec, against, set }) => {
      if (!against && !set)
        return {
          isError: true,
          content: [{ type: "text", text: "give `against` (another spec) or `set` (overrides)" }],
        };
      const before = loadSpecInput(spec);
      if (!before.ok) return before.result;
      let afterSpec: Spec;
      if (against) {
        const after = loadSpecInput(against);
        if (!after.ok) return after.result;
        afterSpec = after.spec;
      } else {
        const raw = rawOf(spec);
        if (!raw.ok) return raw.result;
        const document = structuredClone(raw.raw);
        for (const [path, value] of Object.entries(set ?? {})) {
          try {
            setPath(document, path, value);
          } catch (error) {
            if (!(error instanceof PathError)) throw error;
            return { isError: true, content: [{ type: "text", text: `set ${path}: ${error.message}` }] };
          }
        }
        const parsed = parseSpecValue(document);
        if (!parsed.ok) return problemResult(parsed.problems);
        afterSpec = parsed.spec;
      }
      const diff = diffPlans(createPlan(before.spec), createPlan(afterSpec));
      return textResult(formatDiff(diff), {
        decisions: diff.decisions,
        costDeltaUsd: diff.cost.deltaUsd,
        diff: JSON.parse(JSON.stringify(diff)),
      });
    },
  );
}
