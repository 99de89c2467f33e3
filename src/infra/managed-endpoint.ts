/**
 * A managed model endpoint (serving.runtime: managed-endpoint), as the inventory builds it and the
 * Terraform and the deploy workflow name it: Amazon SageMaker real-time endpoints, one per environment,
 * each with one production variant on the managed-endpoint instance type that mirrors the instance the
 * capacity model sized (the price table's `managedEndpointInstances`), and the CloudWatch alarms that
 * page and roll a release back. Vertex AI endpoints and Azure ML online endpoints are not built.
 */
import type { RegionalPrices } from "./prices.js";

/** The one production variant of every endpoint: a release's new configuration keeps its name. */
export const ENDPOINT_VARIANT = "AllTraffic";

/**
 * The alarms of each endpoint (sagemaker.tf), which page and which SageMaker's deployment guardrails
 * watch to roll a release back: the p99 of the model's latency against the SLO, and the 5xx share.
 */
export const ENDPOINT_ALARMS = ["latency", "errors"] as const;
export type EndpointAlarm = (typeof ENDPOINT_ALARMS)[number];

/** The managed endpoint's instance type that mirrors `instanceType`, or null when the table has none. */
export function managedInstanceOf(prices: RegionalPrices, instanceType: string): string | null {
  return prices.table.managedEndpointInstances.find((m) => m.instance === instanceType)?.name ?? null;
}
