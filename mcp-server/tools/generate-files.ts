import { join, resolve, sep } from "node:path";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { generateAll } from "../../src/generate/index.js";
import { createPlan, planErrors } from "../../src/plan/index.js";
import { formatValidationProblem, validateFileSet } from "../../src/validate/index.js";
import { UnsafePathError, writeFileSet } from "../../src/write/index.js";
import { loadSpecInput, specInput, type ToolContext, textResult } from "../context.js";

export function registerGenerateFiles(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    "generate_files",
    {
      title: "Generate the platform's files",
      description:
        "Terraform, Helm chart, GitHub Actions and ADRs for a spec, validated with real parsers. Returns every file with its content; with `out` (a directory under the workspace root the server was started with) it also writes them there, never outside it.",
      inputSchema: {
        spec: specInput,
        out: z
          .string()
          .optional()
          .describe("directory relative to the server's workspace root; omit to only return the files"),
        force: z.boolean().optional().describe("overwrite files changed by hand since the last generate"),
      },
      outputSchema: {
        files: z.array(
          z.object({ path: z.string(), content: z.string(), encoding: z.enum(["utf8", "base64"]) }),
        ),
        written: z.array(z.string()),
        out: z.string().nullable(),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async ({ spec, out, force }, extra) => {
      const progressToken = extra._meta?.progressToken;
      const progress = async (step: number, message: string) => {
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress: step, total: 4, message },
          });
        }
      };
      const loaded = loadSpecInput(spec);
      if (!loaded.ok) return loaded.result;
      await progress(1, "planning");
      const plan = createPlan(loaded.spec);
      const errors = planErrors(plan);
      if (errors.length) {
        return {
          isError: true,
          content: [
            {
              type: "text",
              text: `the plan has contradictions; nothing generated\n${errors.map((e) => `${e.code}: ${e.message}`).join("\n")}`,
            },
          ],
        };
      }
      await progress(2, "generating");
      const files = generateAll(plan);
      await progress(3, "validating");
      const problems = await validateFileSet(files);
      if (problems.length)
        return {
          isError: true,
          content: [
            {
              type: "text",
              text: `generated files failed validation:\n${problems.map(formatValidationProblem).join("\n")}`,
            },
          ],
        };
      let written: string[] = [];
      let target: string | null = null;
      if (out !== undefined) {
        if (!ctx.workspaceRoot)
          return {
            isError: true,
            content: [
              {
                type: "text",
                text: "this server has no workspace root (start it with --workspace DIR); omit `out` to receive the files instead",
              },
            ],
          };
        const root = resolve(ctx.workspaceRoot);
        target = resolve(root, out);
        if (target !== root && !target.startsWith(root + sep)) {
          return {
            isError: true,
            content: [{ type: "text", text: `refusing to write outside the workspace root ${root}: ${out}` }],
          };
        }
        try {
          const result = writeFileSet(target, files, {
            specHash: plan.spec.hash,
            ruleSetHash: plan.ruleSet.hash,
            force,
          });
          if (result.handEdited.length) {
            return {
              isError: true,
              content: [
                {
                  type: "text",
                  text: `files changed by hand since the last generate (pass force: true to overwrite):\n${result.handEdited.join("\n")}`,
                },
              ],
            };
          }
          written = result.written.map((p) => join(out, p));
        } catch (error) {
          if (error instanceof UnsafePathError)
            return { isError: true, content: [{ type: "text", text: error.message }] };
          throw error;
        }
      }
      await progress(4, "done");
      const list = Object.keys(files);
      return textResult(
        `${list.length} files${target ? `, ${written.length} written under ${out}` : ""}:\n${list.join("\n")}`,
        {
          files: list.map((path) => {
            const content = files[path];
            return typeof content === "string"
              ? { path, content, encoding: "utf8" as const }
              : { path, content: Buffer.from(content).toString("base64"), encoding: "base64" as const };
          }),
          written,
          out: target,
        },
      );
    },
  );
}
