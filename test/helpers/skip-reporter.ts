/**
 * Closing summary of the tests skipped because a program they need is missing: each test by name,
 * then each missing program with the command that installs it. Silent when nothing was skipped.
 */
import type { Reporter, TestModule } from "vitest/node";
import { findTool, missingToolMessage, TOOLS, type ToolInfo, type ToolName } from "../../src/util/tools.js";
import { NEEDS_MARKER } from "./tools.js";

/** The programs named in a skipped test's `[needs a, b]` marker. */
function needs(name: string): string[] {
  const start = name.indexOf(NEEDS_MARKER) + NEEDS_MARKER.length;
  return name.slice(start, name.indexOf("]", start)).split(", ");
}

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        if (test.result().state !== "skipped") continue;
        if (test.fullName.includes(NEEDS_MARKER))
          skipped.push(`${module.moduleId.split("/test/").pop()}: ${test.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    const absent = (Object.keys(TOOLS) as ToolName[]).filter(
      (name) => !findTool(name) && skipped.some((test) => needs(test).includes(name)),
    );
    const info = (name: ToolName): ToolInfo => TOOLS[name];
    const packages = [...new Set(absent.flatMap((name) => info(name).debianPackage ?? []))];
    const lines = [
      "",
      `Skipped ${skipped.length} test${skipped.length === 1 ? "" : "s"} because a program they need is missing:`,
      ...skipped.map((name) => `  - ${name}`),
      "Missing programs:",
      ...absent.map((name) => `  - ${missingToolMessage(name)}`),
      ...(packages.length > 0 ? [`Install them all: apt-get install -y ${packages.join(" ")}`] : []),
      "Under CI (CI=true) these tests fail instead of skipping.",
      "",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}
