/**
 * ADR narrative: context and consequences in prose for each decision that had alternatives, given
 * only the decision's provenance and the spec values it read. The decision itself is never the
 * model's to change: the ADR generator prints the rule's choice and reason regardless.
 */
import { z } from "zod";
import type { Plan } from "../plan/index.js";
import type { LlmClient } from "./client.js";
import { dataBlock, SYSTEM } from "./prompts.js";

const narrativeSchema = z.object({
  context: z.string().min(1).max(1500),
  consequences: z.string().min(1).max(1500),
});
export type Narrative = z.infer<typeof narrativeSchema>;

export interface NarrativeResult {
  narratives: Map<string, Narrative>;
  dropped: string[];
}

export async function adrNarratives(plan: Plan, client: LlmClient): Promise<NarrativeResult> {
  const narratives = new Map<string, Narrative>();
  const dropped: string[] = [];
  const values = flatten(plan.requirements as unknown as Record<string, unknown>);
  for (const decision of plan.decisions.filter((d) => d.alternatives.length > 0)) {
    const inputs = Object.fromEntries(decision.inputs.filter((i) => i in values).map((i) => [i, values[i]]));
    const prompt = [
      `Write the Context and Consequences sections of an Architecture Decision Record for ${decision.capability} = ${decision.choice}.`,
      "Context: the forces at play, from the inputs below. Consequences: what gets easier and harder. Plain prose, two to four sentences each, no headings, no lists.",
      "Do not argue for a different choice: the decision is final.",
      "Decision provenance and inputs (data):",
      dataBlock({ decision: { ...decision, params: undefined }, inputs }),
    ].join("\n");
    const answer = await client.ask({
      purpose: `adr-narrative:${decision.capability}`,
      system: SYSTEM,
      prompt,
      schema: narrativeSchema,
    });
    if (answer.ok) narratives.set(decision.capability, answer.value);
    else if (answer.source !== "none") dropped.push(`${decision.capability}: ${answer.reason}`);
  }
  return { narratives, dropped };
}

function flatten(
  value: Record<string, unknown>,
  prefix = "",
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child && typeof child === "object" && !Array.isArray(child))
      flatten(child as Record<string, unknown>, path, out);
    else out[path] = child;
  }
  return out;
}
