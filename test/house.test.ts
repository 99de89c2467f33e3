/**
 * The shape of the house, checked: one source per fact and imports that go one way. Each test names
 * the file and line that breaks a rule, so a new duplicate or cycle fails with its place.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { GENERATED_HEADER } from "../src/fileset/index.js";
import { ROOT } from "./helpers/cli.js";

function filesUnder(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (pattern.test(entry.name)) out.push(path);
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}
const SOURCES = [...filesUnder("src", /\.tsx?$/), ...filesUnder("mcp-server", /\.ts$/)];
const rel = (path: string) => relative(ROOT, path);

/** Lines of the given files that contain the text, as "file:line". */
function linesWith(files: readonly string[], text: string): string[] {
  return files.flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .flatMap((line, i) => (line.includes(text) ? [`${rel(file)}:${i + 1}: ${line.trim()}`] : [])),
  );
}

/** Value imports (not `import type`) between source files: file -> files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of SOURCES) {
    const deps: string[] = [];
    for (const match of readFileSync(file, "utf8").matchAll(
      /^(import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms,
    )) {
      if (/^(import|export)\s+type\s/.test(match[0])) continue;
      const base = resolve(dirname(file), match[2]).replace(/\.js$/, "");
      const target = [".ts", ".tsx"]
        .map((ext) => base + ext)
        .find((p) => statSync(p, { throwIfNoEntry: false }));
      if (target) deps.push(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

describe("one source per fact", () => {
  it("the generated-file header is written out in one place only, and that place does not spell it", () => {
    const files = [...SOURCES, ...filesUnder("templates", /./), ...filesUnder("scripts", /./)];
    expect(linesWith(files, GENERATED_HEADER)).toEqual([]);
  });

  it("stackwright's version is read from package.json, never restated", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    // the generated chart's own first version happens to read the same; it is the team's, not ours
    const restated = linesWith(SOURCES, `"${version}"`).filter((l) => !l.includes("INITIAL_CHART_VERSION ="));
    expect(restated).toEqual([]);
  });

  it("one Handlebars environment and one way to find the package's files", () => {
    expect(linesWith(SOURCES, "Handlebars.create(").map((l) => l.split(":")[0])).toEqual([
      "src/generate/render.ts",
    ]);
    const locators = linesWith(SOURCES, "import.meta.url").map((l) => l.split(":")[0]);
    // the package locator, and the worker script the pool starts (a module beside it, not an asset)
    expect([...new Set(locators)]).toEqual(["src/serve/pool.ts", "src/util/package.ts"]);
  });

  it("the MCP question list is the interview's (no second bank)", () => {
    const banks = linesWith(SOURCES, 'prompt: "').map((l) => l.split(":")[0]);
    expect([...new Set(banks)]).toEqual(["src/interview/questions.ts"]);
  });
});

describe("imports go one way", () => {
  const graph = importGraph();

  it("no import cycle among the modules", () => {
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const cycles: string[] = [];
    const visit = (file: string) => {
      state.set(file, "open");
      stack.push(file);
      for (const dep of graph.get(file) ?? []) {
        if (state.get(dep) === "open")
          cycles.push([...stack.slice(stack.indexOf(dep)), dep].map(rel).join(" -> "));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it("the layers of ARCHITECTURE.md hold", () => {
    // [importer prefix, imported prefixes it must not reach]
    const forbidden: Array<[string, string[]]> = [
      ["src/", ["src/cli/", "mcp-server/"]],
      ["src/requirements/", ["src/engine/", "src/plan/", "src/generate/", "src/serve/"]],
      ["src/engine/", ["src/plan/", "src/generate/", "src/serve/"]],
      ["src/plan/", ["src/generate/", "src/serve/", "src/llm/", "src/interview/", "src/write/"]],
      ["src/serve/", ["src/generate/", "src/plan/", "src/llm/", "src/interview/"]],
      ["src/validate/", ["src/generate/"]],
      ["src/write/", ["src/generate/", "src/validate/"]],
      ["src/fileset/", ["src/"]],
    ];
    const broken: string[] = [];
    for (const [file, deps] of graph) {
      const from = rel(file);
      for (const dep of deps.map(rel)) {
        for (const [prefix, banned] of forbidden) {
          if (!from.startsWith(prefix)) continue;
          const hit = banned.find((b) => dep.startsWith(b) && !from.startsWith(b));
          if (hit) broken.push(`${from} imports ${dep}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("nothing points outside the repository", () => {
  it("no docs, code or templates reference ../shared or a stackwright.dev URL", () => {
    const files = [
      ...["README.md", "ARCHITECTURE.md", "bench/README.md"].map((f) => join(ROOT, f)),
      ...SOURCES,
      ...filesUnder("templates", /./),
      ...filesUnder("examples", /./),
    ];
    expect([...linesWith(files, "../shared"), ...linesWith(files, "https://stackwright.dev")]).toEqual([]);
  });
});
