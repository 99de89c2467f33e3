import { type Command, InvalidArgumentError, Option } from "commander";
import { EDGE_DEFAULTS } from "../../edge/defaults.js";
import type { CliIo } from "../io.js";

export interface EdgeKeygenFlags {
  out: string;
  force?: boolean;
}

export interface EdgeBundleFlags {
  from: string;
  out: string;
  name: string;
  bundleVersion: string;
  sequence?: number;
  key?: string;
  json?: boolean;
}

export interface EdgeVerifyFlags {
  key?: string;
  allowUnsigned?: boolean;
  json?: boolean;
}

export interface EdgeRunFlags {
  key?: string;
  allowUnsigned?: boolean;
  state: string;
  socket?: string;
  device?: string;
  upload?: string;
  uploadIntervalS: number;
  channel?: string;
  pollIntervalS: number;
  healthChecks: number;
  healthIntervalS: number;
  stdin: boolean;
  identity?: string;
  ring?: string;
}

export interface EdgePublishFlags {
  key?: string;
  allowUnsigned?: boolean;
  store: string;
  json?: boolean;
}

export interface EdgeStatusFlags {
  rollout: string;
  store: string;
  telemetry: string;
  staleAfterH: number;
  now?: string;
  json?: boolean;
}

export interface EdgePromoteFlags {
  key?: string;
  allowUnsigned?: boolean;
  rollout: string;
  store: string;
  telemetry: string;
  ring?: string;
  bundleVersion?: string;
  now?: string;
  json?: boolean;
}

function positive(flag: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new InvalidArgumentError(`${flag} must be a number above 0 and at most ${max}, got "${value}"`);
    return n;
  };
}

const LOCATION_FORMS = {
  http: "an http(s) URL",
  s3: "s3://<bucket>/<key>",
  az: "az://<storage account>/<container>/<blob>",
  iothub: "iothub://<hub>.azure-devices.net",
} as const;

/** An http(s) URL, or one of the other location forms named. */
function url(flag: string, ...others: Array<Exclude<keyof typeof LOCATION_FORMS, "http">>) {
  return (value: string): string => {
    const allowed = ["http:", "https:", ...others.map((o) => `${o}:`)];
    let ok = false;
    try {
      const parsed = new URL(value);
      ok = allowed.includes(parsed.protocol) && !!parsed.host;
    } catch {
      // not a URL
    }
    if (!ok)
      throw new InvalidArgumentError(
        `${flag} must be ${[LOCATION_FORMS.http, ...others.map((o) => LOCATION_FORMS[o])].join(" or ")}, got "${value}"`,
      );
    return value;
  };
}

/** A bundle or telemetry store: s3://<bucket>[/<prefix>] or az://<account>/<container>[/<prefix>]. */
function store(flag: string) {
  return (value: string): string => {
    if (/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(value)) return value;
    if (/^az:\/\/[a-z0-9]{3,24}\/[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9](\/.*)?$/.test(value)) return value;
    throw new InvalidArgumentError(
      `${flag} must be s3://<bucket>[/<prefix>] or az://<storage account>/<container>[/<prefix>], got "${value}"`,
    );
  };
}

const storeOption = () =>
  new Option(
    "--store <url>",
    "the bundle store, s3://<bucket>[/<prefix>] or az://<account>/<container>[/<prefix>]",
  )
    .argParser(store("--store"))
    .makeOptionMandatory();

const telemetryOption = () =>
  new Option(
    "--telemetry <url>",
    "where devices upload: s3://<bucket>[/<prefix>] (status/<device>.json) or the IoT Hub's upload container az://<account>/<container> (<device>/status.json)",
  )
    .argParser(store("--telemetry"))
    .makeOptionMandatory();

/** The public key: --key, or STACKWRIGHT_EDGE_KEY (a PEM file's path). */
const keyOption = () =>
  new Option(
    "--key <public.pem>",
    "the fleet's Ed25519 public key (PEM) the bundle's signature must verify with",
  ).env("STACKWRIGHT_EDGE_KEY");

export function registerEdge(program: Command, io: CliIo): void {
  const edge = program
    .command("edge")
    .description("build, sign, verify and run the bundles devices run (platform/edge/ of an edge plan)");

  edge
    .command("keygen")
    .description(
      "create the fleet's Ed25519 signing key pair (PEM): edge-signing.key (private), edge-signing.pub",
    )
    .option("-o, --out <dir>", "where the two files are written", ".")
    .option("--force", "replace existing key files")
    .addHelpText(
      "after",
      "\nExit codes: 0 written, 2 the files exist (without --force) or cannot be written.\n\nThe private key signs bundles in CI (keep it in the CI's secret store); devices get the public key.\n",
    )
    .action(async (flags: EdgeKeygenFlags) => {
      const { runEdgeKeygen } = await import("./edge-actions.js");
      process.exitCode = await runEdgeKeygen(io, flags);
    });

  edge
    .command("bundle")
    .description(
      "build a bundle from a directory holding serve.yaml and the models it names, signed with --key",
    )
    .requiredOption("--from <dir>", "the directory to bundle (platform/edge/ of a generated tree)")
    .requiredOption("-o, --out <dir>", "the new bundle's directory (must not exist or be empty)")
    .requiredOption("--name <name>", "the bundle's name (the workload)")
    .requiredOption("--bundle-version <version>", "the bundle's version (letters, digits, dots, hyphens)")
    .addOption(
      new Option(
        "--sequence <n>",
        "the release's place in the fleet's order (the release workflow's run number): devices take only a later release from their channel",
      ).argParser((value: string) => {
        if (!/^\d{1,15}$/.test(value))
          throw new InvalidArgumentError(`--sequence must be a whole number of at least 0, got "${value}"`);
        return Number(value);
      }),
    )
    .addOption(
      new Option(
        "--key <private.pem>",
        "the Ed25519 private key that signs the manifest (unsigned without one)",
      ).env("STACKWRIGHT_EDGE_SIGNING_KEY"),
    )
    .option("--json", "print the manifest as JSON")
    .addHelpText(
      "after",
      "\nExit codes: 0 written, 2 bad input (no serve.yaml, a non-empty --out, a key that is not Ed25519).\n\nExample:\n  $ stackwright edge bundle --from platform/edge --out dist/bundle --name defects --bundle-version 2026.12.04-1 --key edge-signing.key\n",
    )
    .action(async (flags: EdgeBundleFlags) => {
      const { runEdgeBundle } = await import("./edge-actions.js");
      process.exitCode = await runEdgeBundle(io, flags);
    });

  edge
    .command("verify")
    .description(
      "check a bundle: its signature with the fleet's public key, then every file against its manifest",
    )
    .argument("<bundle>", "the bundle's directory")
    .addOption(keyOption())
    .option("--allow-unsigned", "accept a bundle without a signature (development only)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExit codes: 0 the bundle may run, 1 it must not (each reason is listed), 2 bad flags or an unreadable key.\n",
    )
    .action(async (bundle: string, flags: EdgeVerifyFlags) => {
      const { runEdgeVerify } = await import("./edge-actions.js");
      process.exitCode = await runEdgeVerify(io, bundle, flags);
    });

  edge
    .command("run")
    .description(
      "run a bundle on this device: the serving core on a Unix socket and JSON lines on stdin, telemetry kept on disk until --upload answers, new bundles from --channel swapped in and reverted when unhealthy",
    )
    .argument(
      "[bundle]",
      "the bundle to run first (default: the one the state directory ran last, else the first its --channel names)",
    )
    .addOption(keyOption())
    .option("--allow-unsigned", "run bundles without a signature (development only)")
    .option(
      "--state <dir>",
      "installed bundles, the current version and the telemetry spool",
      ".stackwright-edge",
    )
    .option("--socket <path>", "the Unix socket the serving core listens on (default: <state>/serve.sock)")
    .option(
      "--device <id>",
      "this device's ID in telemetry (default: the identity's thing name, else the host name)",
    )
    .addOption(
      new Option(
        "--upload <url>",
        "where telemetry goes: an http(s) URL it is posted to, s3://<bucket>[/<prefix>], or iothub://<hub host> (the hub's file upload); kept on disk while it does not answer",
      ).argParser(url("--upload", "s3", "iothub")),
    )
    .addOption(
      new Option("--upload-interval-s <s>", "how often telemetry is sent")
        .default(EDGE_DEFAULTS.uploadIntervalS)
        .argParser(positive("--upload-interval-s", 86_400)),
    )
    .addOption(
      new Option(
        "--channel <url>",
        'this device\'s ring\'s pointer: {"version", "bundle"} (http(s), s3://<bucket>/channels/<ring>.json or az://<account>/<container>/channels/<ring>.json)',
      ).argParser(url("--channel", "s3", "az")),
    )
    .addOption(
      new Option("--poll-interval-s <s>", "how often the channel is asked")
        .default(EDGE_DEFAULTS.pollIntervalS)
        .argParser(positive("--poll-interval-s", 86_400)),
    )
    .addOption(
      new Option(
        "--health-checks <n>",
        "failed checks in a row that revert a new bundle (as many passed keep it)",
      )
        .default(EDGE_DEFAULTS.healthChecks)
        .argParser(positive("--health-checks", 100)),
    )
    .addOption(
      new Option("--health-interval-s <s>", "time between health checks after a swap")
        .default(EDGE_DEFAULTS.healthIntervalS)
        .argParser(positive("--health-interval-s", 3_600)),
    )
    .option("--no-stdin", "do not read JSON lines from stdin")
    .option(
      "--identity <file>",
      "the device's cloud identity (JSON): an AWS IoT thing, its certificate and role alias (s3:// URLs are signed with it), or an Azure IoT Hub device, its certificate and the release container's SAS (az:// read with it, iothub:// uploads)",
    )
    .option("--ring <name>", "this device's ring, sent with its telemetry (default: the channel's file name)")
    .addHelpText(
      "after",
      '\nExit codes: 0 stopped by SIGTERM/SIGINT, 1 the bundle was refused (each reason is listed), 2 bad flags.\n\nExample:\n  $ stackwright edge run bundle --key fleet.pub --upload https://telemetry.example/v1 --channel https://bundles.example/channels/canary.json\n  $ echo \'{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[0,0,0,0,0,0,0,0]}]}\' | stackwright edge run bundle --key fleet.pub\n',
    )
    .action(async (bundle: string | undefined, flags: EdgeRunFlags) => {
      const { runEdgeRun } = await import("./edge-actions.js");
      process.exitCode = await runEdgeRun(io, bundle, flags);
    });

  edge
    .command("publish")
    .description(
      "copy a verified bundle to the bundle store under bundles/<version>/ (its manifest last); a published version is never replaced",
    )
    .argument("<bundle>", "the bundle's directory")
    .addOption(keyOption())
    .option("--allow-unsigned", "publish a bundle without a signature (development only)")
    .addOption(storeOption())
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nCredentials: the AWS SDK's default chain (the release workflow's OIDC role); AWS_ENDPOINT_URL_S3 for an S3-compatible server.\nExit codes: 0 published (or already there, the same bundle), 1 refused (each reason is listed), 2 bad flags.\n",
    )
    .action(async (bundle: string, flags: EdgePublishFlags) => {
      const { runEdgePublish } = await import("./edge-actions.js");
      process.exitCode = await runEdgePublish(io, bundle, flags);
    });

  edge
    .command("promote")
    .description(
      "move a ring's channel: --ring R --bundle-version V as asked, or (neither) the next ring whose previous ring passed its gate in the devices' telemetry",
    )
    .addOption(keyOption())
    .option("--allow-unsigned", "point rings at unsigned bundles (development only)")
    .requiredOption("--rollout <file>", "the rings and gates (platform/edge/rollout.yaml)")
    .addOption(storeOption())
    .addOption(telemetryOption())
    .option("--ring <name>", "the ring to move (with --bundle-version)")
    .option("--bundle-version <version>", "the published version to point it at (with --ring)")
    .addOption(
      new Option("--now <iso-time>", "the time the soak is measured at (default: the clock)").hideHelp(),
    )
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExit codes: 0 moved, or waiting (soaking, too few devices reported), 1 halted (a gate failed: reverted, errors, latency) or refused, 2 bad flags.\n",
    )
    .action(async (flags: EdgePromoteFlags) => {
      const { runEdgePromote } = await import("./edge-actions.js");
      process.exitCode = await runEdgePromote(io, flags);
    });

  edge
    .command("status")
    .description(
      "the fleet ring by ring: the version each ring's channel names, how many of its devices run it, which went quiet, and the version's answers, error rate, p99 and reverts in their telemetry",
    )
    .requiredOption("--rollout <file>", "the rings (platform/edge/rollout.yaml)")
    .addOption(storeOption())
    .addOption(telemetryOption())
    .addOption(
      new Option("--stale-after-h <hours>", "a device with no status for this long is listed as quiet")
        .default(24)
        .argParser(positive("--stale-after-h", 24 * 365)),
    )
    .addOption(
      new Option("--now <iso-time>", "the time staleness is measured at (default: the clock)").hideHelp(),
    )
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExit codes: 0 read, 1 a store could not be read, 2 bad flags.\n")
    .action(async (flags: EdgeStatusFlags) => {
      const { runEdgeStatus } = await import("./edge-actions.js");
      process.exitCode = await runEdgeStatus(io, flags);
    });
}
