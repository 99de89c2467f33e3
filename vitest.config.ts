import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    // a private TMPDIR for the run, removed at its end
    globalSetup: ["./test/helpers/tmp-setup.ts"],
    // the default output, then the tests skipped for a missing program (test/helpers/tools.ts)
    reporters: ["default", "./test/helpers/skip-reporter.ts"],
  },
});
