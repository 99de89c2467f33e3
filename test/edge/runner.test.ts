/**
 * What a device runs: bundles built and signed by the CLI, refused when unsigned, tampered, extended
 * or signed with another key; `edge run` answering as `serve` does, over its Unix socket and as JSON
 * lines on stdin; telemetry kept on disk while the upload URL is down and sent exactly once when it
 * answers; and new bundles taken from a channel served on loopback, kept when healthy and reverted
 * when not.
 */
import { spawn, spawnSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateSigningKeys, MANIFEST, SIGNATURE, sha256 } from "../../src/edge/bundle.js";
import { EdgeRunner, HEALTH_REQUEST, socketRequest } from "../../src/edge/runner.js";
import { BIN, runCli, runCliAsync } from "../helpers/cli.js";
import { freePort, serve, writeModel } from "../serve/helpers.js";

type Any = Record<string, any>;

const KEYS = generateSigningKeys();
const OTHER = generateSigningKeys();
const work = mkdtempSync(join(tmpdir(), "sw-edge-"));
const keyFiles = {
  private: join(work, "edge-signing.key"),
  public: join(work, "edge-signing.pub"),
  otherPublic: join(work, "other.pub"),
};
writeFileSync(keyFiles.private, KEYS.privateKeyPem);
writeFileSync(keyFiles.public, KEYS.publicKeyPem);
writeFileSync(keyFiles.otherPublic, OTHER.publicKeyPem);

const WIDTH = 8;
const request = (values: number[]) => ({
  inputs: [{ name: "input", shape: [1, WIDTH], datatype: "FP32", data: values }],
});

/** A directory as platform/edge/ holds it: serve.yaml and one model version (its weights from `seed`). */
function source(seed: number, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(work, "src-"));
  writeModel(join(dir, "models"), "defects", "1", { layers: [WIDTH, 16, 1], seed, sigmoid: true });
  writeFileSync(
    join(dir, "serve.yaml"),
    // in process under vitest the worker script is TypeScript with no .js beside it: batches run on the
    // event loop (the timed choice of `auto` may pick workers on a loaded machine)
    "models:\n  - name: defects\n    path: models/defects\ndevice: cpu\nplacement: event-loop\n",
  );
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

function bundle(
  from: string,
  version: string,
  key: string | null = keyFiles.private,
  extra: string[] = [],
): string {
  const out = join(work, `bundle-${version}-${Math.random().toString(36).slice(2, 8)}`);
  const args = [
    "edge",
    "bundle",
    "--from",
    from,
    "--out",
    out,
    "--name",
    "defects",
    "--bundle-version",
    version,
  ];
  const result = runCli([...(key ? [...args, "--key", key] : args), ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return out;
}

const verify = (dir: string, ...flags: string[]) => runCli(["edge", "verify", dir, ...flags]);

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/**
 * A channel: a bucket-like directory served on loopback (a pointer per ring, bundles by version), and
 * `publish`, which copies a bundle in and points canary at it.
 */
async function channel() {
  const root = mkdtempSync(join(work, "channel-"));
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url!, "http://x").pathname)));
    try {
      const data = readFileSync(path);
      res.writeHead(200, {
        "content-type": extname(path) === ".json" ? "application/json" : "application/octet-stream",
      });
      res.end(data);
    } catch {
      res.writeHead(404).end();
    }
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const publish = (dir: string, version: string) => {
    cpSync(dir, join(root, "bundles", version), { recursive: true });
    mkdirSync(join(root, "channels"), { recursive: true });
    writeFileSync(
      join(root, "channels/canary.json"),
      JSON.stringify({ version, bundle: `../bundles/${version}/` }),
    );
  };
  return { root, base, publish };
}

describe("edge keygen", () => {
  it("writes the pair (the private key 0600 even under umask 000) and replaces it only with --force", () => {
    const dir = join(work, "keys");
    const keygen = (...flags: string[]) =>
      spawnSync(
        "sh",
        [
          "-c",
          `umask 000; exec "${process.execPath}" "${BIN}" edge keygen --out "${dir}" ${flags.join(" ")}`,
        ],
        {
          encoding: "utf8",
        },
      );
    let r = keygen();
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(join(dir, "edge-signing.key")).mode & 0o777).toBe(0o600);
    const first = readFileSync(join(dir, "edge-signing.key"), "utf8");
    expect(createPrivateKey(first).asymmetricKeyType).toBe("ed25519");
    r = keygen();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/exists: pass --force/);
    expect(readFileSync(join(dir, "edge-signing.key"), "utf8")).toBe(first);
    r = keygen("--force");
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "edge-signing.key"), "utf8")).not.toBe(first);
    expect(statSync(join(dir, "edge-signing.key")).mode & 0o777).toBe(0o600);
  });
});

describe("edge bundles", () => {
  const good = bundle(source(1), "1.0.0");

  it("a signed bundle verifies with the fleet's key; the same inputs give the same bundle", () => {
    const result = verify(good, "--key", keyFiles.public, "--json");
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, signed: true, version: "1.0.0" });
    const again = bundle(source(1), "1.0.0");
    expect(readFileSync(join(again, MANIFEST), "utf8")).toBe(readFileSync(join(good, MANIFEST), "utf8"));
  });

  it("refuses a tampered file, an added file, another key, no key and no signature", () => {
    const tampered = join(work, "tampered");
    cpSync(good, tampered, { recursive: true });
    const model = join(tampered, "models/defects/1/model.onnx");
    const bytes = readFileSync(model);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(model, bytes);
    const t = verify(tampered, "--key", keyFiles.public);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain("models/defects/1/model.onnx: its content does not match the manifest");

    const added = join(work, "added");
    cpSync(good, added, { recursive: true });
    writeFileSync(join(added, "models/defects/1/extra.onnx"), "x");
    const a = verify(added, "--key", keyFiles.public);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("models/defects/1/extra.onnx: not in the manifest");

    const other = verify(good, "--key", keyFiles.otherPublic);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`${SIGNATURE} does not verify ${MANIFEST} with this key`);

    const noKey = verify(good);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("no key to verify the signature with");

    const unsigned = bundle(source(1), "1.0.1", null);
    const u = verify(unsigned, "--key", keyFiles.public);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain("the bundle is unsigned");
    expect(verify(unsigned, "--allow-unsigned").code).toBe(0);
  });

  it("refuses a signed manifest naming a path outside the bundle, before reading it", () => {
    const outside = join(work, "escape");
    cpSync(good, outside, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(outside, MANIFEST), "utf8")) as Any;
    manifest.files.push({ path: "../../etc/passwd", sha256: sha256(Buffer.from("")), bytes: 0 });
    const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(outside, MANIFEST), text);
    writeFileSync(
      join(outside, SIGNATURE),
      sign(null, text, createPrivateKey(KEYS.privateKeyPem)).toString("base64"),
    );
    const result = verify(outside, "--key", keyFiles.public);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("../../etc/passwd: a path outside the bundle");
  });

  it("bad input is refused with what was wrong: no serve.yaml, a key that is not Ed25519", () => {
    const empty = mkdtempSync(join(work, "empty-"));
    const none = runCli([
      "edge",
      "bundle",
      "--from",
      empty,
      "--out",
      join(work, "x"),
      "--name",
      "a",
      "--bundle-version",
      "1",
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("has no serve.yaml");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rsaFile = join(work, "rsa.key");
    writeFileSync(rsaFile, rsa.privateKey.export({ type: "pkcs8", format: "pem" }));
    const wrong = runCli([
      "edge",
      "bundle",
      "--from",
      source(1),
      "--out",
      join(work, "y"),
      "--name",
      "a",
      "--bundle-version",
      "1",
      "--key",
      rsaFile,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("bundles are signed with Ed25519");
  });
});

describe("edge run", () => {
  it("answers as serve does: JSON lines on stdin and HTTP on its Unix socket", async () => {
    const from = source(7);
    const dir = bundle(from, "2.0.0");
    const rows = [Array(WIDTH).fill(0.25), Array.from({ length: WIDTH }, (_, i) => i / WIDTH)];
    const served = await serve(["--config", join(from, "serve.yaml")]);
    const expected: Any[] = [];
    try {
      for (const row of rows) {
        const res = await fetch(`${served.url}/v2/models/defects/infer`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(request(row)),
        });
        expected.push((await res.json()) as Any);
      }
    } finally {
      await served.stop();
    }
    const state = mkdtempSync(join(tmpdir(), "sw-e-"));
    const lines = `${rows.map((r) => JSON.stringify(request(r))).join("\n")}\n`;
    // stdin closes after the lines; the runner keeps serving until it is stopped
    const child = spawn(
      process.execPath,
      [BIN, "edge", "run", dir, "--key", keyFiles.public, "--state", state],
      {
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.end(lines);
    try {
      const deadline = Date.now() + 30_000;
      while (stdout.split("\n").filter(Boolean).length < rows.length) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`edge run: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const answers = stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Any);
      for (let i = 0; i < rows.length; i++) expect(answers[i].outputs).toEqual(expected[i].outputs);
      const viaSocket = await socketRequest(
        join(state, "serve.sock"),
        "POST",
        "/v2/models/defects/infer",
        request(rows[1]),
      );
      expect(viaSocket.status).toBe(200);
      expect((viaSocket.body as Any).outputs).toEqual(expected[1].outputs);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  }, 90_000);

  it("refuses to run a tampered bundle (exit 1, the reason)", async () => {
    const dir = bundle(source(3), "3.0.0");
    writeFileSync(join(dir, "serve.yaml"), "models:\n  - name: defects\n    path: /etc\n");
    const result = await runCliAsync([
      "edge",
      "run",
      dir,
      "--key",
      keyFiles.public,
      "--state",
      mkdtempSync(join(tmpdir(), "sw-e-")),
      "--no-stdin",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("serve.yaml: its content does not match the manifest");
  }, 30_000);

  it("with nothing to run and no channel to take it from, says so (exit 1)", async () => {
    const result = await runCliAsync([
      "edge",
      "run",
      "--key",
      keyFiles.public,
      "--state",
      mkdtempSync(join(tmpdir(), "sw-e-")),
      "--no-stdin",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "no bundle to run: pass one, a state directory that has run one, or a --channel",
    );
  }, 30_000);

  it("keeps telemetry on disk while the upload URL is down and sends it exactly once when it answers", async () => {
    const state = mkdtempSync(join(tmpdir(), "sw-e-"));
    const port = await freePort();
    const runner = new EdgeRunner({
      bundle: bundle(source(5), "5.0.0"),
      publicKeyPem: KEYS.publicKeyPem,
      state,
      socket: join(state, "s.sock"),
      device: "line-7",
      uploadUrl: `http://127.0.0.1:${port}/telemetry`,
      uploadIntervalMs: 3_600_000,
      pollIntervalMs: 3_600_000,
      healthChecks: 2,
      healthIntervalMs: 10,
      log: () => {},
      clock: () => new Date("2026-12-04T08:00:00Z"),
    });
    await runner.start();
    try {
      for (let i = 0; i < 3; i++)
        expect(
          (
            await socketRequest(
              join(state, "s.sock"),
              "POST",
              "/v2/models/defects/infer",
              request(Array(WIDTH).fill(i)),
            )
          ).status,
        ).toBe(200);
      // nothing listens: kept
      expect(await runner.flushTelemetry()).toEqual({ sent: 0, left: 1 });
      await socketRequest(
        join(state, "s.sock"),
        "POST",
        "/v2/models/defects/infer",
        request(Array(WIDTH).fill(9)),
      );
      expect(await runner.flushTelemetry()).toEqual({ sent: 0, left: 2 });
      // the server comes back
      const received: Any[] = [];
      const server = createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          received.push({ key: req.headers["idempotency-key"], ...(JSON.parse(body) as Any) });
          res.writeHead(204).end();
        });
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
      expect(await runner.flushTelemetry()).toEqual({ sent: 2, left: 0 });
      expect(await runner.flushTelemetry()).toEqual({ sent: 0, left: 0 });
      const records = received.flatMap((b) => b.records as Any[]);
      expect(records).toHaveLength(4);
      expect(records.every((r) => r.model === "defects" && r.version === "1" && r.status === 200)).toBe(true);
      expect(records[0].at).toBe("2026-12-04T08:00:00.000Z");
      expect(received.map((b) => b.key)).toEqual(["line-7-000000000001", "line-7-000000000002"]);
      expect(received[0].bundle).toEqual({ name: "defects", version: "5.0.0" });
      expect(received[0].drift).toBeDefined();
    } finally {
      await runner.close();
    }
  }, 60_000);

  it("takes a new bundle from its channel, and reverts one that fails its health checks", async () => {
    const { root, base, publish } = await channel();
    const logs: string[] = [];
    const healthy = JSON.stringify(request(Array(WIDTH).fill(0.5)));
    const state = mkdtempSync(join(tmpdir(), "sw-e-"));
    const runner = new EdgeRunner({
      bundle: bundle(source(11, { [HEALTH_REQUEST]: healthy }), "10.0.0"),
      publicKeyPem: KEYS.publicKeyPem,
      state,
      socket: join(state, "s.sock"),
      device: "line-1",
      channel: `${base}/channels/canary.json`,
      uploadIntervalMs: 3_600_000,
      pollIntervalMs: 3_600_000,
      healthChecks: 2,
      healthIntervalMs: 20,
      log: (line) => logs.push(line),
    });
    await runner.start();
    try {
      // a good release: swapped in, and it answers with its own weights
      publish(bundle(source(12, { [HEALTH_REQUEST]: healthy }), "11.0.0"), "11.0.0");
      await runner.poll();
      expect(runner.version).toBe("11.0.0");
      expect(readFileSync(join(state, "current"), "utf8").trim()).toBe("11.0.0");
      // a release whose model does not take the health request's input (another width): reverted
      const wrong = source(13, { [HEALTH_REQUEST]: healthy });
      writeModel(join(wrong, "models"), "defects", "1", {
        layers: [WIDTH + 4, 16, 1],
        seed: 13,
        sigmoid: true,
      });
      publish(bundle(wrong, "12.0.0"), "12.0.0");
      await runner.poll();
      expect(runner.version).toBe("11.0.0");
      expect(readFileSync(join(state, "failed"), "utf8")).toContain("12.0.0");
      expect(
        (
          await socketRequest(
            join(state, "s.sock"),
            "POST",
            "/v2/models/defects/infer",
            request(Array(WIDTH).fill(1)),
          )
        ).status,
      ).toBe(200);
      // it is not tried again
      await runner.poll();
      expect(runner.version).toBe("11.0.0");
      // a release signed with another key: refused before it runs
      const otherKey = join(work, "other.key");
      writeFileSync(otherKey, OTHER.privateKeyPem);
      const reSigned = join(work, "forged");
      const result = runCli([
        "edge",
        "bundle",
        "--from",
        source(14),
        "--out",
        reSigned,
        "--name",
        "defects",
        "--bundle-version",
        "13.0.0",
        "--key",
        otherKey,
      ]);
      expect(result.code).toBe(0);
      publish(reSigned, "13.0.0");
      await runner.poll();
      expect(runner.version).toBe("11.0.0");
      expect(readFileSync(join(state, "failed"), "utf8")).toContain("13.0.0");
      // a pointer naming one version and pointing at another, older, signed bundle: refused
      writeFileSync(
        join(root, "channels/canary.json"),
        JSON.stringify({ version: "14.0.0", bundle: "../bundles/11.0.0/" }),
      );
      await runner.poll();
      expect(runner.version).toBe("11.0.0");
      expect(readFileSync(join(state, "failed"), "utf8")).toContain("14.0.0");
      expect(logs.join("\n")).toContain(
        "the channel names version 14.0.0, but the bundle it points at is 11.0.0",
      );
      // a pointer whose version is not one (a path, a newline) is ignored, and marks nothing
      writeFileSync(
        join(root, "channels/canary.json"),
        JSON.stringify({ version: "../x\n11.0.0", bundle: "../bundles/11.0.0/" }),
      );
      await runner.poll();
      expect(runner.version).toBe("11.0.0");
      expect(readFileSync(join(state, "failed"), "utf8")).not.toContain("../x");
      expect(logs.join("\n")).toContain("is not a bundle version");
    } finally {
      await runner.close();
    }
  }, 90_000);

  it("takes only a later release from its channel: an earlier signed one is refused, a later one swapped in", async () => {
    const { base, publish: point } = await channel();
    const logs: string[] = [];
    const state = mkdtempSync(join(tmpdir(), "sw-e-"));
    const runner = new EdgeRunner({
      bundle: bundle(source(21), "21.0.0", keyFiles.private, ["--sequence", "5"]),
      publicKeyPem: KEYS.publicKeyPem,
      state,
      socket: join(state, "s.sock"),
      device: "line-3",
      channel: `${base}/channels/canary.json`,
      uploadIntervalMs: 3_600_000,
      pollIntervalMs: 3_600_000,
      healthChecks: 1,
      healthIntervalMs: 10,
      log: (line) => logs.push(line),
    });
    await runner.start();
    try {
      // an older release, signed and whole, under a new version name: refused
      point(bundle(source(22), "22.0.0", keyFiles.private, ["--sequence", "3"]), "22.0.0");
      await runner.poll();
      expect(runner.version).toBe("21.0.0");
      expect(logs.join("\n")).toContain(
        "defects 22.0.0 is release 3, not later than the running 21.0.0 (release 5): a channel cannot roll devices back",
      );
      // one without a sequence is not later either
      point(bundle(source(23), "23.0.0"), "23.0.0");
      await runner.poll();
      expect(runner.version).toBe("21.0.0");
      // a later one runs
      point(bundle(source(24), "24.0.0", keyFiles.private, ["--sequence", "6"]), "24.0.0");
      await runner.poll();
      expect(runner.version).toBe("24.0.0");
      expect(
        runCli([
          "edge",
          "bundle",
          "--from",
          source(25),
          "--out",
          join(work, "x"),
          "--name",
          "d",
          "--bundle-version",
          "1",
          "--sequence",
          "-1",
        ]).code,
      ).toBe(2);
    } finally {
      await runner.close();
    }
  }, 90_000);
});
