/**
 * Every resource and data block of the generated Terraform against its provider's schema at the
 * version versions.tf pins, offline: each argument and nested block name exists, each required
 * argument and required block is set (an expression counts), nested and `dynamic` blocks checked
 * recursively. The schemas are in provider-schemas/<provider>.json, extracted from the CDKTF provider
 * packages by scripts/provider-schemas.js for exactly the types the templates use; a type with no
 * schema there is a problem too, so a template cannot start using a type nobody checks.
 */
import type { ValidationProblem } from "./types.js";

export interface BlockSchema {
  arguments: Record<string, { required: boolean }>;
  /** nested null: CDKTF types the block `any` (nested too deep), so its contents are not checked */
  blocks: Record<string, { required: boolean; nested: BlockSchema | null }>;
}

export interface ProviderSchemaFile {
  provider: string;
  source: string;
  version: string;
  package: string;
  generated_by: string;
  resources: Record<string, BlockSchema>;
  data_sources: Record<string, BlockSchema>;
}

type Json = Record<string, unknown>;

// static specifiers, so that tsc copies the JSON next to the compiled module in dist/
const LOADERS: Record<string, () => Promise<{ default: unknown }>> = {
  aws: () => import("./provider-schemas/aws.json", { with: { type: "json" } }),
  azapi: () => import("./provider-schemas/azapi.json", { with: { type: "json" } }),
  azurerm: () => import("./provider-schemas/azurerm.json", { with: { type: "json" } }),
  google: () => import("./provider-schemas/google.json", { with: { type: "json" } }),
  helm: () => import("./provider-schemas/helm.json", { with: { type: "json" } }),
  random: () => import("./provider-schemas/random.json", { with: { type: "json" } }),
  tls: () => import("./provider-schemas/tls.json", { with: { type: "json" } }),
};

/**
 * Providers whose types are not checked, and why (SKIPPED_PROVIDERS in scripts/provider-schemas.js,
 * the same keys): everything else needs a schema file. None today.
 */
export const UNCHECKED_PROVIDERS: Readonly<Record<string, string>> = {};

const loaded = new Map<string, Promise<ProviderSchemaFile | null>>();

/** The committed schema of a provider (the type's prefix: aws, google, ...), or null when none is. */
export function providerSchema(provider: string): Promise<ProviderSchemaFile | null> {
  let schema = loaded.get(provider);
  if (!schema) {
    const load = Object.hasOwn(LOADERS, provider) ? LOADERS[provider] : undefined;
    schema = load ? load().then((m) => m.default as ProviderSchemaFile) : Promise.resolve(null);
    loaded.set(provider, schema);
  }
  return schema;
}

/** Meta-arguments every resource and data block may have, whatever its schema. */
const META = new Set(["count", "for_each", "depends_on", "provider", "lifecycle"]);
const RESOURCE_META = new Set([...META, "provisioner", "connection"]);
const LIFECYCLE = new Set([
  "create_before_destroy",
  "prevent_destroy",
  "ignore_changes",
  "replace_triggered_by",
  "precondition",
  "postcondition",
]);

/** `a, b, c` — or the first ones and how many more, for long lists. */
function listed(names: string[], max = 25): string {
  const sorted = [...names].sort();
  if (sorted.length === 0) return "(none)";
  if (sorted.length <= max) return sorted.join(", ");
  return `${sorted.slice(0, max).join(", ")}, … (${sorted.length - max} more)`;
}

/** The candidate nearest to a misspelt name (edit distance at most a third of its length), if any. */
function nearest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    let previous = Array.from({ length: candidate.length + 1 }, (_, j) => j);
    for (let i = 1; i <= name.length; i++) {
      const row = [i];
      for (let j = 1; j <= candidate.length; j++)
        row[j] = Math.min(
          previous[j] + 1,
          row[j - 1] + 1,
          previous[j - 1] + (name[i - 1] === candidate[j - 1] ? 0 : 1),
        );
      previous = row;
    }
    if (previous[candidate.length] < bestDistance) {
      best = candidate;
      bestDistance = previous[candidate.length];
    }
  }
  return best;
}

function objects(value: unknown): Json[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is Json => typeof v === "object" && v !== null && !Array.isArray(v));
}

/**
 * The problems of one block body (hcl2json's form: nested blocks are arrays of objects, `dynamic`
 * holds the dynamic blocks by name) against its schema; `where` names the path in messages.
 */
function blockProblems(
  body: Json,
  schema: BlockSchema,
  where: string,
  report: (message: string) => void,
  meta: Set<string> = new Set(),
): void {
  const names = [...Object.keys(schema.arguments), ...Object.keys(schema.blocks)];
  const unknown = (what: string, name: string, candidates: string[]) => {
    const near = nearest(name, candidates);
    return `${where}: unknown ${what}${near ? ` (did you mean ${near}?)` : ""}; the schema has: ${listed(candidates)}`;
  };
  const present = new Set<string>();
  for (const [key, value] of Object.entries(body)) {
    if (key === "dynamic") {
      for (const [name, dynamics] of Object.entries((value as Json) ?? {})) {
        const block = Object.hasOwn(schema.blocks, name) ? schema.blocks[name] : undefined;
        if (!block) {
          report(unknown(`block dynamic "${name}"`, name, Object.keys(schema.blocks)));
          continue;
        }
        present.add(name);
        if (!block.nested) continue;
        for (const dynamic of objects(dynamics))
          for (const content of objects(dynamic.content))
            blockProblems(content, block.nested, `${where}.dynamic.${name}.content`, report);
      }
      continue;
    }
    if (meta.has(key)) {
      if (key === "lifecycle")
        for (const lifecycle of objects(value))
          for (const name of Object.keys(lifecycle))
            if (!LIFECYCLE.has(name))
              report(
                `${where}: unknown lifecycle argument ${name}; lifecycle has: ${listed([...LIFECYCLE])}`,
              );
      continue;
    }
    if (Object.hasOwn(schema.arguments, key)) {
      present.add(key);
      continue;
    }
    const block = Object.hasOwn(schema.blocks, key) ? schema.blocks[key] : undefined;
    if (!block) {
      report(unknown(`argument or block ${key}`, key, names));
      continue;
    }
    present.add(key);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      report(
        `${where}: ${key} is a nested block in the schema, not an argument: write ${key} { ... } (or a list of objects where the provider takes one)`,
      );
      continue;
    }
    if (!block.nested) continue;
    objects(value).forEach((nested, i, all) => {
      blockProblems(nested, block.nested!, `${where}.${key}${all.length > 1 ? `[${i}]` : ""}`, report);
    });
  }
  for (const [name, argument] of Object.entries(schema.arguments))
    if (argument.required && !present.has(name)) report(`${where}: missing required argument ${name}`);
  for (const [name, block] of Object.entries(schema.blocks))
    if (block.required && !present.has(name)) report(`${where}: missing required block ${name}`);
}

/** The problems of one parsed .tf file's resource and data blocks. */
export async function providerSchemaProblems(path: string, json: Json): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (const kind of ["resource", "data"] as const) {
    for (const [type, named] of Object.entries((json[kind] as Record<string, Json>) ?? {})) {
      const provider = type.split("_")[0];
      if (Object.hasOwn(UNCHECKED_PROVIDERS, provider)) continue;
      const file = await providerSchema(provider);
      const types = file?.[kind === "resource" ? "resources" : "data_sources"];
      const schema = types && Object.hasOwn(types, type) ? types[type] : undefined;
      for (const [name, bodies] of Object.entries(named)) {
        const address = `${kind === "data" ? "data." : ""}${type}.${name}`;
        const report = (message: string) =>
          problems.push({ file: path, message, validator: "terraform-schema" });
        if (!schema) {
          report(
            `${address}: no schema for ${kind === "data" ? "data source" : "resource"} ${type}${file ? ` in ${file.source} ${file.version}` : ""}; run scripts/provider-schemas.js`,
          );
          continue;
        }
        for (const body of objects(bodies))
          blockProblems(body, schema, address, report, kind === "resource" ? RESOURCE_META : META);
      }
    }
  }
  return problems;
}
