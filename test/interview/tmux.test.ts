import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { BIN, runCli } from "../helpers/cli.js";
import { describeWith, tool } from "../helpers/tools.js";

const tmux = (...args: string[]) => spawnSync(tool("tmux"), args, { encoding: "utf8" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWith(["tmux"], "the interview in a real terminal (tmux, 80x24)", () => {
  it("answers with send-keys and writes a spec that plans without errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sw-tmux-"));
    const spec = join(dir, "stackwright.yaml");
    const session = `sw-${process.pid}`;
    // CI=true: CI runners set it, and the interview must still draw every frame in a real terminal
    const command = `cd ${dir} && CI=true NO_COLOR=1 ${process.execPath} ${BIN} interview --out ${spec}; sleep 5`;
    expect(tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command).status).toBe(0);
    try {
      let screen = "";
      for (let i = 0; i < 100 && !screen.includes("What is the workload called?"); i++) {
        await sleep(100);
        screen = tmux("capture-pane", "-p", "-J", "-t", session).stdout;
      }
      expect(screen).toContain("What is the workload called?");
      expect(screen.split("\n").every((line) => line.length <= 80)).toBe(true);
      const waitFor = async (text: string) => {
        for (
          let i = 0;
          i < 100 && !tmux("capture-pane", "-p", "-J", "-t", session).stdout.includes(text);
          i++
        )
          await sleep(100);
        return tmux("capture-pane", "-p", "-J", "-t", session).stdout;
      };
      // type slowly, one key at a time, and only press Enter once the screen shows the whole name
      for (const ch of "tmux-scoring") {
        tmux("send-keys", "-t", session, "-l", ch);
        await sleep(20);
      }
      expect(await waitFor("> tmux-scoring")).toContain("> tmux-scoring");
      tmux("send-keys", "-t", session, "Enter");
      expect(await waitFor("Which team owns it?")).toContain("Which team owns it?");
      for (let i = 0; i < 60 && !existsSync(spec); i++) {
        tmux("send-keys", "-t", session, "Tab");
        await sleep(120);
      }
      for (let i = 0; i < 50 && !existsSync(spec); i++) await sleep(100);
      expect(existsSync(spec)).toBe(true);
      expect(readFileSync(spec, "utf8")).toContain("name: tmux-scoring");
      await sleep(300);
      // the whole scrollback: the summary is taller than 24 rows
      const final = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", session).stdout;
      expect(final).toMatch(/wrote .*stackwright\.yaml|serving\.mode|largest/);
    } finally {
      tmux("kill-session", "-t", session);
    }
    const plan = runCli(["plan", "--spec", spec, "--format", "json"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).spec.name).toBe("tmux-scoring");
  });
});
