/**
 * Tests that need an external program (a real server or checker) declare it here. Where the program
 * is on PATH the test runs with its absolute path. Where it is missing the test is skipped, named in
 * the run's closing summary with the one command that installs it (test/helpers/skip-reporter.ts),
 * except under CI (CI set to anything but "false"/"0"), where a missing program fails the test: CI
 * must never pass by skipping.
 */
import { describe, it } from "vitest";
import { findTool, missingToolMessage, type ToolName } from "../../src/util/tools.js";

/** The marker the skip reporter looks for in a skipped test's name. */
export const NEEDS_MARKER = "[needs ";

export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI;
  return value !== undefined && value !== "" && value !== "false" && value !== "0";
}

function missing(tools: readonly ToolName[]): ToolName[] {
  return tools.filter((name) => findTool(name) === undefined);
}

/** The absolute path of a tool the test declared; throws with the install command when missing. */
export function tool(name: ToolName): string {
  const path = findTool(name);
  if (!path) throw new Error(`missing ${missingToolMessage(name)}`);
  return path;
}

function label(name: string, absent: readonly ToolName[]): string {
  return `${name} ${NEEDS_MARKER}${absent.join(", ")}]`;
}

/** describe() for a suite that runs the given tools. */
export function describeWith(tools: readonly ToolName[], name: string, body: () => void): void {
  const absent = missing(tools);
  if (absent.length === 0 || underCi()) describe(name, body);
  else describe.skip(label(name, absent), body);
}

/** it() for a test that runs the given tools. */
export function itWith(
  tools: readonly ToolName[],
  name: string,
  body: () => unknown | Promise<unknown>,
  timeout?: number,
): void {
  const absent = missing(tools);
  if (absent.length === 0 || underCi()) it(name, body, timeout);
  else it.skip(label(name, absent), body, timeout);
}
