/** `review`: a model's critique of a plan against its spec. Advice only: it changes no decision. */
import { z } from "zod";
import type { Plan } from "../plan/index.js";
import type { LlmClient } from "./client.js";
import { dataBlock, SYSTEM } from "./prompts.js";

export const reviewSchema = z.object({
  summary: z.string().min(1).max(1200),
  risks: z
    .array(
      z.object({
        title: z.string().min(1).max(200),
        severity: z.enum(["high", "medium", "low"]),
        detail: z.string().min(1).max(1200),
        capability: z.string().optional(),
      }),
    )
    .max(20),
  questions: z.array(z.string().min(1).max(400)).max(20),
});
export type Review = z.infer<typeof reviewSchema>;

export async function reviewPlan(plan: Plan, client: LlmClient) {
  const { requirements, ...rest } = plan;
  const prompt = [
    "Review this ML platform plan against its requirements as a senior platform architect would.",
    "List concrete risks (what could go wrong in production, with the decision it concerns) and the questions you would ask the team before building it.",
    "Requirements (data):",
    dataBlock(requirements),
    "Plan (data):",
    dataBlock(rest),
  ].join("\n");
  return client.ask({ purpose: "review-plan", system: SYSTEM, prompt, schema: reviewSchema });
}

export function formatReview(review: Review): string {
  const out = [
    "MODEL OUTPUT — advice from the LLM advisor, not a decision of the rules",
    "",
    review.summary,
    "",
  ];
  if (review.risks.length) {
    out.push("Risks");
    for (const r of review.risks)
      out.push(`  [${r.severity}] ${r.title}${r.capability ? ` (${r.capability})` : ""}: ${r.detail}`);
    out.push("");
  }
  if (review.questions.length) {
    out.push("Questions to ask");
    for (const q of review.questions) out.push(`  - ${q}`);
  }
  return `${out.join("\n").trimEnd()}\n`;
}
