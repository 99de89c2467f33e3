/**
 * What `stackwright edge run` does unless told otherwise: the CLI's defaults and what platform/edge/
 * (rollout.yaml, README.md) says a device does.
 */
export const EDGE_DEFAULTS = {
  healthChecks: 3,
  healthIntervalS: 10,
  pollIntervalS: 300,
  uploadIntervalS: 60,
} as const;

/**
 * Where things live in the bundle store and the telemetry store: the devices, the release commands
 * and the Terraform's IAM policies (a device may write only under its own name) all read this.
 */
export const EDGE_STORE_LAYOUT = {
  /** bundles/<version>/: each published bundle (the bundle store) */
  bundles: "bundles",
  /** channels/<ring>.json: each ring's pointer (the bundle store) */
  channels: "channels",
  /** telemetry/<device>/<batch>.json: each device's sealed batches (the telemetry store) */
  telemetry: "telemetry",
  /** status/<device>.json: each device's status, what the release gates read (the telemetry store) */
  status: "status",
} as const;

/**
 * How long the stores keep what they hold (the Terraform's object lock and lifecycle rules; the cost
 * model's stored quantities). Decisions, not measurements:
 * - bundles: a year under S3 Object Lock (governance mode), so any release a device ran in the past
 *   year can still be verified and run again, and nobody without the bypass permission deletes one;
 * - telemetry: 90 days, the window retraining and drift analysis read (data.retention of a spec
 *   overrides nothing here: device telemetry is not the training data).
 */
export const EDGE_RETENTION_DAYS = { bundles: 365, telemetry: 90 } as const;
