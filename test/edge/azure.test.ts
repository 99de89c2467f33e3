/**
 * The cloud side of an edge release on Azure, on loopback. Azurite (over HTTPS, with the test PKI's
 * server certificate) holds the release container and the IoT Hub's upload container. A stand-in for
 * IoT Hub's device-facing file upload API takes mutual TLS and authenticates a device as X.509
 * thumbprint authentication does: the certificate presented must have the SHA-256 thumbprint
 * registered for the device ID in the URL (self-signed certificates are accepted; the registry is the
 * trust). It grants each upload a SAS for one blob under the device's own ID, signed with the storage
 * key the hub holds. Devices
 * read channels and bundles with the fleet's read-only SAS of the release container, with the
 * permissions the generated Terraform's azurerm_storage_account_blob_container_sas gives it. The
 * release side runs the CLI as the workflow does, with the storage account's credentials: publish,
 * point canary, promote ring by ring on the status objects the devices uploaded through the hub; and
 * the generated edge-release.yml's steps run against the same stores.
 */
import { spawn } from "node:child_process";
import { randomUUID, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttps, request as httpsRequest } from "node:https";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates, type TLSSocket } from "node:tls";
import {
  BlobSASPermissions,
  BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readIdentity } from "../../src/edge/identity.js";
import { EdgeRunner } from "../../src/edge/runner.js";
import { AZURITE_ACCOUNT, AZURITE_KEY, type Azurite, startAzurite } from "../helpers/azurite.js";
import { ROOT, runCliAsync } from "../helpers/cli.js";
import { fleetKit, PKI, workflowRunner } from "./fleet.js";

type Any = Record<string, any>;
const work = mkdtempSync(join(tmpdir(), "sw-edge-azure-"));
const kit = fleetKit(work);
const { bundle, answer, sockets, publicKey } = kit;
const FLEET_CA = join(PKI, "fleet-ca.crt");
const RELEASES = `az://${AZURITE_ACCOUNT}/releases`;
const UPLOADS = `az://${AZURITE_ACCOUNT}/uploads`;
const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
/** the SHA-256 thumbprint of a certificate as IoT Hub takes it: hex, no colons */
const thumbprint = (file: string) =>
  new X509Certificate(readFileSync(join(PKI, file))).fingerprint256.replace(/:/g, "");
/** the devices the hub has registered (az iot hub device-identity create --am x509_thumbprint --ptp ...) */
const REGISTERED = new Map([
  ["line-1-pi-01", thumbprint("device-1.crt")],
  ["line-2-pi-01", thumbprint("device-2.crt")],
]);

let azurite: Azurite;
let hub: Server;
let hubHost = "";
let blobs: BlobServiceClient;
const uploadsOpen = new Map<string, string>();
const grants: Array<{ device: string; blob: string }> = [];
const notices: Array<{ device: string; isSuccess: boolean; statusCode: number }> = [];
const logs: string[] = [];

const sas = (o: { container: string; blob?: string; permissions: string }) =>
  generateBlobSASQueryParameters(
    {
      containerName: o.container,
      blobName: o.blob,
      permissions: o.blob
        ? BlobSASPermissions.parse(o.permissions)
        : ContainerSASPermissions.parse(o.permissions),
      startsOn: new Date(Date.now() - 300_000),
      expiresOn: new Date(Date.now() + 3_600_000),
      protocol: SASProtocol.Https,
    },
    credential,
  ).toString();

function body(req: import("node:http").IncomingMessage): Promise<Any> {
  return new Promise((done) => {
    let text = "";
    req.setEncoding("utf8").on("data", (c: string) => {
      text += c;
    });
    req.on("end", () => {
      try {
        done(JSON.parse(text));
      } catch {
        done({});
      }
    });
  });
}

/** the Azure example's generated tree (examples/weld-inspection.yaml) */
const tree = join(work, "weld-inspection");

beforeAll(async () => {
  const generated = await runCliAsync([
    "generate",
    "-s",
    join(ROOT, "examples/weld-inspection.yaml"),
    "-o",
    tree,
  ]);
  expect(generated.code, generated.stderr).toBe(0);
  const releasesTf = readFileSync(join(tree, "infra/terraform/azure/releases.tf"), "utf8");
  const block = /\n {2}permissions \{([^}]*)\}/.exec(releasesTf)![1]!;
  const letters: Record<string, string> = {
    read: "r",
    add: "a",
    create: "c",
    write: "w",
    delete: "d",
    list: "l",
  };
  readOnly.permissions = [...block.matchAll(/(\w+)\s*=\s*true/g)].map((m) => letters[m[1]!]!).join("");
  expect(readOnly.permissions).toBe("r");
  // the test's own Blob client trusts Azurite's certificate (the devices are given the CA in their identity)
  setDefaultCACertificates([...getCACertificates("default"), readFileSync(FLEET_CA, "utf8")]);
  azurite = await startAzurite(work, { cert: join(PKI, "server.crt"), key: join(PKI, "server.key") });
  blobs = new BlobServiceClient(azurite.endpoint, credential);
  await blobs.getContainerClient("releases").create();
  await blobs.getContainerClient("uploads").create();
  hub = createHttps(
    {
      key: readFileSync(join(PKI, "server.key")),
      cert: readFileSync(join(PKI, "server.crt")),
      requestCert: true,
      // a device's certificate may be self-signed: its registered thumbprint is what is trusted
      rejectUnauthorized: false,
    },
    async (req, res) => {
      const url = new URL(req.url!, "https://hub");
      const m = /^\/devices\/([^/]+)\/files(\/notifications)?$/.exec(url.pathname);
      const answer = (status: number, json?: unknown) =>
        res
          .writeHead(status, json ? { "content-type": "application/json" } : {})
          .end(json ? JSON.stringify(json) : undefined);
      if (!m || req.method !== "POST" || url.searchParams.get("api-version") !== "2021-04-12")
        return answer(404, { Message: "not found" });
      const device = decodeURIComponent(m[1]);
      const presented = (req.socket as TLSSocket).getPeerCertificate().fingerprint256?.replace(/:/g, "");
      if (!presented || REGISTERED.get(device) !== presented)
        return answer(401, { Message: "IotHubUnauthorizedAccess" });
      const asked = await body(req);
      if (!m[2]) {
        if (typeof asked.blobName !== "string") return answer(400, { Message: "blobName" });
        const blob = `${device}/${asked.blobName}`;
        const correlationId = randomUUID();
        uploadsOpen.set(correlationId, device);
        grants.push({ device, blob });
        return answer(200, {
          correlationId,
          hostName: `${azurite.host}/${AZURITE_ACCOUNT}`,
          containerName: "uploads",
          blobName: blob,
          sasToken: `?${sas({ container: "uploads", blob, permissions: "rcw" })}`,
        });
      }
      if (uploadsOpen.get(asked.correlationId) !== device) return answer(400, { Message: "correlationId" });
      uploadsOpen.delete(asked.correlationId);
      notices.push({ device, isSuccess: asked.isSuccess, statusCode: asked.statusCode });
      return answer(204);
    },
  );
  await new Promise<void>((r) => hub.listen(0, "127.0.0.1", r));
  hubHost = `127.0.0.1:${(hub.address() as { port: number }).port}`;
}, 60_000);

afterAll(() => {
  hub?.close();
  azurite?.stop();
});

function identityFile(certificate: string, deviceId: string, releasesSas = sas(readOnly)): string {
  const path = join(work, `${certificate}-${deviceId}.identity.json`);
  writeFileSync(join(work, `${deviceId}.sas`), releasesSas);
  writeFileSync(
    path,
    JSON.stringify({
      provider: "azure-iot-hub",
      hubHostName: `https://${hubHost}`,
      deviceId,
      certificate: join(PKI, `${certificate}.crt`),
      privateKey: join(PKI, `${certificate}.key`),
      ca: FLEET_CA,
      releasesSas: `${deviceId}.sas`,
      blobEndpoint: azurite.endpoint,
    }),
  );
  return path;
}
/** the devices' SAS: the permissions the generated Terraform grants them (its data source's permissions block) */
const readOnly = { container: "releases", permissions: "" };

/** The release workflow's environment: the storage account's credentials (the OIDC identity's in CI). */
const releaseEnv = () => ({
  AZURE_STORAGE_BLOB_ENDPOINT: azurite.endpoint,
  AZURE_STORAGE_KEY: AZURITE_KEY,
  NODE_EXTRA_CA_CERTS: FLEET_CA,
});
const rollout = kit.rollout();
const { release, promote, status } = kit.releaseCli({
  rollout,
  store: RELEASES,
  telemetry: UPLOADS,
  env: releaseEnv,
});

async function device(certificate: "device-1" | "device-2", id: string, ring: string): Promise<EdgeRunner> {
  const state = mkdtempSync(join(tmpdir(), "sw-ea-"));
  const runner = new EdgeRunner({
    publicKeyPem: kit.keys.publicKeyPem,
    state,
    socket: join(state, "s.sock"),
    device: id,
    identity: readIdentity(identityFile(certificate, id)),
    channel: `${RELEASES}/channels/${ring}.json`,
    uploadUrl: `iothub://${hubHost}/`,
    uploadIntervalMs: 3_600_000,
    pollIntervalMs: 3_600_000,
    healthChecks: 2,
    healthIntervalMs: 20,
    log: (line) => logs.push(`${id} ${line}`),
  });
  await runner.start();
  sockets.set(runner, join(state, "s.sock"));
  return runner;
}

/** One request as a device (or an intruder) would make it, its status back. */
function put(url: string, o: { cert?: string } = {}): Promise<number> {
  return new Promise((done, fail) => {
    const req = httpsRequest(
      url,
      {
        method: url.includes("/files") ? "POST" : "PUT",
        headers: { "x-ms-blob-type": "BlockBlob", "content-type": "application/json" },
        ca: readFileSync(FLEET_CA),
        ...(o.cert
          ? { cert: readFileSync(join(PKI, `${o.cert}.crt`)), key: readFileSync(join(PKI, `${o.cert}.key`)) }
          : {}),
      },
      (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      },
    );
    req.on("error", fail);
    req.end(JSON.stringify({ blobName: "status.json" }));
  });
}

describe("an edge fleet on Azure: IoT Hub identities, a release container, uploads through the hub", () => {
  it("refuses what a device may not do: write with the fleet's read SAS, upload as another device or with another certificate", async () => {
    const readSas = sas(readOnly);
    expect(await put(`${azurite.endpoint}/releases/channels/canary.json?${readSas}`)).toBe(403);
    expect(await put(`${azurite.endpoint}/uploads/line-2-pi-01/status.json?${readSas}`)).toBe(403);
    const files = (id: string) => `https://${hubHost}/devices/${id}/files?api-version=2021-04-12`;
    expect(await put(files("line-2-pi-01"), { cert: "device-1" })).toBe(401);
    expect(await put(files("line-1-pi-01"), { cert: "device-1" })).toBe(200);
    // a certificate of the same name that is not the registered one, or none at all
    expect(await put(files("line-1-pi-01"), { cert: "foreign" })).toBe(401);
    expect(await put(files("line-1-pi-01"))).toBe(401);
  });

  it("refuses, naming the flag, locations a device's identity does not serve", async () => {
    const id = identityFile("device-1", "line-1-pi-01");
    let r = await runCliAsync(["edge", "run", "--identity", id, "--upload", "s3://fleet/t", "--no-stdin"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AWS IoT identity/);
    r = await runCliAsync([
      "edge",
      "run",
      "--identity",
      id,
      "--upload",
      "https://t.example/v1",
      "--no-stdin",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/uploads through its hub: iothub:\/\/127\.0\.0\.1:\d+/);
    r = await runCliAsync(["edge", "run", "--channel", `${RELEASES}/channels/canary.json`, "--no-stdin"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/IoT Hub identity: pass --identity/);
    r = await runCliAsync([
      "edge",
      "status",
      "--rollout",
      rollout,
      "--store",
      "az://Bad/x",
      "--telemetry",
      UPLOADS,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--store must be s3:\/\/<bucket>\[\/<prefix>\] or az:\/\/<storage account>/);
    const bad = join(work, "bad.identity.json");
    writeFileSync(bad, JSON.stringify({ provider: "azure-iot-hub", deviceId: "a/b", hubHostName: "hub" }));
    r = await runCliAsync(["edge", "run", "--identity", bad, "--no-stdin"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/deviceId: an IoT Hub device ID/);
    expect(r.stderr).toMatch(/releasesSas/);
  });

  it("publishes, points canary, and promotes ring by ring on what the devices uploaded through the hub", async () => {
    const v1 = await bundle("1.0.0", 2);
    let r = await release("publish", v1, "--store", RELEASES);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1\.0\.0: published at az:\/\/devstoreaccount1\/releases\/bundles\/1\.0\.0\//);
    r = await release("publish", await bundle("1.0.0", 3), "--store", RELEASES);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/never replaced/);
    r = await promote("2026-12-04T00:00:00Z", "--ring", "canary", "--bundle-version", "1.0.0");
    expect(r.code, r.stderr).toBe(0);

    // both devices are newly enrolled: they run nothing until their ring's channel names a release
    const canary = await device("device-1", "line-1-pi-01", "canary");
    const site = await device("device-2", "line-2-pi-01", "site");
    try {
      // a device started with no bundle takes its first from its channel
      await canary.poll();
      expect(canary.version).toBe("1.0.0");
      expect(site.version).toBeUndefined();
      await answer(canary, 5);
      expect((await canary.flushTelemetry())!.left).toBe(0);
      await site.flushTelemetry();
      // the hub filed each upload under the device's own ID, and was told each went through
      const names: string[] = [];
      for await (const b of blobs.getContainerClient("uploads").listBlobsFlat()) names.push(b.name);
      expect(names).toContain("line-1-pi-01/status.json");
      expect(names.some((n) => /^line-1-pi-01\/telemetry\/line-1-pi-01-\d{12}\.json$/.test(n))).toBe(true);
      expect(names).toContain("line-2-pi-01/status.json");
      expect(grants.every((g) => g.blob.startsWith(`${g.device}/`))).toBe(true);
      expect(notices.length).toBeGreaterThanOrEqual(3);
      expect(notices.every((n) => n.isSuccess && n.statusCode === 201)).toBe(true);
      expect(uploadsOpen.size).toBe(1); // the one the refusal test opened by hand and never closed

      r = await promote("2026-12-04T06:00:00Z");
      let steps = JSON.parse(r.stdout).steps as Any[];
      expect(steps[0]).toMatchObject({ ring: "canary", state: "waiting", version: "1.0.0" });
      expect(steps[0].health).toMatchObject({ reporting: ["line-1-pi-01"], reverted: [], errorRate: 0 });
      r = await promote("2026-12-05T01:00:00Z");
      steps = JSON.parse(r.stdout).steps;
      expect(steps.map((s: Any) => [s.ring, s.state])).toEqual([
        ["canary", "current"],
        ["site", "promoted"],
        ["fleet", "waiting"],
      ]);
      await site.poll();
      expect(site.version).toBe("1.0.0");
      await answer(site, 3);
      await site.flushTelemetry();
      r = await promote("2026-12-06T02:00:00Z");
      steps = JSON.parse(r.stdout).steps;
      expect(steps[2]).toMatchObject({ ring: "fleet", state: "promoted", version: "1.0.0" });

      r = await status("--now", "2026-12-06T02:00:00Z", "--json");
      expect(r.code, r.stderr).toBe(0);
      const rings = JSON.parse(r.stdout).rings as Any[];
      expect(rings.map((x) => [x.ring, x.version, x.devices, x.running])).toEqual([
        ["canary", "1.0.0", 1, 1],
        ["site", "1.0.0", 1, 1],
        ["fleet", "1.0.0", 0, 0],
      ]);

      // a bad release: the canary reverts it, says so through the hub, and the gate halts
      const v2 = await bundle("2.0.0", 4, { width: 12 });
      expect((await release("publish", v2, "--store", RELEASES)).code).toBe(0);
      expect(
        (await promote("2026-12-07T00:00:00Z", "--ring", "canary", "--bundle-version", "2.0.0")).code,
      ).toBe(0);
      await canary.poll();
      expect(canary.version).toBe("1.0.0");
      await canary.flushTelemetry();
      r = await promote("2026-12-09T00:00:00Z");
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).steps[0].reason).toMatch(/reverted on line-1-pi-01/);
    } finally {
      await canary.close();
      await site.close();
    }
  }, 180_000);

  it("the generated release workflow's steps run against the stores: publish, point canary, the hourly promote", async () => {
    const { runJob, outputs, workflow } = workflowRunner(
      work,
      tree,
      ".github/workflows/edge-release.yml",
      {
        "vars.EDGE_BUNDLE_STORE": RELEASES,
        "vars.EDGE_TELEMETRY_STORE": UPLOADS,
        "vars.EDGE_PUBLIC_KEY": kit.keys.publicKeyPem.trim(),
        "secrets.EDGE_SIGNING_KEY": kit.keys.privateKeyPem.trim(),
        "inputs.bundle_version": "",
      },
      // azure/login's session, as the CLI's Blob client would use it: here the emulator's key
      releaseEnv(),
    );
    // the sign-in step is the federated identity's, with the variables the Terraform output fills
    const login = workflow.jobs.publish!.steps.find((st) => st.uses === "azure/login@v2")!;
    expect(login.with).toEqual({
      "client-id": "${{ vars.EDGE_RELEASE_CLIENT_ID }}",
      "tenant-id": "${{ vars.EDGE_RELEASE_TENANT_ID }}",
      "subscription-id": "${{ vars.EDGE_RELEASE_SUBSCRIPTION_ID }}",
    });
    const outputsTf = readFileSync(join(tree, "infra/terraform/azure/outputs.tf"), "utf8");
    for (const name of ["EDGE_RELEASE_CLIENT_ID", "EDGE_RELEASE_TENANT_ID", "EDGE_RELEASE_SUBSCRIPTION_ID"])
      expect(outputsTf).toContain(`"${name}"`);
    await runJob("publish");
    const version = outputs["steps.bundle.outputs.version"]!;
    const pointer = await blobs
      .getContainerClient("releases")
      .getBlobClient("channels/canary.json")
      .downloadToBuffer();
    expect(JSON.parse(pointer.toString("utf8"))).toMatchObject({ version, bundle: `../bundles/${version}/` });
    await runJob("promote");
  }, 180_000);

  it("edge run as a process: takes its ring's release with its identity and uploads through the hub until stopped", async () => {
    const state = mkdtempSync(join(tmpdir(), "sw-ea-cli-"));
    const since = notices.length;
    const child = spawn(
      process.execPath,
      [
        join(ROOT, "bin/stackwright.js"),
        "edge",
        "run",
        "--key",
        publicKey,
        "--identity",
        identityFile("device-2", "line-2-pi-01"),
        "--channel",
        `${RELEASES}/channels/site.json`,
        "--upload",
        `iothub://${hubHost}`,
        "--upload-interval-s",
        "1",
        "--health-checks",
        "2",
        "--health-interval-s",
        "0.1",
        "--state",
        state,
        "--no-stdin",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((done) => child.once("exit", done));
    try {
      // the site ring runs 1.0.0: the device swaps it in and reports it through the hub
      const deadline = Date.now() + 60_000;
      let after = -1;
      while (after < 0 || !notices.slice(after).some((n) => n.device === "line-2-pi-01" && n.isSuccess)) {
        if (Date.now() > deadline) throw new Error(`1.0.0 not run and reported within 60 s:\n${stderr}`);
        if (after < 0 && /1\.0\.0 is healthy: it runs now/.test(stderr)) after = notices.length;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(notices.length).toBeGreaterThan(since);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited, stderr).toBe(0);
    const status = await blobs
      .getContainerClient("uploads")
      .getBlobClient("line-2-pi-01/status.json")
      .downloadToBuffer();
    expect(JSON.parse(status.toString("utf8"))).toMatchObject({
      device: "line-2-pi-01",
      ring: "site",
      running: "1.0.0",
    });
  }, 120_000);
});
