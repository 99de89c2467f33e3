/**
 * A managed model endpoint (serving.runtime: managed-endpoint), as the inventory builds it and the
 * Terraform and the deploy workflow name it: Amazon SageMaker real-time endpoints, one per environment,
 * each with one production variant on the managed-endpoint instance type that mirrors the instance the
 * capacity model sized (the price table's `managedEndpointInstances`), and the CloudWatch alarms that
 * page and roll a release back. Vertex AI endpoints and Azure ML online endpoints are not built.
 */
import type { InventoryBuilder } from "./build.js";
import { UnknownPriceError } from "./prices.js";
import type { InventoryInput } from "./types.js";

/** The one production variant of every endpoint: a release's new configuration keeps its name. */
export const ENDPOINT_VARIANT = "AllTraffic";

/**
 * The alarms of each endpoint (sagemaker.tf), which page and which SageMaker's deployment guardrails
 * watch to roll a release back: the p99 of the model's latency against the SLO, and the 5xx share.
 */
export const ENDPOINT_ALARMS = ["latency", "errors"] as const;
export type EndpointAlarm = (typeof ENDPOINT_ALARMS)[number];

/**
 * The managed endpoint's instance type that mirrors the one the capacity model sized, which the
 * generators read from the inventory (`managedInstance`); a price table without one is an error.
 */
export function managedInstanceFor(input: InventoryInput, b: InventoryBuilder): string {
  const { capacity, prices } = input;
  const instance = prices.table.managedEndpointInstances.find(
    (m) => m.instance === capacity.instanceType,
  )?.name;
  if (!instance)
    throw new UnknownPriceError(
      `the ${prices.cloud} price table has no managed endpoint instance mirroring ${capacity.instanceType} (managedEndpointInstances)`,
    );
  b.vars.managedInstance = instance;
  return instance;
}

/**
 * The alarms of each endpoint (ENDPOINT_ALARMS), one block per alarm with an instance per endpoint,
 * priced per endpoint at the cloud's alarm rate: CloudWatch alarms, Cloud Monitoring alert policies or
 * Azure Monitor metric alert rules.
 */
export function addEndpointAlarms(
  b: InventoryBuilder,
  environments: number,
  o: { type: string; file: string; what: string; does: string; unit: string },
): void {
  for (const alarm of ENDPOINT_ALARMS)
    b.add({
      address: `${o.type}.${alarm}`,
      file: o.file,
      title: `Each endpoint's ${alarm} ${o.what}: ${o.does}`,
      item: "Alarms",
      meters: [{ price: "alarmMonthly", quantity: environments, unit: `${o.unit} (one per endpoint)` }],
      implements: ["alert-rules"],
    });
}
