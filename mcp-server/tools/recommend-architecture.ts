import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { formatTable } from "../../src/plan/format.js";
import { createPlan, planSchema } from "../../src/plan/index.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { PathError, setPath } from "../../src/util/paths.js";
import { problemResult, rawOf, specInput, type ToolContext, textResult } from "../context.js";
import { openQuestions, type Question } from "../questions.js";
import { questionSchema } from "./list-questions.js";

/** The elicitation form for the missing key questions, in the interview's words. */
function elicitationSchema(questions: Question[]) {
  const properties: Record<string, Record<string, unknown>> = {};
  for (const q of questions) {
    const base = { title: q.prompt, description: q.help };
    if (q.kind === "select") properties[q.id] = { type: "string", ...base, enum: [...(q.choices ?? [])] };
    else if (q.kind === "multi")
      properties[q.id] = {
        type: "string",
        ...base,
        description: `${q.help} Comma-separated: ${(q.choices ?? []).join(", ")}; empty for none.`,
      };
    // numbers go as text so units read as in the interview ("50ms", "3k"); the spec schema parses them
    else if (q.kind === "number")
      properties[q.id] = {
        type: "string",
        ...base,
        description: `${q.help}${q.unit ? ` Without a unit: ${q.unit}.` : ""}`,
      };
    else properties[q.id] = { type: "string", ...base };
  }
  return {
    type: "object" as const,
    properties,
    required: questions.filter((q) => q.required).map((q) => q.id),
  };
}

export function registerRecommendArchitecture(server: McpServer, _ctx: ToolContext): void {
  server.registerTool(
    "recommend_architecture",
    {
      title: "Recommend an architecture",
      description:
        "Plan an ML platform for a spec: every capability decided by the rules with its reason, capacity, monthly cost against the budget, compliance controls and warnings. A partial spec gets its missing answers asked through elicitation when the client supports it; otherwise the questions come back instead of guesses.",
      inputSchema: { spec: specInput },
      outputSchema: { plan: planSchema.optional(), questions: z.array(questionSchema).optional() },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ spec }) => {
      const raw = rawOf(spec);
      if (!raw.ok) return raw.result;
      const document = structuredClone(raw.raw);
      const open = openQuestions(document);
      if (!open.ok) return open.result;
      const missing = open.questions;
      if (missing.length > 0) {
        const canElicit = Boolean(server.server.getClientCapabilities()?.elicitation);
        if (!canElicit) {
          const questions = missing;
          return textResult(
            `answers needed before planning (nothing was guessed):\n${missing.map((q) => `- ${q.path}: ${q.prompt}`).join("\n")}`,
            { questions },
          );
        }
        const answer = await server.server.elicitInput({
          message: `stackwright needs ${missing.length} answer(s) to plan ${String((document.metadata as { name?: string } | undefined)?.name ?? "this workload")}`,
          requestedSchema: elicitationSchema(missing) as never,
        });
        if (answer.action !== "accept" || !answer.content) {
          return {
            isError: true,
            content: [
              {
                type: "text",
                text: `the user ${answer.action === "decline" ? "declined" : "cancelled"}; no plan without the answers`,
              },
            ],
          };
        }
        for (const q of missing) {
          const value = answer.content[q.id];
          if (value === undefined || value === "") continue;
          const text = String(value).trim();
          const typed =
            q.kind === "multi"
              ? text
                  .split(",")
                  .map((s) => s.trim())
                  .filter(Boolean)
              : q.kind === "number" && /^-?\d+(\.\d+)?$/.test(text)
                ? Number(text)
                : value;
          try {
            setPath(document, q.path, typed);
          } catch (error) {
            if (!(error instanceof PathError)) throw error;
            return { isError: true, content: [{ type: "text", text: `spec ${q.path}: ${error.message}` }] };
          }
        }
      }
      const parsed = parseSpecValue(document);
      if (!parsed.ok) return problemResult(parsed.problems);
      const plan = createPlan(parsed.spec);
      return textResult(formatTable(plan), { plan: JSON.parse(JSON.stringify(plan)) });
    },
  );
}
