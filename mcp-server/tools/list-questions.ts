import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { rawOf, specInput, type ToolContext, textResult } from "../context.js";
import { openQuestions } from "../questions.js";

export const questionSchema = z.object({
  id: z.string(),
  path: z.string(),
  prompt: z.string(),
  help: z.string(),
  kind: z.enum(["select", "multi", "number", "text", "yesno", "list", "fields"]),
  choices: z.array(z.string()).optional(),
  unit: z.string().optional(),
  required: z.boolean(),
});

export function registerListQuestions(server: McpServer, _ctx: ToolContext): void {
  server.registerTool(
    "list_questions",
    {
      title: "List interview questions",
      description:
        "The interview questions a partial spec still leaves unanswered (the ones a plan must not guess), each with the spec path it fills, help text and allowed choices.",
      inputSchema: { spec: specInput.optional() },
      outputSchema: { questions: z.array(questionSchema) },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ spec }) => {
      const raw = spec === undefined ? { ok: true as const, raw: {} } : rawOf(spec);
      if (!raw.ok) return raw.result;
      const open = openQuestions(raw.raw);
      if (!open.ok) return open.result;
      const { questions } = open;
      const text = questions.length
        ? questions
            .map((q) => `${q.path}: ${q.prompt}${q.choices ? ` (${q.choices.join(" | ")})` : ""}`)
            .join("\n")
        : "every key question is answered";
      return textResult(text, { questions });
    },
  );
}
