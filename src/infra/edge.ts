/**
 * The cloud side of an on-device plan on AWS (templates/terraform/aws-edge/): the bundle store (S3,
 * versioned, under Object Lock), the telemetry store, the devices' identities (AWS IoT Core things
 * whose certificates the IoT credentials provider exchanges for a role that reads releases and writes
 * only the device's own telemetry) and the release workflow's role. Nothing serves in the cloud: the
 * devices do.
 */
import { EDGE_DEFAULTS, EDGE_RETENTION_DAYS } from "../edge/defaults.js";
import { facts, type InventoryBuilder } from "./build.js";
import type { InventoryInput } from "./types.js";
import { HOURS_PER_MONTH } from "./usage.js";

const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** Bytes of one answer's telemetry record as the spool writes it (a JSON line: time, model, version, status, latency). */
const RECORD_BYTES = 120;
/** How often the release workflow's promote job runs (its schedule, src/generate/ci/edge-release.ts). */
export const PROMOTE_RUNS_PER_MONTH = HOURS_PER_MONTH;

/** The clouds whose on-device plans get their cloud side built (device identity: AWS IoT Core). */
export const EDGE_CLOUDS: ReadonlySet<string> = new Set(["aws"]);

export function awsEdgeInventory(input: InventoryInput, b: InventoryBuilder): void {
  const { spec } = input;
  const f = facts(input);
  const devices = spec.edge?.devices ?? 1;
  const int8 = input.capacity.precision === "int8";
  const bundleMb = int8 ? spec.model.sizeMb / 4 : spec.model.sizeMb;
  const releasesPerMonth = releasesOf(spec.training.cadence);
  const keptReleases = Math.ceil((releasesPerMonth * EDGE_RETENTION_DAYS.bundles) / 30.4);
  const polls = SECONDS_PER_MONTH / EDGE_DEFAULTS.pollIntervalS;
  const uploads = SECONDS_PER_MONTH / EDGE_DEFAULTS.uploadIntervalS;
  const answers = input.averageQps * SECONDS_PER_MONTH;
  const telemetryGbMonth = (answers * RECORD_BYTES * (EDGE_RETENTION_DAYS.telemetry / 30.4)) / 1e9;
  const key = "aws_kms_key.main";

  b.add({
    address: "aws_s3_bucket.bundles",
    file: "bundles.tf",
    title: `Bundle store (S3, versioned, Object Lock ${EDGE_RETENTION_DAYS.bundles} days)`,
    item: "Bundle store",
    meters: [
      {
        price: "objectStoragePerGbMonth",
        quantity: round2((bundleMb / 1024) * keptReleases),
        unit: "GB-month",
        assumption: `${keptReleases} releases kept (${round2(releasesPerMonth)} a month from training.cadence ${spec.training.cadence}, locked for ${EDGE_RETENTION_DAYS.bundles} days) of ${round2(bundleMb)} MB (model.sizeMb${int8 ? " at int8" : ""})`,
      },
      {
        price: "objectReadsPerThousand",
        quantity: round2((devices * polls + PROMOTE_RUNS_PER_MONTH * 8) / 1000),
        unit: "thousand GET requests",
        assumption: `${devices} devices asking their ring's channel every ${EDGE_DEFAULTS.pollIntervalS} s, and the hourly promote job reading the channels and manifests; bundle downloads (a few files a release a device) left out`,
      },
    ],
    implements: ["encryption-at-rest", "versioned-data", "data-retention"],
    attributes: { retentionDays: EDGE_RETENTION_DAYS.bundles },
  });
  b.add({
    address: "aws_s3_bucket.telemetry",
    file: "telemetry.tf",
    title: `Device telemetry (S3, ${EDGE_RETENTION_DAYS.telemetry} days)`,
    item: "Device telemetry",
    meters: [
      {
        price: "objectStoragePerGbMonth",
        quantity: round2(telemetryGbMonth),
        unit: "GB-month",
        assumption: `${round2(input.averageQps)} answers a second across the fleet (the average load), ${RECORD_BYTES} bytes each, kept ${EDGE_RETENTION_DAYS.telemetry} days`,
      },
      {
        price: "objectWritesPerThousand",
        quantity: round2((devices * uploads * 2 + PROMOTE_RUNS_PER_MONTH) / 1000),
        unit: "thousand PUT and LIST requests",
        assumption: `${devices} devices each putting a batch and its status every ${EDGE_DEFAULTS.uploadIntervalS} s while connected (an upper bound: offline time sends nothing, and a batch after it carries the backlog), and the promote job listing the statuses hourly`,
      },
      {
        price: "objectReadsPerThousand",
        quantity: round2((PROMOTE_RUNS_PER_MONTH * devices) / 1000),
        unit: "thousand GET requests",
        assumption: `the hourly promote job reading each of ${devices} devices' status`,
      },
    ],
    implements: ["encryption-at-rest", "data-retention"],
    attributes: { retentionDays: EDGE_RETENTION_DAYS.telemetry },
  });
  b.add({
    address: "aws_iot_role_alias.devices",
    file: "devices.tf",
    title: "Device identities (AWS IoT Core things and certificates, the credentials provider's role alias)",
    relations: [{ kind: "grants", target: "aws_iam_role.devices" }],
    implements: ["workload-identity"],
    attributes: { devices, credentialSeconds: 3600 },
  });
  b.add({
    address: "aws_iam_role.devices",
    file: "devices.tf",
    title: "The devices' role (reads releases, writes its own device's telemetry only)",
    relations: [
      { kind: "reads", target: "aws_s3_bucket.bundles" },
      { kind: "writes", target: "aws_s3_bucket.telemetry" },
    ],
  });
  b.add({
    address: "aws_iam_role.release",
    file: "release.tf",
    title: "Release identity (GitHub OIDC role: publishes bundles, moves channels, reads device status)",
    relations: [
      { kind: "writes", target: "aws_s3_bucket.bundles" },
      { kind: "reads", target: "aws_s3_bucket.telemetry" },
    ],
    implements: ["deploy-identity"],
  });
  if (f.cmk) {
    b.add({
      address: key,
      file: "kms.tf",
      title: "KMS key (customer managed, rotated yearly)",
      item: "Encryption keys",
      meters: [{ price: "kmsKeyMonthly", quantity: 1, unit: "key-months" }],
      implements: ["customer-managed-key", "encryption-at-rest"],
    });
    const encrypted = ["aws_s3_bucket.bundles", "aws_s3_bucket.telemetry"];
    b.relate("encrypts", key, encrypted);
    b.grantKey(encrypted, [
      {
        id: "devices",
        holder: "aws_iam_role.devices",
        principal: "aws_iam_role.devices.arn",
        targets: encrypted,
      },
      {
        id: "release",
        holder: "aws_iam_role.release",
        principal: "aws_iam_role.release.arn",
        targets: encrypted,
      },
    ]);
  }
}

/** Releases a month: one a retraining (training.cadence), at least one a month. */
function releasesOf(cadence: string): number {
  const perMonth: Record<string, number> = { daily: 30.4, weekly: 4.35, monthly: 1 };
  return perMonth[cadence] ?? 1;
}
