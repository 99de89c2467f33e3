import { type Command, Option } from "commander";
import type { CliIo } from "../io.js";

export function registerMcp(program: Command, io: CliIo): void {
  program
    .command("mcp")
    .description(
      "serve stackwright's tools, rule files and prompt over the Model Context Protocol (stdio, or Streamable HTTP with --http)",
    )
    .option("--http", "Streamable HTTP at http://HOST:PORT/mcp instead of stdio")
    .addOption(new Option("--port <n>", "HTTP port").default(3333).argParser((v) => Number(v)))
    .option("--host <addr>", "HTTP bind address", "127.0.0.1")
    .option("--token <token>", "require Authorization: Bearer <token> (or set STACKWRIGHT_MCP_TOKEN)")
    .option("--workspace <dir>", "root under which generate_files may write (never outside it)")
    .addHelpText(
      "after",
      "\nExamples:\n  $ stackwright mcp                          # stdio, for Claude Code / Claude Desktop\n  $ stackwright mcp --http --port 3333       # http://127.0.0.1:3333/mcp\n\nClaude Code:  claude mcp add stackwright -- npx stackwright mcp\n",
    )
    .action(
      async (options: { http?: boolean; port: number; host: string; token?: string; workspace?: string }) => {
        const { runMcp } = await import("./mcp-actions.js");
        process.exitCode = await runMcp(io, options);
      },
    );
}
