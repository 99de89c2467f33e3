import { resolve } from "node:path";
import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";

export async function runMcp(
  io: CliIo,
  options: { http?: boolean; port: number; host: string; token?: string; workspace?: string },
): Promise<number> {
  const mcp = (await import(
    "../../../mcp-server/index.js" as string
  )) as typeof import("../../../mcp-server/index.js");
  const workspaceRoot = options.workspace ? resolve(options.workspace) : undefined;
  if (!options.http) {
    await mcp.runStdio({ workspaceRoot });
    return EXIT.ok;
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new UserError(`--port must be 0-65535, got ${options.port}`);
  }
  const server = await mcp.startHttpServer({
    host: options.host,
    port: options.port,
    token: options.token ?? process.env.STACKWRIGHT_MCP_TOKEN,
    workspaceRoot,
    log: (line) => io.err(`${line}\n`),
  });
  io.err(
    `stackwright MCP on ${server.url}${options.token || process.env.STACKWRIGHT_MCP_TOKEN ? " (bearer token required)" : ""}\n`,
  );
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return EXIT.ok;
}
