/** The CLI's only handles on stdout/stderr, so commands stay testable and output stays in one place. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly isTty: boolean;
  readonly color: boolean;
}

export const processIo: CliIo = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
  get isTty() {
    return Boolean(process.stdout.isTTY && process.stdin.isTTY);
  },
  get color() {
    return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  },
};
