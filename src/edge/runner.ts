/**
 * What runs on a device (stackwright edge run): a verified bundle served in-process by the serving
 * core, over its HTTP handlers on a Unix socket and as JSON lines on stdin; the answers' telemetry
 * spooled on disk and uploaded when the upload URL answers; and, given a channel (the device's ring's
 * pointer, written by the release workflow), each new bundle downloaded, verified, swapped in and kept
 * only if it passes its health checks: after `healthChecks` failed checks in a row the previous bundle
 * runs again and the failed version is not tried again.
 *
 * A device enrolled with nothing on it starts with no bundle and takes the first from its channel
 * (answering 503 until one runs).
 *
 * State directory layout: bundles/<version>/ (each installed bundle, verified when installed and again
 * before it runs), current (the version that runs), failed (versions refused after a swap, one a
 * line), telemetry/ (the spool).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { writeFileAtomic } from "../util/atomic-write.js";
import {
  BundleError,
  type BundleManifest,
  checkManifest,
  MANIFEST,
  manifestSchema,
  notLater,
  SIGNATURE,
  type VerifyOptions,
  verifyBundle,
} from "./bundle.js";
import { bundleServing } from "./embedded.js";
import type { DeviceIdentity } from "./identity.js";
import { asPrefix, resolveUrl, type Transport, transport } from "./transport.js";

export { EDGE_DEFAULTS } from "./defaults.js";

import { type TelemetryRecord, TelemetrySpool, TelemetryUploader } from "./telemetry.js";

/** An optional file of a bundle: an infer request the health check sends; it must be answered 200. */
export const HEALTH_REQUEST = "health-request.json";

export interface EdgeRunOptions extends VerifyOptions {
  /** the bundle to run first (a directory); may be omitted when the state already has one */
  bundle?: string;
  state: string;
  socket: string;
  device: string;
  /** an http(s) URL telemetry is posted to, or an s3:// location it is put under */
  uploadUrl?: string;
  uploadToken?: string;
  /** the device's cloud identity: s3:// channels, bundles and telemetry are signed with it */
  identity?: DeviceIdentity;
  /** the device's ring, sent with its telemetry (default: the channel's file name, `canary` of canary.json) */
  ring?: string;
  uploadIntervalMs: number;
  channel?: string;
  pollIntervalMs: number;
  healthChecks: number;
  healthIntervalMs: number;
  log: (line: string) => void;
  stdin?: Readable;
  stdout?: Writable;
  clock?: () => Date;
}

interface Running {
  version: string;
  /** its manifest, verified when it started */
  manifest: BundleManifest;
  model: string;
  core: import("../serve/server.js").ServingCore;
}

/** One request to the serving core on its socket. */
export function socketRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: data ? { "content-type": "application/json", "content-length": String(data.length) } : {},
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (metrics): the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer on ${socketPath} in 10 s`)));
    req.on("error", reject);
    req.end(data);
  });
}

export class EdgeRunner {
  private running: Running | undefined;
  private readonly spool: TelemetrySpool;
  private readonly uploader: TelemetryUploader | undefined;
  private timers: NodeJS.Timeout[] = [];
  private polling: Promise<void> | undefined;
  private lines: ReturnType<typeof createInterface> | undefined;
  private readonly net: Transport;

  constructor(private readonly o: EdgeRunOptions) {
    mkdirSync(join(o.state, "bundles"), { recursive: true });
    this.spool = new TelemetrySpool(join(o.state, "telemetry"), o.clock);
    this.net = transport({ identity: o.identity, token: o.uploadToken });
    const ring =
      o.ring ?? (o.channel ? /([^/]+?)(\.json)?$/.exec(new URL(o.channel).pathname)?.[1] : undefined);
    this.uploader = o.uploadUrl
      ? new TelemetryUploader(this.spool, {
          url: o.uploadUrl,
          transport: this.net,
          device: o.device,
          bundle: () => ({ name: this.running?.manifest.name ?? "", version: this.running?.version ?? "" }),
          status: () => ({ ring, failed: [...this.failedVersions()] }),
          drift: () => this.drift(),
          log: o.log,
          clock: o.clock,
        })
      : undefined;
  }

  get version(): string | undefined {
    return this.running?.version;
  }

  get telemetry(): TelemetrySpool {
    return this.spool;
  }

  private bundleDir(version: string): string {
    return join(this.o.state, "bundles", version);
  }

  private get currentFile(): string {
    return join(this.o.state, "current");
  }

  private failedVersions(): Set<string> {
    const path = join(this.o.state, "failed");
    return new Set(existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : []);
  }

  private markFailed(version: string): void {
    const failed = [...this.failedVersions(), version];
    writeFileAtomic(join(this.o.state, "failed"), `${failed.join("\n")}\n`);
  }

  /**
   * Puts a verified bundle into the state and returns its version: a directory the runner downloaded
   * into its own state (`owned`) is renamed into place; another is copied (staged, then renamed). Each
   * is verified once here and again before it runs (runVersion: the disk may change in between).
   */
  install(dir: string, owned = false): string {
    const { manifest } = verifyBundle(dir, this.o);
    const target = this.bundleDir(manifest.version);
    if (existsSync(target)) return manifest.version;
    if (owned) {
      renameSync(dir, target);
      return manifest.version;
    }
    const staging = `${target}.staging-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    for (const file of [MANIFEST, SIGNATURE, ...manifest.files.map((f) => f.path)])
      if (existsSync(join(dir, file))) {
        mkdirSync(dirname(join(staging, file)), { recursive: true });
        cpSync(join(dir, file), join(staging, file));
      }
    renameSync(staging, target);
    return manifest.version;
  }

  async start(): Promise<void> {
    const first = this.o.bundle
      ? this.install(this.o.bundle)
      : existsSync(this.currentFile)
        ? readFileSync(this.currentFile, "utf8").trim()
        : undefined;
    if (!first && !this.o.channel)
      throw new BundleError([
        "no bundle to run: pass one, a state directory that has run one, or a --channel to take the first from",
      ]);
    if (first) {
      await this.runVersion(first);
      writeFileAtomic(this.currentFile, `${first}\n`);
      this.o.log(`running ${this.running!.manifest.name} ${first} on ${this.o.socket}`);
    } else this.o.log(`no bundle yet: the first comes from ${this.o.channel}`);
    if (this.uploader)
      this.timers.push(setInterval(() => void this.uploader!.flush(), this.o.uploadIntervalMs).unref());
    if (this.o.channel) this.timers.push(setInterval(() => void this.poll(), this.o.pollIntervalMs).unref());
    if (this.o.stdin) this.readLines(this.o.stdin, this.o.stdout ?? process.stdout);
    // a new device asks its channel at once rather than a poll interval later
    if (!first) void this.poll();
  }

  /** Starts the serving core on an installed version (verified again: the disk may have changed). */
  private async runVersion(version: string): Promise<void> {
    const dir = this.bundleDir(version);
    const { manifest } = verifyBundle(dir, this.o);
    const serve = await import("../serve/index.js");
    const { config, sources } = bundleServing(serve, dir);
    rmSync(this.o.socket, { force: true });
    const { core } = await serve.startServing({
      config,
      sources,
      socketPath: this.o.socket,
      log: (line) => this.o.log(line),
    });
    core.observability.onAnswer = (a) => this.spool.record(a, version);
    this.running = { version, manifest, model: sources[0]!.name, core };
  }

  private async stopRunning(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.core.close(5_000);
  }

  /** Readiness, then the bundle's health request (when it has one) answered 200. */
  async healthy(): Promise<boolean> {
    const running = this.running;
    if (!running) return false;
    try {
      const ready = await socketRequest(this.o.socket, "GET", "/v2/health/ready");
      if (ready.status !== 200) return false;
      const path = join(this.bundleDir(running.version), HEALTH_REQUEST);
      if (!existsSync(path)) return true;
      const answer = await socketRequest(
        this.o.socket,
        "POST",
        `/v2/models/${running.model}/infer`,
        JSON.parse(readFileSync(path, "utf8")),
      );
      return answer.status === 200;
    } catch {
      return false;
    }
  }

  /** Asks the channel for the ring's version; a new one is downloaded, verified and swapped in. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const channel = this.o.channel!;
    let pointer: { version?: unknown; bundle?: unknown };
    try {
      const text = await this.net.read(channel);
      if (!text) {
        this.o.log(`channel ${channel}: nothing there yet`);
        return;
      }
      pointer = JSON.parse(text.toString("utf8")) as typeof pointer;
    } catch (error) {
      this.o.log(`channel ${channel} unreachable: ${(error as Error).message}`);
      return;
    }
    if (typeof pointer.version !== "string" || typeof pointer.bundle !== "string") {
      this.o.log(`channel ${channel}: expected {"version": "...", "bundle": "<url>"}`);
      return;
    }
    const version = pointer.version;
    if (!manifestSchema.shape.version.safeParse(version).success) {
      this.o.log(`channel ${channel}: ${JSON.stringify(version)} is not a bundle version`);
      return;
    }
    if (version === this.running?.version || this.failedVersions().has(version)) return;
    let installed: string;
    try {
      installed = await this.download(resolveUrl(pointer.bundle, channel), version);
    } catch (error) {
      this.o.log(`bundle ${version} refused: ${(error as Error).message}`);
      this.markFailed(version);
      return;
    }
    await this.swap(installed);
  }

  /** Downloads a bundle (the manifest checked before any file it names), verifies it and installs it. */
  private async download(base: string, expected: string): Promise<string> {
    const root = asPrefix(base);
    const get = async (path: string, optional = false): Promise<Buffer | null> => {
      const data = await this.net.read(resolveUrl(path, root));
      if (!data && !optional) throw new Error(`${path}: not found`);
      return data;
    };
    const manifestText = (await get(MANIFEST))!;
    const signature = await get(SIGNATURE, true);
    const { manifest } = checkManifest(manifestText, signature?.toString("utf8") ?? null, this.o);
    // a pointer must name the bundle it points at: another signed version (an older one) is refused
    if (manifest.version !== expected)
      throw new BundleError([
        `the channel names version ${expected}, but the bundle it points at is ${manifest.version}`,
      ]);
    // and a release earlier than the running one is refused: a channel cannot roll the device back
    const older = notLater(manifest, this.running?.manifest);
    if (older) throw new BundleError([older]);
    const staging = join(this.o.state, "bundles", `.download-${manifest.version}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileAtomic(join(staging, MANIFEST), manifestText);
    if (signature) writeFileAtomic(join(staging, SIGNATURE), signature);
    for (const file of manifest.files) {
      const data = (await get(file.path))!;
      mkdirSync(dirname(join(staging, file.path)), { recursive: true });
      writeFileAtomic(join(staging, file.path), data);
    }
    try {
      return this.install(staging, true);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /**
   * Runs `version` in place of the current bundle and watches it: kept once `healthChecks` checks in a
   * row pass, given back to the previous bundle once as many fail in a row (or when it cannot start).
   */
  async swap(version: string): Promise<boolean> {
    const previous = this.running?.version;
    this.o.log(`swapping ${previous ?? "nothing"} for ${version}`);
    await this.stopRunning();
    let failures = 0;
    let passes = 0;
    try {
      await this.runVersion(version);
    } catch (error) {
      this.o.log(`${version} cannot start: ${(error as Error).message}`);
      failures = this.o.healthChecks;
    }
    while (failures < this.o.healthChecks && passes < this.o.healthChecks) {
      if (await this.healthy()) {
        passes++;
        failures = 0;
      } else {
        failures++;
        passes = 0;
      }
      if (failures < this.o.healthChecks && passes < this.o.healthChecks)
        await new Promise((r) => setTimeout(r, this.o.healthIntervalMs));
    }
    if (passes >= this.o.healthChecks) {
      writeFileAtomic(this.currentFile, `${version}\n`);
      this.o.log(`${version} is healthy: it runs now`);
      return true;
    }
    this.o.log(`${version} failed ${this.o.healthChecks} health checks in a row: back to ${previous}`);
    this.markFailed(version);
    await this.stopRunning();
    if (previous) await this.runVersion(previous);
    return false;
  }

  /** JSON lines: an infer request (`inputs`, optional `model_name`) or a prediction request (`features`). */
  private readLines(input: Readable, output: Writable): void {
    this.lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    let queue = Promise.resolve();
    this.lines.on("line", (line) => {
      if (!line.trim()) return;
      queue = queue.then(async () => {
        output.write(`${JSON.stringify(await this.answerLine(line))}\n`);
      });
    });
  }

  private async answerLine(line: string): Promise<unknown> {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      return { status: 400, error: `not JSON: ${(error as Error).message}` };
    }
    const running = this.running;
    if (!running) return { status: 503, error: "no bundle is running (swapping)" };
    const path = Array.isArray(body.inputs)
      ? `/v2/models/${encodeURIComponent(String(body.model_name ?? running.model))}/infer`
      : "/v1/predictions";
    const request = Array.isArray(body.inputs) ? body : { model_id: running.model, ...body };
    try {
      const answer = await socketRequest(this.o.socket, "POST", path, request);
      return answer.status === 200 ? answer.body : { status: answer.status, ...(answer.body as object) };
    } catch (error) {
      return { status: 503, error: (error as Error).message };
    }
  }

  private async drift(): Promise<unknown> {
    const running = this.running;
    if (!running) return {};
    try {
      return (await socketRequest(this.o.socket, "GET", `/v2/models/${running.model}/drift`)).body;
    } catch {
      return {};
    }
  }

  /** Uploads what is spooled now (the runner also does so every uploadIntervalMs). */
  flushTelemetry() {
    return this.uploader?.flush();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.lines?.close();
    await this.polling;
    await this.stopRunning();
    rmSync(this.o.socket, { force: true });
  }
}

export type { TelemetryRecord };
