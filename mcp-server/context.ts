/** Shared helpers for tools: spec input, problem results, the engine's rule set. */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import {
  formatProblem,
  type Problem,
  parseSpec,
  parseSpecText,
  parseSpecValue,
  type Spec,
} from "../src/requirements/index.js";

/** A spec as YAML/JSON text or as an object: the same document the CLI reads from a file. */
export const specInput = z
  .union([z.string().min(1), z.record(z.string(), z.unknown())])
  .describe("the requirements spec: stackwright.yaml as YAML or JSON text, or as an object");

export interface ToolContext {
  /** where generate_files may write; undefined = it only returns files */
  workspaceRoot?: string;
}

export type SpecResult =
  | { ok: true; spec: Spec; raw: Record<string, unknown> }
  | { ok: false; result: CallToolResult };

/** The document as written (before defaults), to tell which answers are missing. */
export function rawOf(
  input: string | Record<string, unknown>,
): { ok: true; raw: Record<string, unknown> } | { ok: false; result: CallToolResult } {
  if (typeof input !== "string") return { ok: true, raw: input };
  const parsed = parseSpecText(input, "spec");
  if (!parsed.ok) return { ok: false, result: problemResult(parsed.problems) };
  if (!parsed.value || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
    return {
      ok: false,
      result: problemResult([
        {
          code: "NOT_AN_OBJECT",
          severity: "error",
          path: "",
          message: "a spec is a mapping with at least metadata.name",
        },
      ]),
    };
  }
  return { ok: true, raw: parsed.value as Record<string, unknown> };
}

export function loadSpecInput(input: string | Record<string, unknown>): SpecResult {
  if (typeof input === "string") {
    const parsed = parseSpec(input, "spec");
    if (!parsed.ok) return { ok: false, result: problemResult(parsed.problems) };
    return { ok: true, spec: parsed.spec, raw: input as unknown as Record<string, unknown> };
  }
  const parsed = parseSpecValue(input);
  if (!parsed.ok) return { ok: false, result: problemResult(parsed.problems) };
  return { ok: true, spec: parsed.spec, raw: input };
}

/**
 * The problems of a partial spec other than the answers it still leaves out (those the tools ask
 * for): a wrong value is refused with its path and what is allowed, a missing one is a question.
 */
export function partialSpecProblems(
  raw: Record<string, unknown>,
  missingPaths: readonly string[],
): Problem[] {
  const parsed = parseSpecValue(raw);
  // a missing answer shows up at its own path, or at its parent's when the whole mapping is absent
  const asked = (path: string) =>
    missingPaths.some((m) => m === path || (path !== "" && m.startsWith(`${path}.`)));
  return parsed.ok ? [] : parsed.problems.filter((p) => !asked(p.path));
}

/** Spec problems are tool results (isError), with the CLI's per-path lines: not protocol errors. */
export function problemResult(problems: Problem[]): CallToolResult {
  return {
    isError: true,
    content: [
      {
        type: "text",
        text: `the spec is not valid: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n${problems.map(formatProblem).join("\n")}`,
      },
    ],
  };
}

export function textResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], ...(structured ? { structuredContent: structured } : {}) };
}
