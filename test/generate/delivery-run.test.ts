/**
 * The shadow-first release, run: the gate script deploy.yml generates runs (bash, curl, jq) against a
 * real `stackwright serve` holding a production version and a shadow candidate, as the production
 * job runs it after `kubectl port-forward` (a stand-in kubectl that only forwards nothing: the server
 * listens on the forwarded port itself). It passes for a candidate that agrees with production, fails
 * for one that does not, and the promotion it then applies (routing.canaryWeight 100 in serve.yaml)
 * sends every request to the candidate.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { generateAll } from "../../src/generate/index.js";
import { planSpecFile } from "../../src/plan/index.js";
import { describeWith, tool } from "../helpers/tools.js";
import { modelsDir, post, row, withServe, writeModel } from "../serve/helpers.js";

const SMALL = { layers: [8, 16, 1], sigmoid: true, seed: 1 };

async function shadowGate(): Promise<{
  run: string;
  env: Record<string, string>;
  params: Record<string, unknown>;
}> {
  const dir = mkdtempSync(join(tmpdir(), "sw-shadow-spec-"));
  const path = join(dir, "stackwright.yaml");
  writeFileSync(
    path,
    "metadata: { name: m }\nteam: { size: 6 }\ninference: { peakQps: 200, latencyP99Ms: 80 }\ndeployment: { strategy: shadow }\n",
  );
  const { plan } = await planSpecFile(path);
  const deploy = parseYaml(String(generateAll(plan)[".github/workflows/deploy.yml"]));
  const steps = deploy.jobs["deploy-production"].steps as Array<{
    name?: string;
    run?: string;
    env?: Record<string, string>;
  }>;
  const gate = steps.find((s) => s.name?.startsWith("Gate: the shadow's answers agree"))!;
  expect(steps.find((s) => s.name?.startsWith("Promote:"))!.run).toContain(
    "--set serveConfig.routing.canaryWeight=100",
  );
  return {
    run: gate.run!,
    env: gate.env!,
    params: plan.decisions.find((d) => d.capability === "deployment.strategy")!.params,
  };
}

/** A PATH whose kubectl does nothing (the port-forward the gate starts) and whose curl/jq are real. */
function stubPath(): string {
  const bin = mkdtempSync(join(tmpdir(), "sw-stub-bin-"));
  writeFileSync(join(bin, "kubectl"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(bin, "kubectl"), 0o755);
  for (const name of ["curl", "jq"] as const) spawnSync("ln", ["-s", tool(name), join(bin, name)]);
  return `${bin}:${process.env.PATH}`;
}

describeWith(["jq", "curl"], "a shadow-first release, run", () => {
  const body = { inputs: [{ name: "input", shape: [1, 8], datatype: "FP32", data: row(1, 8) }] };

  const runGate = async (candidateSeed: number) => {
    const gate = await shadowGate();
    const dir = modelsDir();
    writeModel(dir, "m", "1", SMALL);
    writeModel(dir, "m", "2", { ...SMALL, seed: candidateSeed }, "stage: staging\nshadow: true\n");
    const minCompared = Number(gate.params.minCompared);
    let result = { status: -1, out: "" };
    await withServe(["--models", dir, "--device", "cpu"], async (s) => {
      for (let i = 0; i < minCompared; i += 50)
        await Promise.all(Array.from({ length: 50 }, () => post(`${s.url}/v2/models/m/infer`, body)));
      const port = new URL(s.url).port;
      const child = spawnSync("bash", ["-e", "-c", gate.run], {
        encoding: "utf8",
        env: { ...process.env, PATH: stubPath(), LOCAL_PORT: port, SERVE_TOKEN: "" },
        timeout: 120_000,
      });
      result = { status: child.status ?? -1, out: child.stdout + child.stderr };
    });
    return result;
  };

  it("the gate passes a candidate that agrees with production", { timeout: 180_000 }, async () => {
    const { status, out } = await runGate(1);
    expect(status, out).toBe(0);
    expect(out).toMatch(/"compared": \d{4}/);
  });

  it("the gate stops a candidate that disagrees", { timeout: 180_000 }, async () => {
    const { status, out } = await runGate(8);
    expect(status, out).toBe(1);
    expect(out).toContain("::error::the shadow disagrees with production");
  });

  it("the promotion routes every request to the candidate", { timeout: 60_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), "sw-promote-"));
    const dir = join(root, "models");
    mkdirSync(dir);
    writeModel(dir, "m", "1", SMALL);
    writeModel(dir, "m", "2", { ...SMALL, seed: 8 }, "stage: staging\nshadow: true\n");
    writeFileSync(
      join(root, "serve.yaml"),
      stringify({
        models: [{ name: "m", path: "models/m" }],
        device: "cpu",
        routing: { shadow: true, canaryWeight: 100 },
      }),
    );
    await withServe(["--config", join(root, "serve.yaml")], async (s) => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => post(`${s.url}/v2/models/m/infer`, body)),
      );
      expect(answers.map((a) => a.body.model_version)).toEqual(answers.map(() => "2"));
    });
  });
});
