import { describe, expect, it } from "vitest";
import { GENERATED_HEADER } from "../../src/fileset/index.js";
import { formatValidationProblem, validateFileSet } from "../../src/validate/index.js";

const header = `# ${GENERATED_HEADER}\n`;
const workflow = (steps: string) =>
  `${header}name: ci\non: [issues]\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`;

describe("generated workflows go through actionlint", () => {
  it("reports untrusted input in a script and an action too old for the runners, with their lines", async () => {
    const files = {
      // HCL first: its Go runtime points globalThis.fs at Node's fs, which once deadlocked actionlint
      "main.tf": `${header}resource "null_resource" "x" {}\n`,
      ".github/workflows/ci.yml": workflow(
        "      - uses: actions/checkout@v1\n      - run: echo ${{ github.event.issue.title }}\n",
      ),
    };
    const problems = (await validateFileSet(files)).filter((p) => p.validator === "actionlint");
    const lines = problems.map(formatValidationProblem);
    expect(lines.some((l) => /ci\.yml:\d+: \[actionlint\] .*actions\/checkout@v1.*too old/.test(l))).toBe(
      true,
    );
    expect(
      lines.some((l) => /\[actionlint\] "github\.event\.issue\.title" is potentially untrusted/.test(l)),
    ).toBe(true);
    expect(problems.every((p) => typeof p.line === "number" && p.line > 0)).toBe(true);
  });

  it("a clean workflow has no findings", async () => {
    const files = {
      ".github/workflows/ci.yml": workflow(
        '      - uses: actions/checkout@v4\n      - env:\n          TITLE: ${{ github.event.issue.title }}\n        run: echo "$TITLE"\n',
      ),
    };
    expect((await validateFileSet(files)).filter((p) => p.validator === "actionlint")).toEqual([]);
  });
});
