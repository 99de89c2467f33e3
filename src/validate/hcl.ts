/**
 * Terraform checks with HashiCorp's own HCL parser (compiled to WASM in @cdktf/hcl2json): every .tf
 * parses, equals its `terraform fmt` form (@cdktf/hcl-tools), every reference to a variable,
 * local, module, data source or resource resolves within its module directory, and every resource and
 * data block fits its provider's schema at the pinned version (provider-schema.ts).
 */

import { format } from "@cdktf/hcl-tools";
import { parse } from "@cdktf/hcl2json";
import { type FileSet, textEntries } from "../fileset/index.js";
import { MODULE_VARIABLES } from "./module-variables.js";
import { providerSchemaProblems } from "./provider-schema.js";
import type { ValidationProblem } from "./types.js";

type Json = Record<string, unknown>;

function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) collectStrings(v, out);
  return out;
}

/** Expressions inside ${...} of the JSON form, braces balanced. */
function expressions(text: string): string[] {
  const out: string[] = [];
  for (let i = text.indexOf("${"); i >= 0; i = text.indexOf("${", i + 1)) {
    if (i > 0 && text[i - 1] === "$") continue;
    let depth = 0;
    for (let j = i + 1; j < text.length; j++) {
      if (text[j] === "{") depth++;
      else if (text[j] === "}") {
        depth--;
        if (depth === 0) {
          out.push(text.slice(i + 2, j));
          break;
        }
      }
    }
  }
  return out;
}

const BUILTIN_ROOTS = new Set([
  "each",
  "count",
  "self",
  "path",
  "terraform",
  "string",
  "number",
  "bool",
  "list",
  "map",
  "set",
  "object",
  "tuple",
  "any",
  "null",
  "true",
  "false",
]);

export async function validateTerraform(files: FileSet): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  const modules = new Map<string, Array<{ path: string; json: Json }>>();
  for (const [path, text] of textEntries(files)) {
    if (!path.endsWith(".tf")) continue;
    let json: Json;
    try {
      json = (await parse(path, text)) as Json;
    } catch (error) {
      const message = String((error as Error).message ?? error).replace(/^Error: /, "");
      const line = /:(\d+),\d+/.exec(message)?.[1];
      problems.push({
        file: path,
        line: line ? Number(line) : undefined,
        message: `HCL: ${message.split("\n")[0]}`,
        validator: "hcl",
      });
      continue;
    }
    const formatted = await format(text);
    if (formatted !== text) {
      const a = text.split("\n");
      const b = formatted.split("\n");
      const line = a.findIndex((l, i) => l !== b[i]);
      problems.push({
        file: path,
        line: line + 1,
        message: `not in terraform fmt form (first difference at line ${line + 1}: ${JSON.stringify(b[line] ?? "")})`,
        validator: "terraform-fmt",
      });
    }
    problems.push(...moduleInputProblems(path, json));
    problems.push(...(await providerSchemaProblems(path, json)));
    const dir = path.slice(0, path.lastIndexOf("/"));
    modules.set(dir, [...(modules.get(dir) ?? []), { path, json }]);
  }
  for (const entries of modules.values()) {
    const declared = new Set<string>();
    for (const { json } of entries) {
      for (const name of Object.keys((json.variable as Json) ?? {})) declared.add(`var.${name}`);
      for (const block of (json.locals as Json[]) ?? [])
        for (const name of Object.keys(block)) declared.add(`local.${name}`);
      for (const name of Object.keys((json.module as Json) ?? {})) declared.add(`module.${name}`);
      for (const [type, named] of Object.entries((json.resource as Json) ?? {}))
        for (const name of Object.keys(named as Json)) declared.add(`${type}.${name}`);
      for (const [type, named] of Object.entries((json.data as Json) ?? {}))
        for (const name of Object.keys(named as Json)) declared.add(`data.${type}.${name}`);
    }
    for (const { path, json } of entries) {
      // dynamic block iterators are in scope inside their content
      const iterators = new Set(collectStrings(json).length ? findDynamicNames(json) : []);
      for (const text of collectStrings(json)) {
        for (const expr of expressions(text)) {
          const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
          for (const match of withoutStrings.matchAll(
            /(?<![\w.])([a-z_][a-z0-9_]*)\.([a-zA-Z_][\w-]*)(?:\.([a-zA-Z_][\w-]*))?/g,
          )) {
            const [, root, second, third] = match;
            if (BUILTIN_ROOTS.has(root) || iterators.has(root)) continue;
            let ref: string;
            if (root === "var" || root === "local" || root === "module") ref = `${root}.${second}`;
            else if (root === "data") ref = `data.${second}.${third}`;
            else if (/^(aws|google|azurerm|azuread|kubernetes|helm|random|null|tls|time)_/.test(root))
              ref = `${root}.${second}`;
            else continue; // function calls and attribute access on locals' values
            if (!declared.has(ref))
              problems.push({
                file: path,
                message: `reference ${ref} is not declared in ${path.slice(0, path.lastIndexOf("/"))}`,
                validator: "terraform-refs",
              });
          }
        }
      }
    }
  }
  return dedupe(problems);
}

/** Arguments every module block may have besides its inputs. */
const MODULE_META = new Set(["source", "version", "providers", "depends_on", "count", "for_each"]);

/**
 * Every module call's inputs against the variables of the module at the version it pins (vendored in
 * module-variables.ts): an input the module does not declare is a typo or a renamed variable that
 * `terraform plan` would refuse; the entries of a map-of-objects input are checked against the
 * submodule they configure. A module with no vendored list cannot be checked, which is a problem too.
 */
function moduleInputProblems(path: string, json: Json): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const [name, blocks] of Object.entries((json.module as Record<string, Json[]>) ?? {})) {
    const block = blocks[0] ?? {};
    const source = String(block.source ?? "");
    const version = String(block.version ?? "");
    const known = MODULE_VARIABLES.find((m) => m.source === source && m.version === version);
    if (!known) {
      problems.push({
        file: path,
        message: `module.${name}: no vendored variable list for ${source} ${version} (src/validate/module-variables.ts): its inputs cannot be checked`,
        validator: "terraform-modules",
      });
      continue;
    }
    const variables = new Set(known.variables);
    for (const [input, value] of Object.entries(block)) {
      if (MODULE_META.has(input)) continue;
      if (!variables.has(input)) {
        problems.push({
          file: path,
          message: `module.${name}: ${source} ${version} has no input ${input} (${known.repository}/blob/${known.commit}/${known.path})`,
          validator: "terraform-modules",
        });
        continue;
      }
      const entryVariables = known.entries?.[input];
      if (!entryVariables || typeof value !== "object" || value === null) continue;
      const allowed = new Set(entryVariables);
      for (const [entry, settings] of Object.entries(value as Json))
        for (const key of Object.keys((settings as Json) ?? {}))
          if (!allowed.has(key))
            problems.push({
              file: path,
              message: `module.${name}: ${input}["${entry}"].${key} is not an input of its submodule in ${source} ${version}`,
              validator: "terraform-modules",
            });
    }
  }
  return problems;
}

function findDynamicNames(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) findDynamicNames(v, out);
  else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if (key === "dynamic" && v && typeof v === "object") out.push(...Object.keys(v));
      findDynamicNames(v, out);
    }
  }
  return out;
}

function dedupe(problems: ValidationProblem[]): ValidationProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
