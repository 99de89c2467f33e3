import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttp, request as httpRequest, type Server } from "node:http";
import { createServer as createHttps } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsDeviceIdentity,
  type DeviceIdentity,
  iotCredentials,
  readIdentity,
} from "../../src/edge/identity.js";
import { EdgeRunner } from "../../src/edge/runner.js";
import { ROOT, runCliAsync } from "../helpers/cli.js";
import { fleetKit, PKI, WIDTH, workflowRunner } from "./fleet.js";

type Any = Record<string, any>;
const work = mkdtempSync(join(tmpdir(), "sw-edge-cloud-"));
const kit = fleetKit(work);
const { keys: KEYS } = kit;

let s3: S3rver;
let proxy: Server;
let credentialsServer: Server;
let storeEndpoint = "";
let credentialsEndpoint = "";
/**
 * session tokens the stand-in issued, with the thing each was issued to (s3rver knows one key pair,
 * S3RVER: the temporary credentials differ by their session token); no token is the release workflow
 */
const issued = new Map<string, string>([["", "release-workflow"]]);
const exchanges: string[] = [];
const requests: Array<{ method: string; path: string; by: string }> = [];
const refused: string[] = [];
const logs: string[] = [];

beforeAll(async () => {
  s3 = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: join(work, "s3rver"),
    configureBuckets: [
      { name: "fleet-bundles", configs: [] },
      { name: "fleet-telemetry", configs: [] },
    ],
  });
  const s3Address = await s3.run();
  // the store as devices see it: every request must carry credentials the exchange issued
  proxy = createHttp((req, res) => {
    const akid = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ""))?.[1] ?? "";
    const by = issued.get(String(req.headers["x-amz-security-token"] ?? ""));
    if (!by || akid !== "S3RVER") {
      refused.push(`${req.method} ${req.url}`);
      res
        .writeHead(403, { "content-type": "application/xml" })
        .end("<Error><Code>AccessDenied</Code></Error>");
      return;
    }
    requests.push({ method: req.method!, path: req.url!, by });
    const upstream = httpRequest(
      { host: "127.0.0.1", port: s3Address.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  storeEndpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  // the IoT credentials provider: mutual TLS with the fleet CA, the thing name must be the certificate's
  credentialsServer = createHttps(
    {
      key: readFileSync(join(PKI, "server.key")),
      cert: readFileSync(join(PKI, "server.crt")),
      ca: readFileSync(join(PKI, "fleet-ca.crt")),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
      const thing = req.headers["x-amzn-iot-thingname"];
      if (req.url !== "/role-aliases/line-defects-devices/credentials" || thing !== cn) {
        res.writeHead(403, { "content-type": "application/json" }).end('{"message":"Access Denied"}');
        return;
      }
      exchanges.push(String(thing));
      const token = `token-${exchanges.length}-for-${thing}`;
      issued.set(token, String(thing));
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          credentials: {
            accessKeyId: "S3RVER",
            secretAccessKey: "S3RVER",
            sessionToken: token,
            expiration: new Date(Date.now() + 3_600_000).toISOString(),
          },
        }),
      );
    },
  );
  await new Promise<void>((r) => credentialsServer.listen(0, "127.0.0.1", r));
  credentialsEndpoint = `https://127.0.0.1:${(credentialsServer.address() as { port: number }).port}`;
});

afterAll(async () => {
  proxy?.close();
  credentialsServer?.close();
  await s3?.close();
});

function identityFile(device: string, thingName: string, extra: Partial<DeviceIdentity> = {}): string {
  const path = join(work, `${device}-${thingName}.identity.json`);
  writeFileSync(
    path,
    JSON.stringify({
      provider: "aws-iot",
      credentialsEndpoint,
      roleAlias: "line-defects-devices",
      thingName,
      region: "eu-west-1",
      certificate: join(PKI, `${device}.crt`),
      privateKey: join(PKI, `${device}.key`),
      ca: join(PKI, "fleet-ca.crt"),
      s3Endpoint: storeEndpoint,
      ...extra,
    }),
  );
  return path;
}

/** The release workflow's environment: its own credentials (the OIDC role's), the store's endpoint. */
const releaseEnv = () => ({
  AWS_ENDPOINT_URL_S3: storeEndpoint,
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_REGION: "eu-west-1",
});
const STORE = "s3://fleet-bundles";
const TELEMETRY = "s3://fleet-telemetry";
const rollout = kit.rollout();
const { release, promote, status } = kit.releaseCli({
  rollout,
  store: STORE,
  telemetry: TELEMETRY,
  env: releaseEnv,
});

async function device(
  name: "device-1" | "device-2",
  thing: string,
  ring: string,
  /** the bundle it starts with; none: a newly enrolled device, which takes its first from its channel */
  first?: string,
): Promise<EdgeRunner> {
  const state = mkdtempSync(join(tmpdir(), "sw-ec-"));
  const runner = new EdgeRunner({
    bundle: first,
    publicKeyPem: KEYS.publicKeyPem,
    state,
    socket: join(state, "s.sock"),
    device: thing,
    identity: readIdentity(identityFile(name, thing)),
    channel: `${STORE}/channels/${ring}.json`,
    uploadUrl: TELEMETRY,
    uploadIntervalMs: 3_600_000,
    pollIntervalMs: 3_600_000,
    healthChecks: 2,
    healthIntervalMs: 20,
    log: (line) => logs.push(`${thing} ${line}`),
  });
  await runner.start();
  sockets.set(runner, join(state, "s.sock"));
  return runner;
}

const { bundle, answer, sockets } = kit;

describe("a device's identity", () => {
  it("exchanges its certificate for credentials, kept until they near expiry", async () => {
    const before = exchanges.length;
    const get = iotCredentials(readIdentity(identityFile("device-1", "line-1-pi-01")) as AwsDeviceIdentity);
    const first = await get();
    expect(first.sessionToken).toMatch(/^token-\d+-for-line-1-pi-01$/);
    expect((await get()).sessionToken).toBe(first.sessionToken);
    expect(exchanges.length).toBe(before + 1);
  });

  it("is refused with another CA's certificate, or under a thing name that is not its certificate's", async () => {
    await expect(
      iotCredentials(readIdentity(identityFile("foreign", "line-1-pi-01")) as AwsDeviceIdentity)(),
    ).rejects.toThrow(/127\.0\.0\.1/);
    await expect(
      iotCredentials(readIdentity(identityFile("device-1", "line-2-pi-01")) as AwsDeviceIdentity)(),
    ).rejects.toThrow(/refused line-2-pi-01's certificate: 403/);
  });

  it("an identity file with a bad field is refused naming it; --device must be the identity's thing", async () => {
    const bad = join(work, "bad.identity.json");
    writeFileSync(bad, JSON.stringify({ provider: "aws-iot", thingName: "a b", region: "mars" }));
    const r = await runCliAsync(["edge", "run", "--identity", bad, "--allow-unsigned", "--no-stdin"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/thingName: an IoT thing name/);
    expect(r.stderr).toMatch(/region: an AWS region/);
    expect(r.stderr).toMatch(/credentialsEndpoint/);
    const other = await runCliAsync([
      "edge",
      "run",
      "--identity",
      identityFile("device-1", "line-1-pi-01"),
      "--device",
      "line-2-pi-01",
      "--no-stdin",
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--device line-2-pi-01 is not the identity's device \(line-1-pi-01\)/);
    const unsigned = await runCliAsync([
      "edge",
      "run",
      "--channel",
      `${STORE}/channels/canary.json`,
      "--no-stdin",
    ]);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toMatch(/pass --identity/);
  });
});

describe("a release, ring by ring", () => {
  it("publishes a version once, moves the rings on the devices' health, and halts on a revert", async () => {
    const v0 = await bundle("0.9.0", 1);
    const v1 = await bundle("1.0.0", 2);
    // publish: once; the same bundle again is fine; other content under that version is refused
    let r = await release("publish", v1, "--store", STORE);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1\.0\.0: published at s3:\/\/fleet-bundles\/bundles\/1\.0\.0\//);
    r = await release("publish", v1, "--store", STORE);
    expect(r.stdout).toMatch(/already published/);
    r = await release("publish", await bundle("1.0.0", 3), "--store", STORE);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/never replaced/);
    // a bundle signed with another key is not published
    const otherKey = generateKeyPairSync("ed25519").publicKey.export({
      type: "spki",
      format: "pem",
    }) as string;
    writeFileSync(join(work, "other.pub"), otherKey);
    r = await runCliAsync(["edge", "publish", v1, "--store", STORE, "--key", join(work, "other.pub")], {
      env: releaseEnv(),
    });
    expect(r.code).toBe(1);
    // nothing is promoted yet
    r = await promote("2026-12-04T00:00:00Z");
    expect(JSON.parse(r.stdout).steps[0]).toMatchObject({ ring: "canary", state: "empty" });

    r = await promote("2026-12-04T00:00:00Z", "--ring", "canary", "--bundle-version", "1.0.0");
    expect(r.code, r.stderr).toBe(0);
    r = await promote("2026-12-04T00:00:00Z", "--ring", "canary", "--bundle-version", "7.7.7");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/7\.7\.7 is not published/);

    const canary = await device("device-1", "line-1-pi-01", "canary", v0);
    // the site device is newly enrolled: it runs nothing until its ring's channel names a release
    const site = await device("device-2", "line-2-pi-01", "site");
    try {
      // the canary device takes 1.0.0 from the store with its own credentials; the site device waits
      await canary.poll();
      await site.poll();
      expect(canary.version).toBe("1.0.0");
      expect(site.version).toBeUndefined();
      const byDevice = requests.filter((q) => q.by === "line-1-pi-01").map((q) => q.path);
      expect(byDevice.some((p) => p.includes("/fleet-bundles/bundles/1.0.0/manifest.json"))).toBe(true);
      expect(refused).toEqual([]);
      await answer(canary, 5);
      expect((await canary.flushTelemetry())!.left).toBe(0);
      await site.flushTelemetry();
      const writes = requests.filter((q) => q.method === "PUT" && q.by === "line-1-pi-01").map((q) => q.path);
      expect(
        writes.some((p) => /^\/fleet-telemetry\/telemetry\/line-1-pi-01\/line-1-pi-01-\d{12}\.json/.test(p)),
      ).toBe(true);
      expect(writes.some((p) => p.startsWith("/fleet-telemetry/status/line-1-pi-01.json"))).toBe(true);

      // soaking: nothing moves; after the soak, the site ring gets 1.0.0
      r = await promote("2026-12-04T06:00:00Z");
      expect(r.code, r.stderr).toBe(0);
      let steps = JSON.parse(r.stdout).steps as Any[];
      expect(steps[0]).toMatchObject({ ring: "canary", state: "waiting", version: "1.0.0" });
      expect(steps[0].reason).toMatch(/soaking until 2026-12-05T00:00:00.000Z/);
      expect(steps[0].health).toMatchObject({ reporting: ["line-1-pi-01"], reverted: [], errorRate: 0 });
      expect(steps[0].health.answers).toBeGreaterThanOrEqual(5);
      r = await promote("2026-12-05T01:00:00Z");
      steps = JSON.parse(r.stdout).steps;
      expect(steps.map((s: Any) => [s.ring, s.state])).toEqual([
        ["canary", "current"],
        ["site", "promoted"],
        ["fleet", "waiting"],
      ]);
      await site.poll();
      expect(site.version).toBe("1.0.0");
      // the site ring counts both devices: it waits until the second reported 1.0.0
      r = await promote("2026-12-06T02:00:00Z");
      steps = JSON.parse(r.stdout).steps;
      expect(steps[1]).toMatchObject({ ring: "site", state: "waiting" });
      expect(steps[1].reason).toMatch(/1 of 2 devices reported 1\.0\.0/);
      await answer(site, 3);
      await site.flushTelemetry();
      r = await promote("2026-12-06T02:00:00Z");
      steps = JSON.parse(r.stdout).steps;
      expect(steps[2]).toMatchObject({ ring: "fleet", state: "promoted", version: "1.0.0" });

      // 2.0.0 takes another input width: its health request fails, the canary reverts and says so
      const v2 = await bundle("2.0.0", 4, { width: WIDTH + 4 });
      expect((await release("publish", v2, "--store", STORE)).code).toBe(0);
      expect(
        (await promote("2026-12-07T00:00:00Z", "--ring", "canary", "--bundle-version", "2.0.0")).code,
      ).toBe(0);
      await canary.poll();
      expect(canary.version).toBe("1.0.0");
      await canary.flushTelemetry();
      r = await promote("2026-12-09T00:00:00Z");
      expect(r.code).toBe(1);
      steps = JSON.parse(r.stdout).steps;
      expect(steps[0]).toMatchObject({ ring: "canary", state: "halted", version: "2.0.0" });
      expect(steps[0].reason).toMatch(/reverted on line-1-pi-01/);
      expect(logs).toContain("line-1-pi-01 2.0.0 failed 2 health checks in a row: back to 1.0.0");
      expect(steps[1]).toMatchObject({ ring: "site", state: "waiting", version: "1.0.0" });
      // every device request carried the credentials its own certificate got
      expect(refused).toEqual([]);
      expect(new Set(requests.map((q) => q.by))).toEqual(
        new Set(["release-workflow", "line-1-pi-01", "line-2-pi-01"]),
      );
    } finally {
      await canary.close();
      await site.close();
    }
  }, 180_000);

  it("halts a ring whose devices report too many failed answers, or a p99 over the gate", async () => {
    const { openObjectStore } = await import("../../src/serve/object-store.js");
    const { LATENCY_BOUNDS_MS, emptyStats } = await import("../../src/edge/telemetry.js");
    const v3 = await bundle("3.0.0", 5);
    expect((await release("publish", v3, "--store", STORE)).code).toBe(0);
    expect(
      (await promote("2026-12-10T00:00:00Z", "--ring", "canary", "--bundle-version", "3.0.0")).code,
    ).toBe(0);
    const telemetry = await openObjectStore(
      { scheme: "s3", bucket: "fleet-telemetry", key: "" },
      { ...process.env, ...releaseEnv() },
    );
    const report = async (answers: number, errors: number, slowest: number) => {
      const stats = emptyStats();
      stats.answers = answers;
      stats.errors = errors;
      stats.latency[LATENCY_BOUNDS_MS.indexOf(5)] = answers - 2;
      stats.latency[LATENCY_BOUNDS_MS.findIndex((b) => b >= slowest)] += 2;
      const status = {
        device: "line-9-pi-01",
        ring: "canary",
        running: "3.0.0",
        failed: [],
        versions: { "3.0.0": stats },
        at: new Date().toISOString(),
      };
      await telemetry.put("status/line-9-pi-01.json", Buffer.from(JSON.stringify(status)));
    };
    await report(100, 10, 5);
    let r = await promote("2026-12-12T00:00:00Z");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).steps[0].reason).toBe("10.00% of 100 answers failed (gate: 5%)");
    // two slow answers in 100: the 99th falls in their bucket, 2,000 ms against a 1,000 ms gate
    await report(100, 0, 2000);
    r = await promote("2026-12-12T00:00:00Z");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).steps[0].reason).toBe("p99 up to 2000 ms (gate: 1000 ms)");
    // the human-readable form names the ring, its state and the figures
    r = await release(
      "promote",
      "--rollout",
      rollout,
      "--store",
      STORE,
      "--telemetry",
      TELEMETRY,
      "--now",
      "2026-12-12T00:00:00Z",
    );
    expect(r.stdout).toMatch(/^canary\s+halted\s+3\.0\.0\s+p99 up to 2000 ms/m);
  }, 60_000);

  it("edge status shows the fleet ring by ring: the version, who runs it, who went quiet, its health", async () => {
    let r = await status("--json");
    expect(r.code, r.stderr).toBe(0);
    const rings = JSON.parse(r.stdout).rings as Any[];
    expect(rings.map((x) => [x.ring, x.version, x.devices, x.running])).toEqual([
      ["canary", "3.0.0", 2, 1],
      ["site", "1.0.0", 1, 1],
      ["fleet", "1.0.0", 0, 0],
    ]);
    expect(rings[0].health).toMatchObject({ reporting: ["line-9-pi-01"], reverted: [], p99Ms: 2000 });
    expect(rings.every((x) => x.stale.length === 0)).toBe(true);
    // two days on, with no new status: every device is quiet
    const later = new Date(Date.now() + 48 * 3_600_000).toISOString();
    r = await status("--now", later, "--stale-after-h", "24");
    expect(r.stdout).toMatch(
      /^canary\s+3\.0\.0\s+1\/2 device\(s\) run it, 2 quiet for 24 h \(line-1-pi-01, line-9-pi-01\)/m,
    );
    expect(r.stdout).toMatch(/^site\s+1\.0\.0\s+1\/1 device\(s\) run it, 1 quiet for 24 h \(line-2-pi-01\)/m);
    expect((await status("--stale-after-h", "0")).code).toBe(2);
  }, 60_000);
});

describe("the generated cloud side", () => {
  const out = join(work, "line-defects");
  let generated = false;
  const generate = async () => {
    if (generated) return;
    const r = await runCliAsync(["generate", "-s", join(ROOT, "examples/line-defects.yaml"), "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    generated = true;
  };

  /** The IAM resources of a policy statement (by its sid) of a generated file, as key regexes for a thing. */
  function statementKeys(file: string, sid: string, bucket: string): (thing: string) => RegExp[] {
    const text = readFileSync(join(out, "infra/terraform/aws", file), "utf8");
    const block = text.slice(text.indexOf(`sid     = "${sid}"`));
    const list = block.slice(
      block.indexOf("resources = ["),
      block.indexOf("]", block.indexOf("resources = [")),
    );
    const arns = [...list.matchAll(/"\$\{aws_s3_bucket\.(\w+)\.arn\}\/([^"]+)"/g)].filter(
      (m) => m[1] === bucket,
    );
    expect(arns.length, `${sid} in ${file}`).toBeGreaterThan(0);
    return (thing) =>
      arns.map(
        (m) =>
          new RegExp(
            `^${m[2]!
              .replace("$${credentials-iot:ThingName}", thing)
              .replace(/[.+?^()|[\]\\]/g, "\\$&")
              .replace(/\*/g, ".*")}$`,
          ),
      );
  }

  it("the devices' IAM policy allows exactly what the devices did: their own telemetry, the releases", async () => {
    await generate();
    const own = statementKeys("devices.tf", "WriteOwnTelemetry", "telemetry");
    const releases = statementKeys("devices.tf", "ReadReleases", "bundles")("");
    const things = ["line-1-pi-01", "line-2-pi-01"];
    const deviceRequests = requests.filter((q) => things.includes(q.by));
    expect(deviceRequests.length).toBeGreaterThan(0);
    for (const q of deviceRequests) {
      const [, bucket, ...rest] = decodeURIComponent(q.path.split("?")[0]!).split("/");
      const key = rest.join("/");
      if (q.method === "PUT") {
        expect(bucket).toBe("fleet-telemetry");
        expect(
          own(q.by).some((r) => r.test(key)),
          `${q.by} may write ${key}`,
        ).toBe(true);
        // and no other device could have
        const other = things.find((t) => t !== q.by)!;
        expect(
          own(other).some((r) => r.test(key)),
          `${other} may not write ${key}`,
        ).toBe(false);
      } else {
        expect(bucket).toBe("fleet-bundles");
        expect(
          releases.some((r) => r.test(key)),
          `devices may read ${key}`,
        ).toBe(true);
      }
    }
  });

  it("the release workflow's steps run: build, sign, publish and point the first ring; the hourly promote", async () => {
    await generate();
    const { runJob, outputs } = workflowRunner(
      work,
      out,
      ".github/workflows/edge-release.yml",
      {
        "vars.EDGE_BUNDLE_STORE": STORE,
        "vars.EDGE_TELEMETRY_STORE": TELEMETRY,
        "vars.EDGE_PUBLIC_KEY": KEYS.publicKeyPem.trim(),
        "secrets.EDGE_SIGNING_KEY": KEYS.privateKeyPem.trim(),
        "inputs.bundle_version": "",
      },
      releaseEnv(),
    );
    const runner = await runJob("publish");
    // the signing key is written for the bundle step and removed after it
    expect(existsSync(join(runner, "edge-signing.key"))).toBe(false);
    const version = outputs["steps.bundle.outputs.version"]!;
    expect(version).toMatch(/^\d{4}\.\d{2}\.\d{2}-41\.1$/);
    const { openObjectStore } = await import("../../src/serve/object-store.js");
    const bundles = await openObjectStore(
      { scheme: "s3", bucket: "fleet-bundles", key: "" },
      { ...process.env, ...releaseEnv() },
    );
    const canaryPointer = JSON.parse(Buffer.from(await bundles.get("channels/canary.json")).toString("utf8"));
    expect(canaryPointer).toMatchObject({ version, bundle: `../bundles/${version}/` });
    expect(await bundles.find(`bundles/${version}/manifest.sig`)).not.toBeNull();
    await runJob("promote");
    // the bundle carries the run number as its release order; an earlier release cannot take the ring
    const published = JSON.parse(
      Buffer.from(await bundles.get(`bundles/${version}/manifest.json`)).toString("utf8"),
    );
    expect(published.sequence).toBe(41);
    const older = await bundle("9.9.9", 9, { name: "line-defects", sequence: 40 });
    expect((await release("publish", older, "--store", STORE)).code).toBe(0);
    const refusedMove = await promote(
      "2026-12-20T00:00:00Z",
      "--ring",
      "canary",
      "--bundle-version",
      "9.9.9",
    );
    expect(refusedMove.code).toBe(1);
    expect(refusedMove.stderr).toMatch(
      /canary: line-defects 9\.9\.9 is release 40, not later than the running/,
    );
  }, 180_000);
});
