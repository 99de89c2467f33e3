#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (prepare) or `npm run build`.
import { existsSync } from "node:fs";
import module from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// V8 code cache on disk (Node >= 22.1): cuts cold start of every command by reusing compiled
// bytecode for zod, yaml, commander and our own modules. Opt out with NODE_DISABLE_COMPILE_CACHE=1.
module.enableCompileCache?.();

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
// the bundled hot path (scripts/bundle-cli.js) when the build made it, else the plain tsc output
const bundled = join(dist, "bundle", "main.js");
const entry = existsSync(bundled) ? bundled : join(dist, "src", "cli", "main.js");
if (!existsSync(entry)) {
  process.stderr.write("stackwright: the compiled CLI is missing (dist/). Run `npm run build` first.\n");
  process.exit(70);
}
// `stackwright plan | head` closes the pipe early: stop quietly instead of crashing on EPIPE
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
