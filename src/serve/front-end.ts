/**
 * What every front end (HTTP, gRPC) does the same way around the core: bearer tokens checked in
 * constant time, and inference answers counted and timed under the model's name.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { errorResponse, HttpError } from "./errors.js";
import type { Observability } from "./observability.js";
import type { ModelRepository } from "./repository.js";

function tokensMatch(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Refuses a call without the bearer token (`authorization` is the header or metadata value);
 * a surface with no token configured is disabled (403).
 */
export function checkBearer(
  authorization: string | undefined,
  token: string | undefined,
  what: string,
): void {
  if (!token)
    throw new HttpError(
      403,
      `${what} is disabled: start serve with --admin-token or STACKWRIGHT_ADMIN_TOKEN`,
    );
  const header = authorization ?? "";
  const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
  if (!given || !tokensMatch(given, token))
    throw new HttpError(401, `${what} needs a bearer token (Authorization: Bearer ...)`, {
      "www-authenticate": 'Bearer realm="stackwright"',
    });
}

/**
 * Runs an inference answer and counts and times it under the model's name, errors included — only
 * for a loaded model: a name in a request must not mint a series. `answer` reports the version
 * that answered (a fallback may be another).
 */
export async function measured(
  core: { repository: ModelRepository; observability: Observability },
  name: string,
  version: string,
  started: number,
  answer: (answeredBy: (version: string) => void) => Promise<void>,
): Promise<void> {
  let status = 200;
  let answered = version;
  try {
    await answer((v) => {
      answered = v;
    });
  } catch (error) {
    status = errorResponse(error).status;
    throw error;
  } finally {
    if (core.repository.has(name)) {
      core.observability.count(name, answered, status);
      core.observability.latency(name, (performance.now() - started) / 1000);
    }
  }
}
