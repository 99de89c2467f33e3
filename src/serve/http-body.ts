/**
 * Request bodies for the serving API: size limit, JSON parsing and the nesting guard, each failure a
 * clear 4xx as an HttpError.
 */
import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.js";

/** JSON deeper than this is refused (400) */
export const MAX_DEPTH = 100;

/** true when JSON text nests at most `max` arrays/objects deep, found without parsing it. */
function jsonTextDepthOk(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return false;
    } else if (c === 125 || c === 93) depth--;
  }
  return true;
}

/** true when `text` holds more than `max` opening brackets ('[' or '{', inside strings too). */
function bracketsExceed(text: string, max: number): boolean {
  let count = 0;
  for (const bracket of ["[", "{"])
    for (let i = text.indexOf(bracket); i >= 0; i = text.indexOf(bracket, i + 1))
      if (++count > max) return true;
  return false;
}

/** true when a parsed JSON value nests at most `max` arrays/objects deep (the walk stops at max). */
function jsonDepthOk(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (max === 0) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (typeof item === "object" && item !== null && !jsonDepthOk(item, max - 1)) return false;
    }
    return true;
  }
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === "object" && item !== null && !jsonDepthOk(item, max - 1)) return false;
  }
  return true;
}

/** Reads a request body of at most `limit` bytes: 413 over the limit (before reading when content-length says so). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers["content-length"] ?? 0) > limit)
    return Promise.reject(new HttpError(413, `request body larger than ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, `request body larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
  });
}

/**
 * JSON text as an object: 400 for malformed JSON, nesting deeper than MAX_DEPTH, or a non-object.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  // a large body is scanned before parsing, so a deeply nested one is refused without the parse
  // (megabytes of nesting would hold the event loop for seconds); a small one is parsed first and
  // its value walked, which is cheaper per request
  if (text.length > 8192 && !jsonTextDepthOk(text, MAX_DEPTH))
    throw new HttpError(400, `JSON nested deeper than ${MAX_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `malformed JSON: ${(error as Error).message}`);
  }
  // checked on the parsed value (V8's parser does not recurse on the native stack); the walk
  // visits only nested arrays and objects, so a flat tensor costs one pass over its values. Text
  // with no more opening brackets than MAX_DEPTH cannot nest deeper, and needs no walk
  if (bracketsExceed(text, MAX_DEPTH) && !jsonDepthOk(value, MAX_DEPTH))
    throw new HttpError(400, `JSON nested deeper than ${MAX_DEPTH} levels`);
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new HttpError(400, "the body must be a JSON object");
  return value as Record<string, unknown>;
}

/** Reads a request body of at most `limit` bytes as a JSON object (readBody, then parseJsonObject). */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  return parseJsonObject((await readBody(req, limit)).toString("utf8"));
}
