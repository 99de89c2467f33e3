import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

export function registerPrompts(server: McpServer): void {
  server.registerPrompt(
    "design_ml_platform",
    {
      title: "Design an ML platform",
      description:
        "Walks an assistant through stackwright's tools to design, check and generate a platform for a workload.",
      argsSchema: {
        workload: z
          .string()
          .describe("the workload, e.g. 'fraud scoring for card payments, 3k rps, PCI, AWS'"),
      },
    },
    ({ workload }) => ({
      messages: [
        {
          role: "user",
          content: {
            type: "text",
            text: [
              `Design an ML platform for: ${workload}`,
              "",
              "Use the stackwright tools in this order:",
              "1. Write a draft spec (YAML) from the description; read the resource stackwright://schema/spec.json for the fields.",
              "2. Call list_questions with it and ask me every unanswered question instead of guessing.",
              "3. Call validate_spec; fix every problem it reports (each names its path and what is allowed).",
              "4. Call recommend_architecture and show me the decisions table, the cost against the budget and any warnings.",
              "5. For decisions I question, call explain_decision; for what-ifs, call diff_specs with `set` overrides.",
              "6. When I agree, call generate_files to produce Terraform, the Helm chart, CI workflows and ADRs.",
              "Never change a decision yourself: the rules decide; you explain and ask.",
            ].join("\n"),
          },
        },
      ],
    }),
  );
}
