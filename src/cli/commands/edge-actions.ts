import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { BundleError as BundleErrorType } from "../../edge/bundle.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { EXIT, UserError } from "../errors.js";
import type { CliIo } from "../io.js";
import type {
  EdgeBundleFlags,
  EdgeKeygenFlags,
  EdgePromoteFlags,
  EdgePublishFlags,
  EdgeRunFlags,
  EdgeStatusFlags,
  EdgeVerifyFlags,
} from "./edge.js";

const PRIVATE = "edge-signing.key";
const PUBLIC = "edge-signing.pub";

function readKey(path: string | undefined, what: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UserError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** A refused bundle: exit 1 with every reason (a key that is not Ed25519 is bad input: exit 2). */
function refused(error: BundleErrorType, exitCode: number = EXIT.findings): UserError {
  return new UserError("the bundle must not run", exitCode, error.problems);
}

export async function runEdgeKeygen(io: CliIo, flags: EdgeKeygenFlags): Promise<number> {
  const { generateSigningKeys } = await import("../../edge/bundle.js");
  const dir = resolve(flags.out);
  for (const file of [PRIVATE, PUBLIC])
    if (existsSync(join(dir, file)) && !flags.force)
      throw new UserError(`${join(dir, file)} exists: pass --force to replace the key pair`);
  mkdirSync(dir, { recursive: true });
  const keys = generateSigningKeys();
  // created 0600: the private key is never readable by others, not even between a write and a chmod
  writeFileAtomic(join(dir, PRIVATE), keys.privateKeyPem, 0o600);
  writeFileAtomic(join(dir, PUBLIC), keys.publicKeyPem);
  io.out(
    `${join(dir, PRIVATE)} (private: CI signs with it; keep it secret)\n${join(dir, PUBLIC)} (public: devices verify with it)\n`,
  );
  return EXIT.ok;
}

export async function runEdgeBundle(io: CliIo, flags: EdgeBundleFlags): Promise<number> {
  const { buildBundle, BundleError } = await import("../../edge/bundle.js");
  try {
    const manifest = buildBundle({
      from: resolve(flags.from),
      out: resolve(flags.out),
      name: flags.name,
      version: flags.bundleVersion,
      sequence: flags.sequence,
      privateKeyPem: readKey(flags.key, "the signing key"),
    });
    if (flags.json) io.out(`${JSON.stringify(manifest, null, 2)}\n`);
    else
      io.out(
        `${flags.out}: ${manifest.name} ${manifest.version}, ${manifest.files.length} files, ${flags.key ? "signed" : "UNSIGNED (devices refuse it unless --allow-unsigned)"}\n`,
      );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof BundleError)
      throw new UserError("cannot build the bundle", EXIT.usage, error.problems);
    if (error instanceof Error && "issues" in error)
      throw new UserError(`cannot build the bundle: ${error.message}`, EXIT.usage);
    throw error;
  }
}

export async function runEdgeVerify(io: CliIo, bundle: string, flags: EdgeVerifyFlags): Promise<number> {
  const { verifyBundle, BundleError } = await import("../../edge/bundle.js");
  const publicKeyPem = readKey(flags.key, "the public key");
  try {
    const { manifest, signed } = verifyBundle(resolve(bundle), {
      publicKeyPem,
      allowUnsigned: flags.allowUnsigned,
    });
    if (flags.json)
      io.out(
        `${JSON.stringify({ ok: true, signed, name: manifest.name, version: manifest.version, files: manifest.files.length })}\n`,
      );
    else
      io.out(
        `${bundle}: ${manifest.name} ${manifest.version}, ${manifest.files.length} files verified, ${signed ? "signature verified" : "SIGNATURE NOT CHECKED (--allow-unsigned)"}\n`,
      );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    if (flags.json) {
      io.out(`${JSON.stringify({ ok: false, problems: error.problems })}\n`);
      return EXIT.findings;
    }
    throw refused(error);
  }
}

export async function runEdgeRun(
  io: CliIo,
  bundle: string | undefined,
  flags: EdgeRunFlags,
): Promise<number> {
  const { BundleError } = await import("../../edge/bundle.js");
  const { EdgeRunner } = await import("../../edge/runner.js");
  const { readIdentity, IdentityError, deviceName, hubHost } = await import("../../edge/identity.js");
  const state = resolve(flags.state);
  let identity: import("../../edge/identity.js").DeviceIdentity | undefined;
  try {
    identity = flags.identity ? readIdentity(flags.identity) : undefined;
  } catch (error) {
    if (error instanceof IdentityError) throw new UserError(error.message);
    throw error;
  }
  const name = identity ? deviceName(identity) : undefined;
  if (name && flags.device && flags.device !== name)
    throw new UserError(
      `--device ${flags.device} is not the identity's device (${name}): a device uploads under its own name only`,
    );
  const locations = [flags.channel, flags.upload].filter((u): u is string => !!u);
  const needs = (scheme: string) => locations.some((u) => u.startsWith(`${scheme}://`));
  if (identity?.provider !== "aws-iot" && needs("s3"))
    throw new UserError(
      "s3:// channels and uploads are signed with the device's AWS IoT identity: pass --identity <file> of provider aws-iot",
    );
  if (identity?.provider !== "azure-iot-hub" && (needs("az") || needs("iothub")))
    throw new UserError(
      "az:// channels are read and iothub:// uploads written under the device's IoT Hub identity: pass --identity <file> of provider azure-iot-hub",
    );
  if (identity?.provider === "azure-iot-hub" && flags.upload && !flags.upload.startsWith("iothub://"))
    throw new UserError(
      `--upload ${flags.upload}: a device under an IoT Hub identity uploads through its hub: iothub://${hubHost(identity)}`,
    );
  const runner = new EdgeRunner({
    bundle: bundle ? resolve(bundle) : undefined,
    publicKeyPem: readKey(flags.key, "the public key"),
    allowUnsigned: flags.allowUnsigned,
    state,
    socket: flags.socket ? resolve(flags.socket) : join(state, "serve.sock"),
    device: flags.device ?? name ?? hostname(),
    uploadUrl: flags.upload,
    uploadToken: process.env.STACKWRIGHT_EDGE_UPLOAD_TOKEN || undefined,
    uploadIntervalMs: flags.uploadIntervalS * 1000,
    channel: flags.channel,
    pollIntervalMs: flags.pollIntervalS * 1000,
    healthChecks: Math.round(flags.healthChecks),
    healthIntervalMs: flags.healthIntervalS * 1000,
    log: (line) => io.err(`${line}\n`),
    stdin: flags.stdin ? process.stdin : undefined,
    stdout: process.stdout,
    identity,
    ring: flags.ring,
  });
  try {
    await runner.start();
  } catch (error) {
    await runner.close().catch(() => {});
    if (error instanceof BundleError) throw refused(error);
    throw new UserError(`cannot run the bundle: ${(error as Error).message}`);
  }
  await new Promise<void>((done) => {
    process.once("SIGTERM", done);
    process.once("SIGINT", done);
  });
  await runner.flushTelemetry();
  await runner.close();
  return EXIT.ok;
}

/** A refusal from the bundle store (a bad bundle, a replaced version) or the store itself. */
async function storeErrors<T>(what: string, run: () => Promise<T>): Promise<T> {
  const { BundleError } = await import("../../edge/bundle.js");
  try {
    return await run();
  } catch (error) {
    if (error instanceof BundleError) throw refused(error);
    throw new UserError(`${what}: ${(error as Error).message}`, EXIT.findings);
  }
}

export async function runEdgePublish(io: CliIo, bundle: string, flags: EdgePublishFlags): Promise<number> {
  const { publishBundle } = await import("../../edge/release.js");
  const { transport } = await import("../../edge/transport.js");
  const result = await storeErrors("cannot publish the bundle", () =>
    publishBundle(resolve(bundle), flags.store, transport(), {
      publicKeyPem: readKey(flags.key, "the public key"),
      allowUnsigned: flags.allowUnsigned,
    }),
  );
  if (flags.json) io.out(`${JSON.stringify(result)}\n`);
  else
    io.out(
      `${result.version}: ${result.uploaded ? "published" : "already published (the same bundle)"} at ${result.url}\n`,
    );
  return EXIT.ok;
}

/** The rollout file and the time a release command measures at (--now, else the clock). */
async function releaseInputs(flags: { rollout: string; now?: string }) {
  const { readRollout, RolloutError } = await import("../../edge/rollout.js");
  let rollout: import("../../edge/rollout.js").Rollout;
  try {
    rollout = readRollout(flags.rollout);
  } catch (error) {
    if (error instanceof RolloutError) throw new UserError(error.message);
    throw error;
  }
  const now = flags.now ? new Date(flags.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new UserError(`--now must be an ISO time, got "${flags.now}"`);
  return { rollout, now };
}

export async function runEdgeStatus(io: CliIo, flags: EdgeStatusFlags): Promise<number> {
  const { fleetStatus } = await import("../../edge/release.js");
  const { transport } = await import("../../edge/transport.js");
  const { rollout, now } = await releaseInputs(flags);
  const rings = await storeErrors("cannot read the fleet's status", () =>
    fleetStatus({
      rollout,
      store: flags.store,
      telemetry: flags.telemetry,
      net: transport(),
      now,
      staleHours: flags.staleAfterH,
    }),
  );
  if (flags.json) io.out(`${JSON.stringify({ rings }, null, 2)}\n`);
  else
    for (const r of rings)
      io.out(
        `${r.ring.padEnd(10)} ${(r.version ?? "-").padEnd(16)} ${r.running}/${r.devices} device(s) run it${r.stale.length ? `, ${r.stale.length} quiet for ${flags.staleAfterH} h (${r.stale.join(", ")})` : ""}${r.health ? `; ${r.health.reporting.length} reported, ${r.health.answers} answers, ${(r.health.errorRate * 100).toFixed(2)}% failed, p99 <= ${r.health.p99Ms} ms${r.health.reverted.length ? `, REVERTED on ${r.health.reverted.join(", ")}` : ""}` : ""}\n`,
      );
  return EXIT.ok;
}

export async function runEdgePromote(io: CliIo, flags: EdgePromoteFlags): Promise<number> {
  const { promote } = await import("../../edge/release.js");
  const { transport } = await import("../../edge/transport.js");
  const { rollout, now } = await releaseInputs(flags);
  const steps = await storeErrors("cannot promote", () =>
    promote({
      rollout,
      store: flags.store,
      telemetry: flags.telemetry,
      net: transport(),
      now,
      ring: flags.ring,
      version: flags.bundleVersion,
      publicKeyPem: readKey(flags.key, "the public key"),
      allowUnsigned: flags.allowUnsigned,
    }),
  );
  if (flags.json) io.out(`${JSON.stringify({ steps }, null, 2)}\n`);
  else
    for (const s of steps)
      io.out(
        `${s.ring.padEnd(10)} ${s.state.padEnd(9)} ${(s.version ?? "-").padEnd(16)} ${s.reason}${s.health ? ` (${s.health.reporting.length} device(s) reported, ${s.health.answers} answers, ${(s.health.errorRate * 100).toFixed(2)}% failed, p99 <= ${s.health.p99Ms} ms)` : ""}\n`,
      );
  return steps.some((s) => s.state === "halted") ? EXIT.findings : EXIT.ok;
}
