/**
 * The cloud side of an on-device plan (templates/terraform/<cloud>-edge/). Nothing serves in the
 * cloud: the devices do.
 * - AWS: the bundle store (S3, versioned, under Object Lock), the telemetry store, the devices'
 *   identities (AWS IoT Core things whose certificates the IoT credentials provider exchanges for a
 *   role that reads releases and writes only the device's own telemetry) and the release workflow's
 *   role.
 * - Azure: the bundle store (Blob Storage, versioned, version-level immutability) read by devices with
 *   the fleet's read-only SAS, an IoT Hub whose devices authenticate with their own certificates and
 *   upload through its file upload into the telemetry store (filed under each device's ID), and the
 *   release workflow's identity.
 */
import { EDGE_DEFAULTS, EDGE_RETENTION_DAYS } from "../edge/defaults.js";
import { azureKeyGrants, azureKeyVault } from "./azure.js";
import { facts, type InventoryBuilder } from "./build.js";
import type { InventoryInput } from "./types.js";
import { HOURS_PER_MONTH } from "./usage.js";

const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** Bytes of one answer's telemetry record as the spool writes it (a JSON line: time, model, version, status, latency). */
const RECORD_BYTES = 120;
/** How often the release workflow's promote job runs (its schedule, src/generate/ci/edge-release.ts). */
export const PROMOTE_RUNS_PER_MONTH = HOURS_PER_MONTH;

/**
 * The clouds whose on-device plans get their cloud side built: those with a managed device registry
 * (AWS IoT Core, Azure IoT Hub; Google Cloud has none since IoT Core was retired).
 */
export const EDGE_CLOUDS: ReadonlySet<string> = new Set(["aws", "azure"]);

/**
 * Messages a day one IoT Hub S1 unit takes (Azure's IoT Hub quotas; the figure the S1 price is for,
 * rules/prices/azure.yaml iotHubS1UnitMonthly).
 */
export const IOT_HUB_S1_MESSAGES_PER_DAY = 400_000;
/** The Azure edge stack's containers: the releases (bundles, channels) and the hub's uploads. */
export const AZURE_EDGE_CONTAINERS = { releases: "releases", uploads: "uploads" } as const;

/** IoT Hub calls of one file upload: asking for the blob's SAS, then the completion notice (src/edge/iothub.ts). */
const HUB_CALLS_PER_UPLOAD = 2;

/** The two stores' meters, the same on every cloud (the devices' and the release job's requests). */
function storeMeters(input: InventoryInput) {
  const { spec } = input;
  const devices = spec.edge?.devices ?? 1;
  const int8 = input.capacity.precision === "int8";
  const bundleMb = int8 ? spec.model.sizeMb / 4 : spec.model.sizeMb;
  const releasesPerMonth = releasesOf(spec.training.cadence);
  const keptReleases = Math.ceil((releasesPerMonth * EDGE_RETENTION_DAYS.bundles) / 30.4);
  const polls = SECONDS_PER_MONTH / EDGE_DEFAULTS.pollIntervalS;
  const uploads = SECONDS_PER_MONTH / EDGE_DEFAULTS.uploadIntervalS;
  const answers = input.averageQps * SECONDS_PER_MONTH;
  const telemetryGbMonth = (answers * RECORD_BYTES * (EDGE_RETENTION_DAYS.telemetry / 30.4)) / 1e9;
  // each device puts a batch and its status every upload interval
  const uploadsPerMonth = devices * uploads * 2;
  return {
    devices,
    uploadsPerMonth,
    bundles: [
      {
        price: "objectStoragePerGbMonth" as const,
        quantity: round2((bundleMb / 1024) * keptReleases),
        unit: "GB-month",
        assumption: `${keptReleases} releases kept (${round2(releasesPerMonth)} a month from training.cadence ${spec.training.cadence}, locked for ${EDGE_RETENTION_DAYS.bundles} days) of ${round2(bundleMb)} MB (model.sizeMb${int8 ? " at int8" : ""})`,
      },
      {
        price: "objectReadsPerThousand" as const,
        quantity: round2((devices * polls + PROMOTE_RUNS_PER_MONTH * 8) / 1000),
        unit: "thousand GET requests",
        assumption: `${devices} devices asking their ring's channel every ${EDGE_DEFAULTS.pollIntervalS} s, and the hourly promote job reading the channels and manifests; bundle downloads (a few files a release a device) left out`,
      },
    ],
    telemetry: [
      {
        price: "objectStoragePerGbMonth" as const,
        quantity: round2(telemetryGbMonth),
        unit: "GB-month",
        assumption: `${round2(input.averageQps)} answers a second across the fleet (the average load), ${RECORD_BYTES} bytes each, kept ${EDGE_RETENTION_DAYS.telemetry} days`,
      },
      {
        price: "objectWritesPerThousand" as const,
        quantity: round2((uploadsPerMonth + PROMOTE_RUNS_PER_MONTH) / 1000),
        unit: "thousand PUT and LIST requests",
        assumption: `${devices} devices each putting a batch and its status every ${EDGE_DEFAULTS.uploadIntervalS} s while connected (an upper bound: offline time sends nothing, and a batch after it carries the backlog), and the promote job listing the statuses hourly`,
      },
      {
        price: "objectReadsPerThousand" as const,
        quantity: round2((PROMOTE_RUNS_PER_MONTH * devices) / 1000),
        unit: "thousand GET requests",
        assumption: `the hourly promote job reading each of ${devices} devices' status`,
      },
    ],
  };
}

/** IoT Hub S1 units for the fleet's file uploads, and the messages a day they are sized on. */
function hubUnitsOf(uploadsPerMonth: number): { units: number; messagesPerDay: number } {
  const messagesPerDay = Math.ceil(((uploadsPerMonth * HUB_CALLS_PER_UPLOAD) / SECONDS_PER_MONTH) * 86_400);
  return { units: Math.max(1, Math.ceil(messagesPerDay / IOT_HUB_S1_MESSAGES_PER_DAY)), messagesPerDay };
}

export function awsEdgeInventory(input: InventoryInput, b: InventoryBuilder): void {
  const f = facts(input);
  const { devices, bundles, telemetry } = storeMeters(input);
  const key = "aws_kms_key.main";

  b.add({
    address: "aws_s3_bucket.bundles",
    file: "bundles.tf",
    title: `Bundle store (S3, versioned, Object Lock ${EDGE_RETENTION_DAYS.bundles} days)`,
    item: "Bundle store",
    meters: bundles,
    implements: ["encryption-at-rest", "versioned-data", "data-retention"],
    attributes: { retentionDays: EDGE_RETENTION_DAYS.bundles },
  });
  b.add({
    address: "aws_s3_bucket.telemetry",
    file: "telemetry.tf",
    title: `Device telemetry (S3, ${EDGE_RETENTION_DAYS.telemetry} days)`,
    item: "Device telemetry",
    meters: telemetry,
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

export function azureEdgeInventory(input: InventoryInput, b: InventoryBuilder): void {
  const f = facts(input);
  const { devices, bundles, telemetry, uploadsPerMonth } = storeMeters(input);
  const key = "azurerm_key_vault_key.main";
  const encrypted = ["azurerm_storage_account.releases", "azurerm_storage_account.uploads"];
  const { units, messagesPerDay } = hubUnitsOf(uploadsPerMonth);
  b.add({
    address: "azurerm_storage_account.releases",
    file: "releases.tf",
    title: `Bundle store (Blob Storage, versioned, version-level immutability ${EDGE_RETENTION_DAYS.bundles} days)`,
    item: "Bundle store",
    meters: bundles,
    implements: ["encryption-at-rest", "versioned-data", "data-retention"],
    attributes: { retentionDays: EDGE_RETENTION_DAYS.bundles },
  });
  b.add({
    address: "azurerm_storage_account.uploads",
    file: "uploads.tf",
    title: `Device telemetry (the IoT Hub's upload container, ${EDGE_RETENTION_DAYS.telemetry} days)`,
    item: "Device telemetry",
    meters: telemetry,
    implements: ["encryption-at-rest", "data-retention"],
    attributes: { retentionDays: EDGE_RETENTION_DAYS.telemetry },
  });
  b.add({
    address: "azurerm_iothub.main",
    file: "hub.tf",
    title: "Device identities (IoT Hub S1: X.509 thumbprints, file upload under each device's ID)",
    item: "Device registry",
    meters: [
      {
        price: "iotHubS1UnitMonthly",
        quantity: units,
        unit: "S1 unit-months",
        assumption: `${messagesPerDay} messages a day counted as an upper bound (${devices} devices, two uploads every ${EDGE_DEFAULTS.uploadIntervalS} s, ${HUB_CALLS_PER_UPLOAD} hub calls each), ${IOT_HUB_S1_MESSAGES_PER_DAY} a day per unit`,
      },
    ],
    relations: [{ kind: "writes", target: "azurerm_storage_account.uploads" }],
    implements: ["workload-identity"],
    attributes: { devices, units, messagesPerDay },
  });
  b.add({
    address: "azurerm_user_assigned_identity.hub",
    file: "hub.tf",
    title: "The hub's identity (writes the devices' uploads)",
    relations: [{ kind: "writes", target: "azurerm_storage_account.uploads" }],
  });
  b.add({
    address: "azurerm_user_assigned_identity.release",
    file: "release.tf",
    title:
      "Release identity (GitHub OIDC federated credential: publishes bundles, moves channels, reads device status)",
    relations: [
      { kind: "writes", target: "azurerm_storage_account.releases" },
      { kind: "reads", target: "azurerm_storage_account.uploads" },
    ],
    implements: ["deploy-identity"],
  });
  if (f.cmk) {
    azureKeyVault(b, 0.1, "about 1,000 wrap/unwrap calls a month: the two storage accounts' key refreshes");
    b.add({
      address: "azurerm_user_assigned_identity.storage",
      file: "kms.tf",
      title: "The storage accounts' identity (wraps their keys with the customer-managed key)",
    });
    b.relate("encrypts", key, encrypted);
    azureKeyGrants(b, key, encrypted);
  }
}

/** Releases a month: one a retraining (training.cadence), at least one a month. */
function releasesOf(cadence: string): number {
  const perMonth: Record<string, number> = { daily: 30.4, weekly: 4.35, monthly: 1 };
  return perMonth[cadence] ?? 1;
}
