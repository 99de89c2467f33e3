/**
 * What the edge cloud tests share (test/edge/cloud.test.ts on AWS, test/edge/azure.test.ts on Azure):
 * the fleet's signing keys, bundles built as CI builds them from platform/edge/, the rollout's rings,
 * and a device's answers on its socket.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { stringify } from "yaml";
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
