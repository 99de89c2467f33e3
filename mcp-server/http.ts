/**
 * Streamable HTTP on 127.0.0.1 at /mcp: Host/Origin validation against DNS rebinding, an optional
 * bearer token, a request size limit, and sessions that expire when idle.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { ToolContext } from "./context.js";
import { createStackwrightServer, type ToolRegistrar } from "./server.js";

export interface HttpOptions extends ToolContext {
  host?: string;
  port?: number;
  /** require `Authorization: Bearer <token>` */
  token?: string;
  maxBodyBytes?: number;
  sessionTtlMs?: number;
  extraTools?: readonly ToolRegistrar[];
  log?: (line: string) => void;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
}

function jsonRpcError(res: ServerResponse, status: number, message: string, code = -32000): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) return reject(Object.assign(new Error("too large"), { status: 413 }));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error("too large"), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(size === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(Object.assign(new Error("parse error"), { status: 400, rpc: -32700 }));
      }
    });
    req.on("error", reject);
  });
}

export async function startHttpServer(options: HttpOptions = {}): Promise<RunningHttpServer> {
  const host = options.host ?? "127.0.0.1";
  const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const ttl = options.sessionTtlMs ?? 30 * 60 * 1000;
  const sessions = new Map<string, Session>();
  let port = options.port ?? 0;
  const allowedHosts = () =>
    new Set([
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      ...(host !== "127.0.0.1" ? [`${host}:${port}`] : []),
    ]);
  const allowedOrigins = () =>
    new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== "/mcp") return jsonRpcError(res, 404, "not found: the MCP endpoint is /mcp");
    const hostHeader = req.headers.host ?? "";
    if (!allowedHosts().has(hostHeader))
      return jsonRpcError(
        res,
        403,
        `forbidden host ${JSON.stringify(hostHeader)} (DNS rebinding protection)`,
      );
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin))
      return jsonRpcError(res, 403, `forbidden origin ${JSON.stringify(origin)}`);
    if (options.token) {
      const given = Buffer.from(String(req.headers.authorization ?? ""));
      const expected = Buffer.from(`Bearer ${options.token}`);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.setHeader("www-authenticate", 'Bearer realm="stackwright"');
        return jsonRpcError(res, 401, "unauthorized: a bearer token is required");
      }
    }
    const sessionId = req.headers["mcp-session-id"];
    let body: unknown;
    if (req.method === "POST") {
      try {
        body = await readBody(req, limit);
      } catch (error) {
        const e = error as { status?: number; rpc?: number; message: string };
        return jsonRpcError(
          res,
          e.status ?? 400,
          e.status === 413 ? `request larger than ${limit} bytes` : e.message,
          e.rpc ?? -32000,
        );
      }
    }
    if (typeof sessionId === "string") {
      const session = sessions.get(sessionId);
      if (!session) return jsonRpcError(res, 404, "unknown or expired session; initialize again", -32001);
      session.lastSeen = Date.now();
      await session.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) {
      return jsonRpcError(res, 400, "no session: send an initialize request first (without mcp-session-id)");
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, lastSeen: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    const server = createStackwrightServer({ workspaceRoot: options.workspaceRoot }, options.extraTools);
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      options.log?.(`mcp http: ${(error as Error).message}`);
      jsonRpcError(res, 500, "internal error", -32603);
    });
  });
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, session] of sessions) {
        if (now - session.lastSeen > ttl) {
          sessions.delete(id);
          void session.transport.close();
        }
      }
    },
    Math.min(ttl, 60_000),
  );
  sweep.unref();
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, host, () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/mcp`,
    port,
    close: async () => {
      clearInterval(sweep);
      for (const session of sessions.values()) await session.transport.close();
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
