/**
 * Errors the CLI maps to a message and an exit code. Anything else that escapes a command is an
 * internal error ("please report"), printed with its stack.
 */
export const EXIT = {
  ok: 0,
  /** --check found drift, lint found problems, a review found blocking issues */
  findings: 1,
  /** bad flags, bad spec, unreadable file */
  usage: 2,
  /** a bug in stackwright */
  internal: 70,
} as const;

export class UserError extends Error {
  override readonly name = "UserError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    /** extra lines printed after the message (one problem per line) */
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof Error && (error as { name?: string }).name === "UserError";
}

/** A file's schema problems (zod issues) as lines: each one's path in the file, then what is wrong. */
export function schemaProblems(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string[] {
  return issues.map((i) => `${i.path.map(String).join(".") || "(file)"}: ${i.message}`);
}
