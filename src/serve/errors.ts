/**
 * The serving core's errors and the one mapping from an error to an answer. Every part (repository,
 * pipeline, router) throws these; the HTTP front end turns them into a status and headers here, and
 * a gRPC front end maps the same status to its code.
 */
import { QueueFullError } from "./batcher.js";
import { BadRequest } from "./tensors.js";

/** An error that carries the status it answers with (404 unknown model, 401/403 auth, 503 ...). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * An error's answer: its status, the headers that go with it (Retry-After under overload,
 * WWW-Authenticate for a missing token) and whether it is unexpected (logged with its stack).
 * 4xx for the caller's mistakes, 503 for overload, 500 otherwise.
 */
export function errorResponse(error: unknown): {
  status: number;
  headers: Record<string, string>;
  unexpected: boolean;
} {
  if (error instanceof HttpError) return { status: error.status, headers: error.headers, unexpected: false };
  if (error instanceof BadRequest) return { status: error.status, headers: {}, unexpected: false };
  if (error instanceof QueueFullError)
    return { status: 503, headers: { "retry-after": String(error.retryAfterSeconds) }, unexpected: false };
  return { status: 500, headers: {}, unexpected: true };
}
