/**
 * What the edge cloud tests share (test/edge/cloud.test.ts on AWS, test/edge/azure.test.ts on Azure):
 * the fleet's signing keys, bundles built as CI builds them from platform/edge/, the rollout's rings,
 * and a device's answers on its socket.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { parse, stringify } from "yaml";
import { generateSigningKeys } from "../../src/edge/bundle.js";
import { type EdgeRunner, HEALTH_REQUEST, socketRequest } from "../../src/edge/runner.js";
import { ROOT, runCliAsync } from "../helpers/cli.js";
import { writeModel } from "../serve/helpers.js";

/** The committed test PKI (make.sh beside it): a fleet CA, two devices, a server for 127.0.0.1. */
export const PKI = join(ROOT, "test/fixtures/edge-pki");
export const WIDTH = 8;
export const inferRequest = (v: number, width = WIDTH) => ({
  inputs: [{ name: "input", shape: [1, width], datatype: "FP32", data: Array(width).fill(v) }],
});

export function fleetKit(work: string) {
  const keys = generateSigningKeys();
  const publicKey = join(work, "fleet.pub");
  const privateKey = join(work, "fleet.key");
  writeFileSync(publicKey, keys.publicKeyPem);
  writeFileSync(privateKey, keys.privateKeyPem);
  const sockets = new Map<EdgeRunner, string>();
  return {
    keys,
    publicKey,
    privateKey,
    sockets,
    /** A bundle as CI builds it from platform/edge/: serve.yaml, one model (its input `width` wide). */
    async bundle(
      version: string,
      seed: number,
      o: { width?: number; name?: string; sequence?: number } = {},
    ): Promise<string> {
      const { width = WIDTH, name = "defects", sequence } = o;
      const from = mkdtempSync(join(work, "src-"));
      writeModel(join(from, "models"), "defects", "1", { layers: [width, 16, 1], seed, sigmoid: true });
      writeFileSync(
        join(from, "serve.yaml"),
        // in process under vitest the worker script is TypeScript with no .js beside it: batches run on the
        // event loop (the timed choice of `auto` may pick workers on a loaded machine)
        "models:\n  - name: defects\n    path: models/defects\ndevice: cpu\nplacement: event-loop\n",
      );
      writeFileSync(join(from, HEALTH_REQUEST), JSON.stringify(inferRequest(0.5)));
      const out = join(work, `bundle-${version}-${seed}`);
      const r = await runCliAsync([
        "edge",
        "bundle",
        "--from",
        from,
        "--out",
        out,
        "--name",
        name,
        "--bundle-version",
        version,
        ...(sequence === undefined ? [] : ["--sequence", String(sequence)]),
        "--key",
        privateKey,
      ]);
      expect(r.code, r.stderr).toBe(0);
      return out;
    },
    /** rollout.yaml with three rings: canary (1 device), site and fleet (2, cumulative) */
    rollout(): string {
      const path = join(work, "rollout.yaml");
      const gate = { maxErrorRate: 0.05, maxP99Ms: 1000 };
      writeFileSync(
        path,
        stringify({
          apiVersion: "stackwright.dev/v1",
          kind: "EdgeRollout",
          bundle: "defects",
          channel: "channels/{ring}.json",
          device: {},
          rings: [
            { name: "canary", devices: 1, soakHours: 24, gate },
            { name: "site", devices: 2, soakHours: 24, gate },
            { name: "fleet", devices: 2, soakHours: 0, gate },
          ],
        }),
      );
      return path;
    },
    /**
     * The release commands as the workflow runs them, in the release environment `env` (read at each
     * call: a server's endpoint is known only once it listens) against the two stores.
     */
    releaseCli(o: { rollout: string; store: string; telemetry: string; env: () => Record<string, string> }) {
      const release = (...args: string[]) =>
        runCliAsync(["edge", ...args, "--key", publicKey], { env: o.env() });
      const stores = ["--rollout", o.rollout, "--store", o.store, "--telemetry", o.telemetry];
      return {
        release,
        /** edge promote at `now`, --json */
        promote: (now: string, ...args: string[]) =>
          release("promote", ...stores, "--now", now, "--json", ...args),
        /** edge status (it takes no key) */
        status: (...args: string[]) => runCliAsync(["edge", "status", ...stores, ...args], { env: o.env() }),
      };
    },
    /** `times` answers from a running device, each 200 */
    async answer(runner: EdgeRunner, times: number): Promise<void> {
      for (let i = 0; i < times; i++)
        expect(
          (
            await socketRequest(
              sockets.get(runner)!,
              "POST",
              "/v2/models/defects/infer",
              inferRequest(i / 10),
            )
          ).status,
        ).toBe(200);
    },
  };
}

/** A process run to its end without blocking the loop (servers in the test's process answer it). */
export function runProcess(
  command: string,
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: o.cwd, env: o.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/**
 * A generated workflow's jobs run as GitHub runs their `run` steps (bash -e, the job's and step's env
 * with `${{ ... }}` from `values` and earlier steps' outputs, RUNNER_TEMP, GITHUB_OUTPUT); `uses`
 * steps (checkout, setup-node, the cloud sign-in) are the environment the caller passes instead.
 * `npx --package <spec> stackwright` runs this checkout's CLI.
 */
export function workflowRunner(
  work: string,
  tree: string,
  workflowFile: string,
  values: Record<string, string>,
  env: Record<string, string>,
) {
  const workflow = parse(readFileSync(join(tree, workflowFile), "utf8")) as {
    jobs: Record<string, { env?: Record<string, string>; steps: Array<Record<string, any>> }>;
  };
  const shim = mkdtempSync(join(work, "bin-"));
  writeFileSync(
    join(shim, "npx"),
    `#!/bin/sh\nwhile [ "$1" != stackwright ]; do shift; done\nshift\nexec "${process.execPath}" "${join(ROOT, "bin/stackwright.js")}" "$@"\n`,
    { mode: 0o755 },
  );
  const outputs: Record<string, string> = {};
  const expand = (v: string) =>
    v.replace(/\$\{\{ ([\w.-]+) \}\}/g, (_, name: string) => {
      const value = values[name] ?? outputs[name];
      if (value === undefined) throw new Error(`the workflow reads ${name}, which the test does not set`);
      return value;
    });
  return {
    workflow,
    outputs,
    /** runs a job's `run` steps; its RUNNER_TEMP */
    async runJob(name: string): Promise<string> {
      const job = workflow.jobs[name]!;
      const temp = mkdtempSync(join(work, "runner-"));
      for (const step of job.steps) {
        if (!step.run) continue;
        const output = join(temp, `output-${step.id ?? "step"}`);
        writeFileSync(output, "");
        const stepEnv: Record<string, string> = {
          ...(process.env as Record<string, string>),
          ...env,
          PATH: `${shim}:${process.env.PATH}`,
          RUNNER_TEMP: temp,
          GITHUB_OUTPUT: output,
          GITHUB_RUN_NUMBER: "41",
          GITHUB_RUN_ATTEMPT: "1",
        };
        for (const [k, v] of Object.entries({ ...job.env, ...step.env })) stepEnv[k] = expand(String(v));
        const r = await runProcess("bash", ["-e", "-o", "pipefail", "-c", step.run], {
          cwd: tree,
          env: stepEnv,
        });
        expect(r.code, `${name}: ${step.name}\n${r.stderr}`).toBe(0);
        for (const line of readFileSync(output, "utf8").split("\n").filter(Boolean)) {
          const [k, ...v] = line.split("=");
          outputs[`steps.${step.id}.outputs.${k}`] = v.join("=");
        }
      }
      return temp;
    },
  };
}
