/**
 * Reads a serve.yaml for `serve`, `score`, `consume` and `start`: parsed strictly by the serving
 * core's schema, every problem listed with its path, exit 2; with the directory its relative paths
 * (models, the feature file) are read against.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { load } from "js-yaml";
import type { ServeConfig } from "../serve/config.js";
import { EXIT, schemaProblems, UserError } from "./errors.js";

export function readServeConfig(
  serve: { serveConfigSchema: typeof import("../serve/config.js").serveConfigSchema },
  path: string | undefined,
): { config: ServeConfig; dir: string } {
  let raw: unknown = {};
  if (path) {
    try {
      raw = load(readFileSync(path, "utf8")) ?? {};
    } catch (error) {
      throw new UserError(`cannot read ${path}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  const parsed = serve.serveConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(
      `${path} is not a valid serve config`,
      EXIT.usage,
      schemaProblems(parsed.error.issues),
    );
  }
  return { config: parsed.data, dir: path ? dirname(resolve(path)) : process.cwd() };
}
