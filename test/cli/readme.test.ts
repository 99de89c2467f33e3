/**
 * The README is part of the interface: every example command in it must name a real command and
 * only flags that command accepts, and every command the CLI has must have an example there.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** `npx stackwright ...` lines of the README's sh blocks, continuations joined, comments dropped. */
function exampleCommands(): string[][] {
  const commands: string[][] = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1].replace(/\\\n\s*/g, " ").split("\n");
    for (const line of lines) {
      const at = line.indexOf("npx stackwright ");
      if (at < 0) continue;
      const tokens =
        line
          .slice(at + "npx stackwright ".length)
          .replace(/\s#\s.*$/, "")
          .match(/'[^']*'|"[^"]*"|\S+/g) ?? [];
      const end = tokens.findIndex((t) => [">", "|", "&&", ";"].includes(t));
      commands.push(end < 0 ? tokens : tokens.slice(0, end));
    }
  }
  return commands;
}

const topLevel = (): string[] => {
  const help = runCli(["--help"]).stdout;
  const section = help.slice(help.indexOf("Commands:"));
  return [...section.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((c) => c !== "help");
};

describe("README examples", () => {
  const commands = exampleCommands();
  const helpCache = new Map<string, string>();
  const helpOf = (path: string[]): string => {
    const key = path.join(" ");
    if (!helpCache.has(key)) {
      const result = runCli([...path, "--help"]);
      expect(result.code, `stackwright ${key} --help: ${result.stderr}`).toBe(0);
      helpCache.set(key, result.stdout);
    }
    return helpCache.get(key)!;
  };

  it("are found (the extraction itself works)", () => {
    expect(commands.length).toBeGreaterThan(20);
    expect(commands.some((c) => c[0] === "consume" && c.includes("--source"))).toBe(true);
  });

  it("name real commands and only flags those commands accept", () => {
    const problems: string[] = [];
    for (const tokens of commands) {
      const path = [tokens[0]];
      // a command with subcommands (rules lint) lists them in its help
      if (
        tokens[1] &&
        /^[a-z]+$/.test(tokens[1]) &&
        new RegExp(`^ {2}${tokens[1]}\\b`, "m").test(helpOf(path))
      )
        path.push(tokens[1]);
      const help = helpOf(path);
      for (const flag of tokens.filter((t) => t.startsWith("--"))) {
        const name = flag.split("=")[0];
        if (!new RegExp(`(^|[\\s,])${name}\\b`, "m").test(help))
          problems.push(`stackwright ${path.join(" ")}: ${name} is not in its --help`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("cover every command the CLI has", () => {
    const commandsInReadme = new Set(commands.map((c) => c[0]));
    const missing = topLevel().filter((c) => !commandsInReadme.has(c) && c !== "start");
    expect(topLevel().length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
    // `start` is documented as `npm start`
    expect(readme).toContain("npm ci && npm start");
  });
});
