/** Read-only resources: the pattern catalog, each rule file, the control catalogs, the spec's JSON Schema. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { loadDefaultRuleSet } from "../src/plan/index.js";
import { specJsonSchema } from "../src/requirements/json-schema.js";

export function registerResources(server: McpServer): void {
  const ruleSet = loadDefaultRuleSet();
  server.registerResource(
    "spec-schema",
    "stackwright://schema/spec.json",
    {
      title: "JSON Schema of stackwright.yaml",
      description: "Every spec field with its type, default and description.",
      mimeType: "application/schema+json",
    },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: "application/schema+json",
          text: JSON.stringify(specJsonSchema(), null, 2),
        },
      ],
    }),
  );
  server.registerResource(
    "patterns",
    "stackwright://rules/patterns.yaml",
    {
      title: "Pattern catalog",
      description: "Every capability a plan decides and the patterns it may choose.",
      mimeType: "application/yaml",
    },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: "application/yaml",
          text: readFileSync(join(ruleSet.dir, "patterns.yaml"), "utf8"),
        },
      ],
    }),
  );
  const ruleFiles = ruleSet.files.filter((f) => f !== "patterns.yaml").sort();
  server.registerResource(
    "rule-file",
    new ResourceTemplate("stackwright://rules/{+file}", {
      list: async () => ({
        resources: ruleFiles.map((file) => ({
          uri: `stackwright://rules/${file}`,
          name: file,
          title: file.startsWith("controls/")
            ? `Compliance controls: ${file.slice(9, -5)}`
            : `Rule file ${file}`,
          mimeType: "application/yaml",
        })),
      }),
    }),
    {
      title: "Rule files",
      description: "Decision rules, compliance control catalogs, price tables and regions.",
      mimeType: "application/yaml",
    },
    async (uri, variables) => {
      const file = String(variables.file);
      if (!ruleFiles.includes(file))
        throw new Error(`no rule file ${file}; available: ${ruleFiles.join(", ")}`);
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: "application/yaml",
            text: readFileSync(join(ruleSet.dir, file), "utf8"),
          },
        ],
      };
    },
  );
}
