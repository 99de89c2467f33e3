import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { ToolContext } from "./context.js";
import { createStackwrightServer, type ToolRegistrar } from "./server.js";

/** Serves MCP on stdin/stdout until the client closes it; logs go to stderr only. */
export async function runStdio(
  ctx: ToolContext = {},
  extraTools: readonly ToolRegistrar[] = [],
): Promise<void> {
  const server = createStackwrightServer(ctx, extraTools);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on("end", () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
