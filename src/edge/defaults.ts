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
