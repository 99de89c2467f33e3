#!/usr/bin/env node
// Build step: bundles the CLI's hot path (cli, requirements, engine, plan, util and the three libraries every
// command loads: commander, yaml, zod) into dist/bundle/, split per lazily-loaded command. One file
// instead of ~150 ES modules to resolve halves the cold start of `stackwright plan`. Everything else
// (generators, serving core, interview UI, LLM, MCP, native packages) stays external and loads from
// dist/src and node_modules exactly as without the bundle.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { writeIfChanged } from "./write-if-changed.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const srcDir = join(root, "dist", "src");
const outdir = join(root, "dist", "bundle");
const BUNDLED_DIRS = ["cli", "requirements", "engine", "plan", "util"].map((d) => join(srcDir, d) + sep);
// a renamed folder would silently leave the bundle and slow every cold start: refuse to build without it
for (const dir of BUNDLED_DIRS) if (!existsSync(dir)) throw new Error(`bundle-cli: ${dir} does not exist; update BUNDLED_DIRS`);
const BUNDLED_PACKAGES = new Set(["commander", "yaml", "zod"]);

const hotPath = {
  name: "hot-path-only",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { external: true };
      const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { external: true };
    });
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(srcDir)) return undefined;
      const target = resolve(dirname(args.importer), args.path);
      if (BUNDLED_DIRS.some((d) => target.startsWith(d))) return undefined;
      // outside the hot path: keep it a runtime import of the tsc output, relative to dist/bundle/
      return { path: relative(outdir, target).split(sep).join("/").replace(/^(?!\.)/, "./"), external: true };
    });
  },
};

const { outputFiles } = await build({
  write: false,
  entryPoints: [join(srcDir, "cli", "main.js")],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  plugins: [hotPath],
  logLevel: "warning",
  banner: { js: 'import { createRequire as __swRequire } from "node:module"; const require = __swRequire(import.meta.url);' },
});
// chunks are named by their content: an unchanged build writes nothing; a changed one adds its new
// chunks, then replaces the entry whole (last, so it never names a chunk not yet written), then
// removes the chunks no output names any more
const entry = join(outdir, "main.js");
const written = new Set(outputFiles.map((f) => f.path));
if (!written.has(entry)) throw new Error(`bundle-cli: esbuild wrote no ${entry}`);
for (const file of outputFiles) if (file.path !== entry) writeIfChanged(file.path, file.contents);
writeIfChanged(entry, outputFiles.find((f) => f.path === entry).contents);
for (const name of readdirSync(outdir)) if (!written.has(join(outdir, name))) rmSync(join(outdir, name), { force: true });
