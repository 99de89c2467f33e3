/**
 * The template environment every generator renders with: Handlebars in strict mode (a missing value
 * is an error, not an empty string), no prototype access, no HTML escaping, and explicit helpers that
 * escape per target so a spec value can never break out of an HCL string, a YAML scalar, a JSON
 * string or a Markdown cell.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import Handlebars from "handlebars";
import { stringify as yamlStringify } from "yaml";
import { dns1123 } from "../infra/names.js";
import { packagePath } from "../util/package.js";

/** templates/ of the installed package. */
export function templatesRoot(): string {
  return packagePath("templates");
}

/** Text for a Markdown table cell or paragraph: markup characters escaped, one line. */
export function md(value: unknown): string {
  return String(value ?? "")
    .replace(/\\/g, "\\\\")
    .replace(/([|*_`[\]#])/g, "\\$1")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\s*\r?\n\s*/g, " ");
}

/**
 * A Markdown code span for a table cell: backslash escapes do not work inside code spans, so only
 * what would break the cell or the span is handled (pipes escaped as GFM tables read them, backticks,
 * angle brackets and newlines dropped).
 */
export function mdCode(value: unknown): string {
  const text = String(value ?? "")
    .replace(/[`<>]/g, "")
    .replace(/\s*\r?\n\s*/g, " ")
    .replace(/\|/g, "\\|");
  return `\`${text}\``;
}

/** A quoted HCL string literal: quotes, backslashes, control characters and template sequences escaped. */
export function hclString(value: unknown): string {
  const text = String(value ?? "")
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t")
    .replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    // a function replacer: in a replacement string "$$" would collapse to "$"
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, () => "%%{");
  return `"${text}"`;
}

/** A Terraform expression written as is by hclValue (a reference, not a string). */
export class HclExpression {
  constructor(readonly expression: string) {}
}

const HCL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A value as HCL, in `terraform fmt` form when it starts at `indent`: objects one attribute a line,
 * consecutive one-line attributes aligned on `=` (a multi-line one ends the run, as fmt aligns),
 * lists and objects inside lists on one line, HclExpression as written, strings escaped.
 */
export function hclValue(value: unknown, indent = 0): string {
  if (value instanceof HclExpression) return value.expression;
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  if (typeof value === "string") return hclString(value);
  if (Array.isArray(value)) return `[${value.map((v) => hclInline(v)).join(", ")}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  const pad = " ".repeat(indent + 2);
  const rendered = entries.map(([k, v]) => ({
    key: HCL_IDENTIFIER.test(k) ? k : hclString(k),
    text: hclValue(v, indent + 2),
  }));
  const lines: string[] = [];
  for (let i = 0; i < rendered.length; ) {
    if (rendered[i].text.includes("\n")) {
      lines.push(`${pad}${rendered[i].key} = ${rendered[i].text}`);
      i++;
      continue;
    }
    let end = i;
    while (end < rendered.length && !rendered[end].text.includes("\n")) end++;
    const width = Math.max(...rendered.slice(i, end).map((r) => r.key.length));
    for (const r of rendered.slice(i, end)) lines.push(`${pad}${r.key.padEnd(width)} = ${r.text}`);
    i = end;
  }
  return `{\n${lines.join("\n")}\n${" ".repeat(indent)}}`;
}

/** A value on one line: an object as `{ a = 1, b = "x" }`. */
function hclInline(value: unknown): string {
  if (value && typeof value === "object" && !Array.isArray(value) && !(value instanceof HclExpression))
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${HCL_IDENTIFIER.test(k) ? k : hclString(k)} = ${hclInline(v)}`)
      .join(", ")} }`;
  return hclValue(value);
}

/** A YAML scalar (quoted when needed) that stays one value whatever it contains. */
export function yamlScalar(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = yamlStringify(String(value ?? ""), { lineWidth: 0 }).trimEnd();
  // block scalars would need indentation context: force a double-quoted flow scalar instead
  return text.startsWith("|") || text.startsWith(">") || text.includes("\n")
    ? JSON.stringify(String(value ?? ""))
    : text;
}

const env = Handlebars.create();
env.registerHelper("hcl", (v: unknown) => hclString(v));
env.registerHelper("yaml", (v: unknown) => yamlScalar(v));
env.registerHelper("json", (v: unknown) => JSON.stringify(v ?? null));
env.registerHelper("md", (v: unknown) => md(v));
env.registerHelper("mdcode", (v: unknown) => mdCode(v));
env.registerHelper("dns1123", (v: unknown) => dns1123(String(v ?? "")));
env.registerHelper("eq", (a: unknown, b: unknown) => a === b);
env.registerHelper("ne", (a: unknown, b: unknown) => a !== b);
env.registerHelper("gt", (a: unknown, b: unknown) => Number(a) > Number(b));
env.registerHelper("includes", (list: unknown, item: unknown) => Array.isArray(list) && list.includes(item));
env.registerHelper("and", (...args: unknown[]) => args.slice(0, -1).every(Boolean));
env.registerHelper("or", (...args: unknown[]) => args.slice(0, -1).some(Boolean));
env.registerHelper("not", (v: unknown) => !v);
env.registerHelper("join", (list: unknown, sep: unknown) =>
  Array.isArray(list) ? list.join(typeof sep === "string" ? sep : ", ") : "",
);
env.registerHelper(
  "hclList",
  (list: unknown) => `[${(Array.isArray(list) ? list : []).map(hclString).join(", ")}]`,
);
env.registerHelper("indent", (n: unknown, text: unknown) =>
  String(text ?? "")
    .split("\n")
    .map((line) => (line ? " ".repeat(Number(n)) + line : line))
    .join("\n"),
);

const cache = new Map<string, HandlebarsTemplateDelegate>();

/**
 * Pieces several templates share live in a `_partials` folder beside them (templates/terraform/_partials/
 * x.hbs is `{{> x}}`); registered once, on the first render. templateFiles never lists them.
 */
let partialsRegistered = false;
function registerPartials(): void {
  if (partialsRegistered) return;
  partialsRegistered = true;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (!entry.isDirectory()) continue;
      if (entry.name === "_partials") {
        for (const file of readdirSync(path)
          .filter((f) => f.endsWith(".hbs"))
          .sort())
          env.registerPartial(file.slice(0, -4), readFileSync(join(path, file), "utf8"));
      } else walk(path);
    }
  };
  walk(templatesRoot());
}
const RUNTIME = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false } as const;

/** Renders templates/<path> with the context. */
export function render(templatePath: string, context: object): string {
  registerPartials();
  let template = cache.get(templatePath);
  if (!template) {
    template = env.compile(readFileSync(join(templatesRoot(), templatePath), "utf8"), {
      strict: true,
      noEscape: true,
    });
    cache.set(templatePath, template);
  }
  return template(context, RUNTIME);
}

/** Every template under templates/<dir> (files ending in .hbs), as relative paths without .hbs. */
export function templateFiles(dir: string): string[] {
  const root = join(templatesRoot(), dir);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "_partials") walk(p);
      } else if (entry.name.endsWith(".hbs")) out.push(relative(root, p).slice(0, -4));
    }
  };
  walk(root);
  return out;
}
