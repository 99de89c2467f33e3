/**
 * Read-only resources: the spec's JSON Schema, the pattern catalog and every rule file (decision
 * rules, compliance control catalogs, price tables, regions). Served through the protocol's own
 * resources/list, resources/templates/list and resources/read handlers, so a URI that names no
 * resource gets the error the specification gives for it: -32002 (resource not found) with the URI.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { loadDefaultRuleSet } from "../src/plan/index.js";
import { specJsonSchemaText } from "../src/requirements/json-schema.js";

/** JSON-RPC error code for an unknown resource (MCP specification, server/resources, "Error Handling"). */
export const RESOURCE_NOT_FOUND = -32002;

interface Resource {
  uri: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
  read(): string;
}

function catalog(): Resource[] {
  const ruleSet = loadDefaultRuleSet();
  const ruleFile = (file: string): Resource => ({
    uri: `stackwright://rules/${file}`,
    name: file,
    title:
      file === "patterns.yaml"
        ? "Pattern catalog"
        : file.startsWith("controls/")
          ? `Compliance controls: ${file.slice("controls/".length, -".yaml".length)}`
          : `Rule file ${file}`,
    description:
      file === "patterns.yaml"
        ? "Every capability a plan decides and the patterns it may choose."
        : "Decision rules, compliance control catalogs, price tables and regions.",
    mimeType: "application/yaml",
    read: () => readFileSync(join(ruleSet.dir, file), "utf8"),
  });
  return [
    {
      uri: "stackwright://schema/spec.json",
      name: "spec-schema",
      title: "JSON Schema of stackwright.yaml",
      description: "Every spec field with its type, default and description.",
      mimeType: "application/schema+json",
      read: specJsonSchemaText,
    },
    ...[...ruleSet.files].sort().map(ruleFile),
  ];
}

export function registerResources(server: McpServer): void {
  const resources = catalog();
  const byUri = new Map(resources.map((r) => [r.uri, r]));
  const low = server.server;
  low.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: resources.map(({ uri, name, title, description, mimeType }) => ({
      uri,
      name,
      title,
      description,
      mimeType,
    })),
  }));
  low.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: "stackwright://rules/{+file}",
        name: "rule-file",
        title: "Rule files",
        description:
          "Decision rules, compliance control catalogs, price tables and regions (see resources/list).",
        mimeType: "application/yaml",
      },
    ],
  }));
  low.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const resource = byUri.get(request.params.uri);
    if (!resource) {
      throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${request.params.uri}`, {
        uri: request.params.uri,
      });
    }
    return { contents: [{ uri: resource.uri, mimeType: resource.mimeType, text: resource.read() }] };
  });
}
