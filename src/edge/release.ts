/**
 * The cloud side of a release (stackwright edge publish | promote), run by the release workflow with
 * the workflow's own credentials:
 * - publish: a verified, signed bundle copied under bundles/<version>/ of the bundle store, its
 *   manifest last (a device that finds the manifest finds every file it names); a version is written
 *   once: publishing other content under a published version is refused.
 * - promote: a ring's channel (channels/<ring>.json) pointed at a published version, either as asked
 *   (`--ring R --bundle-version V`: the first ring, or a person's override) or, with neither, the next ring
 *   whose previous ring passed its gate: soaked for the ring's hours, reported by as many devices as
 *   the ring counts, under the gate's error rate and p99, and reverted by none.
 *
 * The gate reads each device's status object (status/<device>.json in the telemetry store, written by
 * `edge run` with every upload): its ring, the version it runs, the versions it reverted and, per
 * version, its answers, errors and latency histogram.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BundleError,
  checkManifest,
  MANIFEST,
  manifestSchema,
  notLater,
  SIGNATURE,
  type VerifyOptions,
  verifyBundle,
} from "./bundle.js";
import { EDGE_STORE_LAYOUT } from "./defaults.js";
import type { Ring, Rollout } from "./rollout.js";
import {
  addStats,
  type DeviceStatus,
  emptyStats,
  latencyQuantile,
  statusObjects,
  type VersionStats,
} from "./telemetry.js";
import { asPrefix, type Transport } from "./transport.js";

/** What a channel holds: the version its ring runs, where that bundle is, and since when. */
export interface ChannelPointer {
  version: string;
  bundle: string;
  promotedAt: string;
}

export function bundleUrl(store: string, version: string): string {
  return `${asPrefix(store)}${EDGE_STORE_LAYOUT.bundles}/${version}/`;
}

export function channelUrl(store: string, rollout: Rollout, ring: string): string {
  return `${asPrefix(store)}${rollout.channel.replace("{ring}", ring)}`;
}

export interface PublishResult {
  version: string;
  url: string;
  /** false when the same bundle was already there (publishing is idempotent) */
  uploaded: boolean;
}

export async function publishBundle(
  dir: string,
  store: string,
  net: Transport,
  o: VerifyOptions,
): Promise<PublishResult> {
  const { manifest } = verifyBundle(dir, o);
  const url = bundleUrl(store, manifest.version);
  const manifestText = readFileSync(join(dir, MANIFEST));
  const published = await net.read(`${url}${MANIFEST}`);
  if (published) {
    if (published.equals(manifestText)) return { version: manifest.version, url, uploaded: false };
    throw new BundleError([
      `${url} holds another bundle under version ${manifest.version}: a published version is never replaced; give this one a new version`,
    ]);
  }
  for (const file of manifest.files)
    await net.write(`${url}${file.path}`, readFileSync(join(dir, file.path)));
  let signature: Buffer | undefined;
  try {
    signature = readFileSync(join(dir, SIGNATURE));
  } catch {
    signature = undefined;
  }
  if (signature) await net.write(`${url}${SIGNATURE}`, signature);
  await net.write(`${url}${MANIFEST}`, manifestText);
  return { version: manifest.version, url, uploaded: true };
}

export async function readPointer(net: Transport, url: string): Promise<ChannelPointer | null> {
  const text = await net.read(url);
  if (!text) return null;
  return JSON.parse(text.toString("utf8")) as ChannelPointer;
}

export interface RingHealth {
  /** devices that ran the version and reported it (this ring and the ones before it) */
  reporting: string[];
  /** devices that reverted the version (any ring) */
  reverted: string[];
  stats: VersionStats;
  errorRate: number;
  p99Ms: number;
}

/** Every device's status object, named by its key (its identity may write only there), not by what it wrote. */
export async function deviceStatuses(net: Transport, telemetry: string): Promise<Map<string, DeviceStatus>> {
  const out = new Map<string, DeviceStatus>();
  for (const { device, url } of await statusObjects(net, telemetry)) {
    const text = await net.read(url);
    if (!text) continue;
    try {
      const status = JSON.parse(text.toString("utf8")) as DeviceStatus;
      if (status && typeof status === "object") out.set(device, status);
    } catch {
      // a device that wrote something else is not counted
    }
  }
  return out;
}

/** The version's health across the devices of `rings` (a ring and those before it), from their status objects. */
export async function ringHealth(
  net: Transport,
  telemetry: string,
  version: string,
  rings: string[],
  statuses?: Map<string, DeviceStatus>,
): Promise<RingHealth> {
  const stats = emptyStats();
  const reporting: string[] = [];
  const reverted: string[] = [];
  for (const [device, status] of statuses ?? (await deviceStatuses(net, telemetry))) {
    if (Array.isArray(status.failed) && status.failed.includes(version)) reverted.push(device);
    const seen = status.versions?.[version];
    if (!seen || !rings.includes(status.ring ?? "")) continue;
    if (seen.answers > 0) reporting.push(device);
    addStats(stats, seen);
  }
  return {
    reporting: reporting.sort(),
    reverted: reverted.sort(),
    stats,
    errorRate: stats.answers ? stats.errors / stats.answers : 0,
    p99Ms: stats.answers ? latencyQuantile(stats, 0.99) : 0,
  };
}

export type StepState = "promoted" | "current" | "waiting" | "halted" | "empty";

export interface PromoteStep {
  ring: string;
  state: StepState;
  version?: string;
  reason: string;
  health?: Omit<RingHealth, "stats"> & { answers: number };
}

export interface PromoteOptions extends VerifyOptions {
  rollout: Rollout;
  store: string;
  telemetry: string;
  net: Transport;
  now: Date;
  /** an explicit move: this ring to this version (both, or neither) */
  ring?: string;
  version?: string;
}

/**
 * Points a ring's channel at a published, verified version; `current` is the ring's pointer when the
 * caller has read it already (null: none), else it is read here.
 */
async function point(
  o: PromoteOptions,
  ring: string,
  version: string,
  current?: ChannelPointer | null,
): Promise<ChannelPointer> {
  const url = bundleUrl(o.store, version);
  const manifest = await o.net.read(`${url}${MANIFEST}`);
  if (!manifest)
    throw new BundleError([`version ${version} is not published (${url}${MANIFEST} is missing)`]);
  const signature = await o.net.read(`${url}${SIGNATURE}`);
  const next = checkManifest(manifest, signature?.toString("utf8") ?? null, o).manifest;
  // the ring's devices would refuse an earlier release: say so here, before the pointer moves
  const pointed =
    current === undefined ? await readPointer(o.net, channelUrl(o.store, o.rollout, ring)) : current;
  if (pointed && pointed.version !== version) {
    const running = await o.net.read(`${bundleUrl(o.store, pointed.version)}${MANIFEST}`);
    const older = running ? notLater(next, manifestSchema.parse(JSON.parse(running.toString("utf8")))) : null;
    if (older) throw new BundleError([`${ring}: ${older}`]);
  }
  const pointer: ChannelPointer = {
    version,
    // relative to the channel (the rollout's channel path): the store may sit under any prefix
    bundle: `${"../".repeat(o.rollout.channel.split("/").length - 1)}${EDGE_STORE_LAYOUT.bundles}/${version}/`,
    promotedAt: o.now.toISOString(),
  };
  await o.net.write(channelUrl(o.store, o.rollout, ring), `${JSON.stringify(pointer, null, 2)}\n`);
  return pointer;
}

function healthOf(h: RingHealth): PromoteStep["health"] {
  const { stats, ...rest } = h;
  return { ...rest, answers: stats.answers };
}

/** Whether `ring` passed its gate with `pointer`'s version; the reason either way. */
async function gate(o: PromoteOptions, index: number, pointer: ChannelPointer): Promise<PromoteStep> {
  const ring: Ring = o.rollout.rings[index]!;
  const names = o.rollout.rings.slice(0, index + 1).map((r) => r.name);
  const health = await ringHealth(o.net, o.telemetry, pointer.version, names);
  const step = { ring: ring.name, version: pointer.version, health: healthOf(health) };
  if (health.reverted.length)
    return {
      ...step,
      state: "halted",
      reason: `reverted on ${health.reverted.join(", ")}: the release stops here`,
    };
  if (health.errorRate > ring.gate.maxErrorRate)
    return {
      ...step,
      state: "halted",
      reason: `${(health.errorRate * 100).toFixed(2)}% of ${health.stats.answers} answers failed (gate: ${ring.gate.maxErrorRate * 100}%)`,
    };
  if (health.p99Ms > ring.gate.maxP99Ms)
    return {
      ...step,
      state: "halted",
      reason: `p99 up to ${health.p99Ms} ms (gate: ${ring.gate.maxP99Ms} ms)`,
    };
  const soakedAt = new Date(Date.parse(pointer.promotedAt) + ring.soakHours * 3_600_000);
  if (o.now < soakedAt)
    return {
      ...step,
      state: "waiting",
      reason: `soaking until ${soakedAt.toISOString()} (${ring.soakHours} h)`,
    };
  if (health.reporting.length < ring.devices)
    return {
      ...step,
      state: "waiting",
      reason: `${health.reporting.length} of ${ring.devices} devices reported ${pointer.version}`,
    };
  return { ...step, state: "promoted", reason: "passed its gate" };
}

/**
 * One promotion: the explicit move, or the first ring behind its predecessor whose predecessor passed
 * its gate (one ring a run: each ring soaks before the next). Returns what each ring's state is.
 */
export async function promote(o: PromoteOptions): Promise<PromoteStep[]> {
  const rings = o.rollout.rings;
  if ((o.ring === undefined) !== (o.version === undefined))
    throw new BundleError([
      "--ring and --bundle-version go together (an explicit move), or neither (the next ring)",
    ]);
  if (o.ring !== undefined) {
    if (!rings.some((r) => r.name === o.ring))
      throw new BundleError([
        `no ring "${o.ring}" in the rollout (rings: ${rings.map((r) => r.name).join(", ")})`,
      ]);
    await point(o, o.ring, o.version!);
    return [{ ring: o.ring, state: "promoted", version: o.version, reason: "moved as asked" }];
  }
  const pointers = await Promise.all(
    rings.map((r) => readPointer(o.net, channelUrl(o.store, o.rollout, r.name))),
  );
  const steps: PromoteStep[] = [];
  if (!pointers[0])
    return [
      {
        ring: rings[0]!.name,
        state: "empty",
        reason: "no release yet: promote one with --ring and --bundle-version",
      },
    ];
  steps.push({
    ring: rings[0]!.name,
    state: "current",
    version: pointers[0].version,
    reason: "the newest release",
  });
  for (let i = 1; i < rings.length; i++) {
    const previous = pointers[i - 1]!;
    const here = pointers[i];
    if (here?.version === previous.version) {
      steps.push({
        ring: rings[i]!.name,
        state: "current",
        version: here.version,
        reason: `runs ${rings[i - 1]!.name}'s version`,
      });
      continue;
    }
    const verdict = await gate(o, i - 1, previous);
    steps[steps.length - 1] = {
      ...steps[steps.length - 1]!,
      ...verdict,
      state: verdict.state === "promoted" ? "current" : verdict.state,
    };
    if (verdict.state !== "promoted") {
      steps.push({
        ring: rings[i]!.name,
        state: "waiting",
        version: here?.version,
        reason: `behind ${rings[i - 1]!.name}`,
      });
      for (const ring of rings.slice(i + 1))
        steps.push({ ring: ring.name, state: "waiting", reason: `behind ${rings[i - 1]!.name}` });
      return steps;
    }
    await point(o, rings[i]!.name, previous.version, here);
    steps.push({
      ring: rings[i]!.name,
      state: "promoted",
      version: previous.version,
      reason: `${rings[i - 1]!.name} passed its gate`,
    });
    for (const ring of rings.slice(i + 1))
      steps.push({ ring: ring.name, state: "waiting", reason: `behind ${rings[i]!.name}` });
    return steps;
  }
  return steps;
}

export interface RingStatus {
  ring: string;
  /** the version its channel names (none before a first release) */
  version?: string;
  promotedAt?: string;
  /** the devices whose status names this ring */
  devices: number;
  /** of those, how many run the ring's version */
  running: number;
  /** devices of the ring with no status for `staleHours` */
  stale: string[];
  health?: Omit<RingHealth, "stats"> & { answers: number };
}

/** The fleet ring by ring (stackwright edge status): what each ring should run, what its devices run and report. */
export async function fleetStatus(o: {
  rollout: Rollout;
  store: string;
  telemetry: string;
  net: Transport;
  now: Date;
  staleHours: number;
}): Promise<RingStatus[]> {
  const statuses = await deviceStatuses(o.net, o.telemetry);
  const out: RingStatus[] = [];
  const names = o.rollout.rings.map((r) => r.name);
  for (const [i, ring] of o.rollout.rings.entries()) {
    const pointer = await readPointer(o.net, channelUrl(o.store, o.rollout, ring.name));
    const members = [...statuses].filter(([, s]) => s.ring === ring.name);
    const stale = members
      .filter(([, s]) => !(o.now.getTime() - Date.parse(s.at) < o.staleHours * 3_600_000))
      .map(([d]) => d)
      .sort();
    out.push({
      ring: ring.name,
      ...(pointer ? { version: pointer.version, promotedAt: pointer.promotedAt } : {}),
      devices: members.length,
      running: members.filter(([, s]) => pointer && s.running === pointer.version).length,
      stale,
      ...(pointer
        ? {
            health: healthOf(
              await ringHealth(o.net, o.telemetry, pointer.version, names.slice(0, i + 1), statuses),
            ),
          }
        : {}),
    });
  }
  return out;
}
