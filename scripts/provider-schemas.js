#!/usr/bin/env node
// Extracts the schema (argument names, which are required, nested blocks) of every resource and data
// source type the Terraform templates use, from the prebuilt CDKTF provider packages pinned in
// devDependencies (each built from one exact provider version), into
// src/validate/provider-schemas/<provider>.json, which the "terraform-schema" validator
// (src/validate/provider-schema.ts) checks the generated Terraform against, offline.
//
// Run it after changing a provider pin (templates/terraform/*/versions.tf.hbs and the matching
// @cdktf/provider-* devDependency) or after a template starts using a new resource or data type:
//   node scripts/provider-schemas.js
// test/validate/provider-schemas.test.ts fails while the committed files differ from its output.
//
// How a type is read: lib/<kebab-name>/index.d.ts (and index-structs/*.d.ts for large types) declares
// `<Class>Config` and one interface per nested block; each member's JSDoc links the registry docs with
// the Terraform name as the anchor (`...#snake_name Class#snake_name`), an optional member ends in `?`,
// and a nested block's JSDoc starts with "<name> block". The names are cross-checked against the keys
// the package's index.js synthesizes (`*ToHclTerraform`, `synthesizeHclAttributes`), which are the
// names CDKTF itself writes into Terraform; a mismatch stops the extraction instead of guessing.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Terraform provider (the type's prefix) -> the CDKTF package its schema is read from. */
export const PROVIDERS = {
  aws: { source: "hashicorp/aws", package: "@cdktf/provider-aws" },
  azurerm: { source: "hashicorp/azurerm", package: "@cdktf/provider-azurerm" },
  google: { source: "hashicorp/google", package: "@cdktf/provider-google" },
  helm: { source: "hashicorp/helm", package: "@cdktf/provider-helm" },
  random: { source: "hashicorp/random", package: "@cdktf/provider-random" },
  tls: { source: "hashicorp/tls", package: "@cdktf/provider-tls" },
};

/**
 * Providers the templates may use whose schema is not extracted, with the reason; the validator leaves
 * their types unchecked (UNCHECKED_PROVIDERS in src/validate/provider-schema.ts, the same keys). Empty:
 * every provider the templates use has a CDKTF package built from a version its pin admits.
 */
export const SKIPPED_PROVIDERS = {};

const arg = (required = false) => ({ required });
const timeouts = {
  required: false,
  nested: { arguments: { create: arg(), delete: arg(), read: arg(), update: arg() }, blocks: {} },
};

/**
 * Providers with no CDKTF package, whose schema is vendored here verbatim from the provider's own
 * documentation of the types the templates use (the argument list is an interface definition): the
 * source file and commit are in `from`, the major version it documents in `version`.
 */
export const VENDORED_PROVIDERS = {
  azapi: {
    source: "Azure/azapi",
    version: "2",
    from: "https://github.com/Azure/terraform-provider-azapi/blob/0032257d144793c105afa33967c258a4119d33f5/docs/resources/resource.md",
    resources: {
      azapi_resource: {
        arguments: {
          body: arg(),
          create_headers: arg(),
          create_query_parameters: arg(),
          delete_headers: arg(),
          delete_query_parameters: arg(),
          ignore_casing: arg(),
          ignore_missing_property: arg(),
          ignore_null_property: arg(),
          ignore_other_items_in_list: arg(),
          list_unique_id_property: arg(),
          location: arg(),
          locks: arg(),
          name: arg(),
          parent_id: arg(),
          read_headers: arg(),
          read_query_parameters: arg(),
          replace_triggers_external_values: arg(),
          replace_triggers_refs: arg(),
          response_export_values: arg(),
          retry: arg(),
          schema_validation_enabled: arg(),
          sensitive_body: arg(),
          sensitive_body_version: arg(),
          tags: arg(),
          type: arg(true),
          update_headers: arg(),
          update_query_parameters: arg(),
        },
        blocks: {
          identity: {
            required: false,
            nested: { arguments: { identity_ids: arg(), type: arg(true) }, blocks: {} },
          },
          timeouts,
        },
      },
    },
    data_sources: {},
  },
};

export const SCHEMA_DIR = join(ROOT, "src", "validate", "provider-schemas");

/** Every `resource "TYPE"` and `data "TYPE"` in templates/terraform/**, conditional or not. */
export function templateTypes(root = ROOT) {
  const found = { resource: new Set(), data: new Set() };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".hbs"))
        for (const m of readFileSync(path, "utf8").matchAll(/^\s*(resource|data)\s+"([a-z0-9_]+)"\s+"/gm))
          found[m[1]].add(m[2]);
    }
  };
  walk(join(root, "templates", "terraform"));
  return { resource: [...found.resource].sort(), data: [...found.data].sort() };
}

function readTree(dir, ext) {
  let text = "";
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) text += readTree(path, ext);
    else if (entry.name.endsWith(ext)) text += `\n${readFileSync(path, "utf8")}`;
  }
  return text;
}

/** interface name -> members {name, optional, block, type} of every interface in the .d.ts text. */
function interfaces(dts) {
  const out = new Map();
  for (const m of dts.matchAll(/^export interface (\w+)(?: extends [\w.]+)? \{\n([\s\S]*?)^\}$/gm)) {
    const members = [];
    for (const chunk of m[2].split(/^ {4}\/\*\*$/m).slice(1)) {
      const end = chunk.indexOf("*/");
      const doc = chunk.slice(0, end);
      const decl = /^\s*readonly (\w+)(\?)?: ([\s\S]*);\s*$/.exec(chunk.slice(end + 2));
      const anchor = /Docs at Terraform Registry: \{@link \S+#(\w+) \w+#(\w+)\}/.exec(doc);
      if (!decl || !anchor)
        throw new Error(`cannot read a member of interface ${m[1]}: ${chunk.slice(0, 300)}`);
      members.push({
        name: anchor[1],
        optional: decl[2] === "?",
        block: new RegExp(`^\\s*\\* ${anchor[1]} block\\s*$`, "m").test(doc),
        type: decl[3].trim(),
      });
    }
    out.set(m[1], members);
  }
  return out;
}

/**
 * name -> isBlock of what a `*ToHclTerraform` function or `synthesizeHclAttributes` writes (the names
 * CDKTF synthesizes into Terraform), or null when the package has no such function.
 */
function hclAttributes(js, start) {
  const at = js.indexOf(start);
  if (at < 0) return null;
  const method = !start.startsWith("function");
  const open = js.indexOf("const attrs = {", at);
  const empty = js.startsWith("const attrs = {};", open);
  const close = empty ? open : js.indexOf(method ? "\n        };" : "\n    };", open);
  if (open < 0 || close < 0 || /\n(function|class) /.test(js.slice(at + 1, open)))
    throw new Error(`cannot read the attributes after ${start}`);
  const body = js.slice(open, close);
  const indent = method ? 12 : 8;
  const out = {};
  for (const m of body.matchAll(new RegExp(`^ {${indent}}(\\w+): \\{\\n[^}]*?isBlock: (true|false),`, "gm")))
    out[m[1]] = m[2] === "true";
  return out;
}

function sorted(object) {
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map((k) => [k, object[k]]),
  );
}

function structSchema(name, members, types, js, seen) {
  const written = hclAttributes(
    js,
    `function ${name[0].toLowerCase()}${name.slice(1)}ToHclTerraform(struct) {`,
  );
  return shape(name, members, types, js, written, seen);
}

function shape(name, members, types, js, written, seen) {
  const names = members.map((m) => m.name).sort();
  if (!written) throw new Error(`${name}: index.js does not synthesize it`);
  const keys = Object.keys(written).sort();
  if (JSON.stringify(keys) !== JSON.stringify(names))
    throw new Error(`${name}: the JSDoc anchors (${names}) differ from index.js's keys (${keys})`);
  for (const member of members) {
    // index.js also marks as blocks the list-of-object attributes Terraform accepts in block syntax
    // (aws_security_group's ingress); a block typed `any` (too deep for CDKTF) only its JSDoc calls one
    if (member.block && member.type !== "any" && !written[member.name])
      throw new Error(`${name}.${member.name}: a block by its JSDoc, an attribute by index.js`);
    member.block ||= written[member.name];
  }
  const args = {};
  const blocks = {};
  for (const member of members) {
    if (!member.block) {
      args[member.name] = { required: !member.optional };
      continue;
    }
    const nestedType = /^([A-Z]\w*)(\[\])?(?: \| cdktf\.IResolvable)?$/.exec(member.type)?.[1];
    let nested = null; // typed `any` by CDKTF (too deep): its contents cannot be checked
    if (nestedType) {
      if (!types.has(nestedType)) throw new Error(`${name}.${member.name}: no interface ${nestedType}`);
      if (seen.has(nestedType)) throw new Error(`${name}.${member.name}: recursive ${nestedType}`);
      nested = structSchema(nestedType, types.get(nestedType), types, js, new Set([...seen, nestedType]));
    } else if (member.type !== "any")
      throw new Error(`${name}.${member.name}: unexpected block type ${member.type}`);
    blocks[member.name] = { required: !member.optional, nested };
  }
  return { arguments: sorted(args), blocks: sorted(blocks) };
}

function kebab(type) {
  return type.replace(/_/g, "-");
}

/** The schema of one resource or data type from its CDKTF package directory. */
export function typeSchema(packageDir, kind, type) {
  const [prefix, ...rest] = type.split("_");
  const dirName = kind === "data" ? `data-${prefix}-${kebab(rest.join("_"))}` : kebab(rest.join("_"));
  const dir = join(packageDir, "lib", dirName);
  let dts;
  let js;
  try {
    dts = readTree(dir, ".d.ts");
    js = readTree(dir, ".js");
  } catch {
    return null;
  }
  const cls = new RegExp(
    `^export declare class (\\w+) extends cdktf\\.Terraform${kind === "data" ? "DataSource" : "Resource"} \\{\\n {4}static readonly tfResourceType = "${type}";`,
    "m",
  ).exec(dts)?.[1];
  if (!cls) return null;
  const types = interfaces(dts);
  // `<Class>Config`, or with a suffix where that name is taken (Wafv2WebAclAssociationConfigA)
  const classBody = dts.slice(dts.indexOf(`export declare class ${cls} `));
  const config = /\n {4}constructor\(scope: Construct, id: string, config\??: (\w+)\);/.exec(classBody)?.[1];
  if (!config || !types.has(config)) throw new Error(`${type}: no config interface ${config} in ${dir}`);
  const written = hclAttributes(js, "    synthesizeHclAttributes() {");
  return shape(config, types.get(config), types, js, written, new Set([config]));
}

function packageInfo(name, root) {
  const dir = join(root, "node_modules", ...name.split("/"));
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  return { dir, version: manifest.version, providerVersion: manifest.cdktf.provider.version };
}

/**
 * provider -> the JSON text of its schema file, for the types the templates use. Throws when a used
 * type's provider is neither extracted nor skipped, or its package has no such type.
 */
export function extractProviderSchemas(root = ROOT) {
  const used = templateTypes(root);
  const byProvider = {};
  for (const kind of ["resource", "data"])
    for (const type of used[kind]) {
      const provider = type.split("_")[0];
      if (provider in SKIPPED_PROVIDERS) continue;
      if (provider in VENDORED_PROVIDERS) {
        const vendored = VENDORED_PROVIDERS[provider][kind === "resource" ? "resources" : "data_sources"];
        if (!(type in vendored))
          throw new Error(`${kind} ${type}: not in the vendored ${provider} schema (VENDORED_PROVIDERS)`);
        continue;
      }
      if (!(provider in PROVIDERS))
        throw new Error(
          `${kind} ${type}: provider ${provider} has no schema package; add it to PROVIDERS or SKIPPED_PROVIDERS in scripts/provider-schemas.js`,
        );
      byProvider[provider] ??= { resource: [], data: [] };
      byProvider[provider][kind].push(type);
    }
  const out = {};
  for (const provider of Object.keys(byProvider).sort()) {
    const info = packageInfo(PROVIDERS[provider].package, root);
    const section = (kind) => {
      const schemas = {};
      for (const type of byProvider[provider][kind]) {
        const schema = typeSchema(info.dir, kind, type);
        if (!schema)
          throw new Error(
            `${kind} ${type}: not in ${PROVIDERS[provider].package}@${info.version} (${PROVIDERS[provider].source} ${info.providerVersion})`,
          );
        schemas[type] = schema;
      }
      return sorted(schemas);
    };
    const file = {
      provider,
      source: PROVIDERS[provider].source,
      version: info.providerVersion,
      package: `${PROVIDERS[provider].package}@${info.version}`,
      generated_by: "scripts/provider-schemas.js",
      resources: section("resource"),
      data_sources: section("data"),
    };
    out[provider] = `${JSON.stringify(file, null, 2)}\n`;
  }
  for (const [provider, vendored] of Object.entries(VENDORED_PROVIDERS)) {
    if (![...used.resource, ...used.data].some((type) => type.split("_")[0] === provider)) continue;
    const file = {
      provider,
      source: vendored.source,
      version: vendored.version,
      package: vendored.from,
      generated_by: "scripts/provider-schemas.js (vendored)",
      resources: sorted(vendored.resources),
      data_sources: sorted(vendored.data_sources),
    };
    out[provider] = `${JSON.stringify(file, null, 2)}\n`;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const [provider, text] of Object.entries(extractProviderSchemas())) {
    writeFileSync(join(SCHEMA_DIR, `${provider}.json`), text);
    process.stdout.write(`src/validate/provider-schemas/${provider}.json\n`);
  }
}
