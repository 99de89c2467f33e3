/** Starts `stackwright serve` as a process on a free port and waits until it is ready. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMlp, type MlpOptions } from "../../src/serve/onnx-build.js";
import { BIN, ROOT } from "../helpers/cli.js";

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function writeModel(root: string, name: string, version: string, mlp: MlpOptions, meta = ""): string {
  const dir = join(root, name, version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.onnx"), buildMlp(mlp));
  writeFileSync(join(dir, "model.yaml"), meta || "stage: production\n");
  return dir;
}

export function modelsDir(): string {
  return mkdtempSync(join(tmpdir(), "sw-models-"));
}

export interface Served {
  url: string;
  process: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

export async function serve(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, "serve", "--port", String(port), ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  // ready, and its start-up line read: readiness can answer before the line (written once every
  // front end listens) has crossed the pipe, and tests read that line
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/v2/health/ready`);
      if (res.status === 200 && stderr.includes("stackwright serve listening on")) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`serve did not become ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    process: child,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGTERM");
      }),
  };
}

/**
 * An infer request in Triton's binary tensor extension: the JSON `header`, then `tail` (the inputs'
 * bytes); `headerLength` overrides the length header. The answer's JSON header and the bytes after
 * it (for a JSON answer, the whole body is the header and `binary` is empty).
 */
export async function postBinary(
  url: string,
  header: Record<string, unknown>,
  tail: Buffer,
  headerLength?: number,
): Promise<{ status: number; contentType: string | null; header: Record<string, any>; binary: Buffer }> {
  const head = Buffer.from(JSON.stringify(header));
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/octet-stream",
      "inference-header-content-length": String(headerLength ?? head.length),
    },
    body: Buffer.concat([head, tail]),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const length = Number(res.headers.get("inference-header-content-length") ?? bytes.length);
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    header: JSON.parse(bytes.subarray(0, length).toString("utf8")),
    binary: bytes.subarray(length),
  };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export function row(n: number, width: number, seed = 1): number[] {
  return Array.from({ length: n * width }, (_, i) => Math.sin(seed * 1000 + i) * 2);
}

/** Runs a test body against a started server and always stops it. */
export async function withServe(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } | ((s: Served) => Promise<void>),
  body?: (s: Served) => Promise<void>,
): Promise<void> {
  const [opts, fn] = typeof options === "function" ? [{}, options] : [options, body!];
  const s = await serve(args, opts);
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

/**
 * Polls until `done` holds (every 50 ms, 10 s at most by the clock), naming what it waited for on
 * timeout. A check that does not answer counts as not done once the time is up: a probe of a server
 * that never replies (a port another process took) must fail the wait, not hang the test.
 */
export async function until(
  what: string,
  done: () => boolean | Promise<boolean>,
  withinMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    let timer: NodeJS.Timeout | undefined;
    const unanswered = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(1, deadline - Date.now()));
    });
    const held = await Promise.race([Promise.resolve(done()), unanswered]).finally(() => clearTimeout(timer));
    if (held) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
