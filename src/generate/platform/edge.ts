/**
 * platform/edge/ of an edge or embedded plan, beside the bundle's serving configuration and sample
 * model: the health request a device sends after a swap, the rollout's rings and gates as data, a Node
 * entry that runs a bundle in the application's process, a browser entry on onnxruntime-web, and the
 * README that says how to bundle, sign, verify and run it, and what is not generated.
 */
import { stringify } from "yaml";
import { EDGE_DEFAULTS, EDGE_RETENTION_DAYS, EDGE_STORE_LAYOUT } from "../../edge/defaults.js";
import type { Ring } from "../../edge/rollout.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import { AZURE_EDGE_CONTAINERS } from "../../infra/index.js";
import { choiceOf, decisionOf } from "../../plan/index.js";
import type { Plan } from "../../plan/types.js";
import { EDGE_RELEASE } from "../edge-release.js";
import { fastBurn } from "./monitoring.js";
import { servedModels } from "./serve-config.js";

/** The rings a release passes through: canary devices, one site (when there are several), the fleet. */
export function ringsOf(plan: Plan): Ring[] {
  const edge = plan.requirements.edge!;
  const params = decisionOf(plan, "deployment.strategy").params;
  const soakHours = Number(params.soakHours ?? 24);
  const gate = { maxErrorRate: fastBurn(plan), maxP99Ms: plan.requirements.inference.latencyP99Ms };
  const canary = Math.min(
    edge.devices,
    Math.max(1, Math.ceil((edge.devices * Number(params.canaryPercent ?? 5)) / 100)),
  );
  const site = Math.ceil(edge.devices / edge.sites);
  return [
    { name: "canary", devices: canary, soakHours, gate: { ...gate } },
    ...(edge.sites > 1 && site > canary
      ? [{ name: "site", devices: site, soakHours, gate: { ...gate } }]
      : []),
    ...(edge.devices > canary
      ? [{ name: "fleet", devices: edge.devices, soakHours: 0, gate: { ...gate } }]
      : []),
  ];
}

const HEADER_JS = `// ${GENERATED_HEADER}`;

export function edgeFiles(plan: Plan, healthRequest: unknown): Record<string, string> {
  const name = plan.requirements.metadata.name;
  const model = servedModels(plan).primary;
  const rings = ringsOf(plan);
  const rollout = {
    apiVersion: "stackwright.dev/v1",
    kind: "EdgeRollout",
    bundle: name,
    // each ring's pointer, {"version": "...", "bundle": "<URL of the bundle's directory>"}, is what
    // its devices poll (stackwright edge run --channel); a release moves them in this order
    channel: `${EDGE_STORE_LAYOUT.channels}/{ring}.json`,
    device: {
      healthChecks: EDGE_DEFAULTS.healthChecks,
      healthIntervalSeconds: EDGE_DEFAULTS.healthIntervalS,
      healthRequest: "health-request.json",
      pollIntervalSeconds: EDGE_DEFAULTS.pollIntervalS,
      uploadIntervalSeconds: EDGE_DEFAULTS.uploadIntervalS,
    },
    rings,
  };
  return {
    "platform/edge/health-request.json": `${JSON.stringify(healthRequest, null, 2)}\n`,
    "platform/edge/rollout.yaml": `# ${GENERATED_HEADER}\n${stringify(rollout, { lineWidth: 0 })}`,
    "platform/edge/embedded.mjs": embeddedEntry(model),
    "platform/edge/browser.mjs": browserEntry(),
    "platform/README.md": edgeReadme(plan, rings),
  };
}

/** The Node entry: a verified bundle's model in the application's own process. */
function embeddedEntry(model: string): string {
  return `${HEADER_JS}
// Runs a bundle of this platform inside a Node application (the serving core in process): the bundle is
// verified with the fleet's public key first, exactly as \`stackwright edge run\` verifies it.
//
//   import { open } from "./embedded.mjs";
//   const model = await open("bundle", { publicKeyPem: readFileSync("fleet.pub", "utf8") });
//   const answer = await model.infer(JSON.parse(readFileSync("health-request.json", "utf8")));
import { openBundle } from "stackwright";

/** The bundle in \`dir\`, verified and loaded; requests go to ${JSON.stringify(model)} unless they name another model. */
export function open(dir, options = {}) {
  return openBundle(dir, options);
}
`;
}

/** The browser (or any WebAssembly sandbox) entry: the bundle's ONNX model on onnxruntime-web. */
function browserEntry(): string {
  return `${HEADER_JS}
// Runs the bundle's ONNX model with onnxruntime-web's WebAssembly backend: in a browser (bundled with
// the page, the .wasm files served beside it: ort.env.wasm.wasmPaths) or under Node (they load from the
// package). Requests and answers are the Open Inference Protocol's JSON, as the serving core's.
//
//   import { loadModel } from "./browser.mjs";
//   const model = await loadModel(await (await fetch("models/<name>/1/model.onnx")).arrayBuffer());
//   const answer = await model.infer({ inputs: [{ name: "input", shape: [1, 8], datatype: "FP32", data: [...] }] });
import * as ort from "onnxruntime-web";

const ARRAYS = { FP32: Float32Array, FP64: Float64Array, INT32: Int32Array, INT64: BigInt64Array, UINT8: Uint8Array, INT8: Int8Array, BOOL: Uint8Array };
const TYPES = { FP32: "float32", FP64: "float64", INT32: "int32", INT64: "int64", UINT8: "uint8", INT8: "int8", BOOL: "bool" };
const DATATYPES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));

/** The model from its bytes (or a URL), ready for infer requests. */
export async function loadModel(model, options = {}) {
  const bytes = model instanceof ArrayBuffer ? new Uint8Array(model) : model;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], ...options });
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async infer(request) {
      const feeds = {};
      for (const input of request.inputs) {
        const Array_ = ARRAYS[input.datatype];
        if (!Array_) throw new Error(\`input \${input.name}: datatype \${input.datatype} is not supported here\`);
        const data = input.datatype === "INT64" ? input.data.map((v) => BigInt(v)) : input.data;
        feeds[input.name] = new ort.Tensor(TYPES[input.datatype], Array_.from(data), input.shape);
      }
      const results = await session.run(feeds);
      return {
        outputs: Object.entries(results).map(([name, tensor]) => ({
          name,
          datatype: DATATYPES[tensor.type] ?? tensor.type,
          shape: [...tensor.dims],
          data: Array.from(tensor.data, (v) => (typeof v === "bigint" ? Number(v) : v)),
        })),
      };
    },
    release: () => session.release(),
  };
}
`;
}

function edgeReadme(plan: Plan, rings: Ring[]): string {
  const spec = plan.requirements;
  const edge = spec.edge!;
  const name = spec.metadata.name;
  const engine = choiceOf(plan, "serving.engine");
  const optimization = choiceOf(plan, "serving.optimization");
  return `<!-- ${GENERATED_HEADER} -->
# ${name}: what the devices run

${edge.devices} ${edge.hardware} devices at ${edge.sites} site(s) (\`inference.mode: ${spec.inference.mode}\`, engine \`${engine}\`).
The capacity model sizes one device: ${plan.capacity.estimatedFrom}.

| path | what it is |
| --- | --- |
| \`edge/serve.yaml\` | the serving core's configuration a bundle carries; model paths are relative to it |
| \`edge/models/\` | a **SAMPLE** model (\`stage: sample\`): generated weights over the declared features, not trained |
| \`edge/health-request.json\` | the infer request a device sends after it swaps in a bundle; it must be answered 200 |
| \`edge/rollout.yaml\` | the rings a release passes through and the gate each must pass (data: nothing here moves them) |
| \`edge/embedded.mjs\` | the Node entry: a verified bundle's model in the application's own process |
| \`edge/browser.mjs\` | the browser entry: the model on onnxruntime-web's WebAssembly backend |
${optimization === "int8-quantization" ? "\nThe plan quantizes the model to int8 to fit the device's memory (`serving.optimization`): nothing here quantizes. Quantize the trained model (ONNX Runtime's quantize_dynamic, or static quantization with a calibration set) before it is bundled, and measure its accuracy against the FP32 model.\n" : ""}
## Bundle, sign, verify

\`\`\`sh
npx stackwright edge keygen --out keys                     # once: keys/edge-signing.key stays with whoever signs releases
npx stackwright edge bundle --from platform/edge --out dist/bundle --name ${name} --bundle-version 2026.12.04-1 --sequence 1 --key keys/edge-signing.key
npx stackwright edge verify dist/bundle --key keys/edge-signing.pub
\`\`\`

A device refuses a bundle that is unsigned, signed with another key, has a changed, missing or added
file, or names a path outside itself; and from its channel, a release whose \`--sequence\` is not later
than the one it runs (a channel cannot roll devices back: going back to an old model is a new release).

${spec.cloud.provider === "aws" ? awsCloudSide(plan, rings) : spec.cloud.provider === "azure" ? azureCloudSide(rings) : selfHosted(rings)}`;
}

/** The README's device and release sections where the cloud side is built (infra/terraform/aws/). */
function awsCloudSide(plan: Plan, rings: Ring[]): string {
  const layout = EDGE_STORE_LAYOUT;
  return `## The cloud side (\`infra/terraform/aws/\`)

Nothing serves in the cloud. The Terraform builds the bundle store (S3, versioned, Object Lock for
${EDGE_RETENTION_DAYS.bundles} days: \`${layout.bundles}/<version>/\` and \`${layout.channels}/<ring>.json\`), the telemetry store
(\`${layout.telemetry}/<device>/\`, kept ${EDGE_RETENTION_DAYS.telemetry} days, and \`${layout.status}/<device>.json\`), one AWS IoT Core thing per device, and
the release role GitHub Actions assumes (\`.github/workflows/edge-release.yml\`).

### Enrol a device

\`\`\`sh
# on the device: its own key, which never leaves it, and a request for its certificate
openssl ecparam -name prime256v1 -genkey -noout -out device.key
openssl req -new -key device.key -subj "/CN=line-1-pi-01" -out device.csr
\`\`\`

Add the request to \`device_csrs\` (and the device's ring to \`device_rings\`) in the Terraform's variables and
apply: AWS IoT Core signs it (output \`device_certificates\`). Copy the certificate to the device as
\`device.crt\`, with Amazon's root CA (\`AmazonRootCA1.pem\`), and write its identity file:

\`\`\`json
{ "provider": "aws-iot", "credentialsEndpoint": "<output credentials_endpoint>", "roleAlias": "<output role_alias>",
  "thingName": "line-1-pi-01", "region": "${plan.requirements.cloud.region}", "certificate": "device.crt", "privateKey": "device.key", "ca": "AmazonRootCA1.pem" }
\`\`\`

### Run on a device

\`\`\`sh
npx stackwright edge run --key edge-signing.pub --identity identity.json \\
  --channel s3://<output bundle_store>/${layout.channels}/<ring>.json --upload s3://<output telemetry_store>
\`\`\`

The device presents its certificate to the IoT credentials provider (mutual TLS) and works with an
hour of the devices' role: it reads releases and writes under its own name only. The serving core
answers on \`.stackwright-edge/serve.sock\` (the Open Inference Protocol over HTTP) and as JSON lines on
stdin. Every answer's status and latency is kept on disk and put in the telemetry store when it can be
reached (each batch once, under its own key), with the device's status: the answers, errors and latency
histogram of each version it ran, and the versions it reverted. Every
${rollout(rings)}

${releases(rings, "s3://<bundle store>", "s3://<telemetry store>")}`;
}

/** The README's release section where the cloud side is built: the workflow, and the same steps by hand. */
function releases(rings: Ring[], store: string, telemetry: string): string {
  return `## Releases, ring by ring

${ringLines(rings)}

\`.github/workflows/edge-release.yml\`: a change to \`platform/edge/\` builds the bundle, signs it with the
fleet's key (the secret \`${EDGE_RELEASE.signingKeySecret}\` of the GitHub environment \`${EDGE_RELEASE.environment}\`), publishes it (a
published version is never replaced) and points the first ring at it. Every hour it promotes the next
ring whose previous ring passed its gate: soaked for the ring's hours, reported by as many devices as the
ring counts (the rings before it included), under the gate's error rate and p99, and reverted by no
device. A gate that fails halts the release there and fails the run. The same steps by hand:

\`\`\`sh
npx stackwright edge publish dist/bundle --store ${store} --key keys/edge-signing.pub
npx stackwright edge promote --rollout platform/edge/rollout.yaml --store ${store} --telemetry ${telemetry} --key keys/edge-signing.pub [--ring canary --bundle-version 2026.12.04-1]
\`\`\`

Set once: the repository variable \`${EDGE_RELEASE.publicKeyVariable}\` (the public key), the environment secret
\`${EDGE_RELEASE.signingKeySecret}\` (the private key) and the environment's variables from the Terraform output
\`github_environment_variables\`.
`;
}

/** The README's device and release sections on Azure (infra/terraform/azure/). */
function azureCloudSide(rings: Ring[]): string {
  const layout = EDGE_STORE_LAYOUT;
  const { releases: r, uploads: u } = AZURE_EDGE_CONTAINERS;
  return `## The cloud side (\`infra/terraform/azure/\`)

Nothing serves in the cloud. The Terraform builds the bundle store (Blob Storage, the container \`${r}\`,
versioned, with version-level immutability for ${EDGE_RETENTION_DAYS.bundles} days: \`${layout.bundles}/<version>/\` and \`${layout.channels}/<ring>.json\`),
an IoT Hub (S1) that knows each device by its certificate and takes its uploads into the container
\`${u}\` (\`<device>/${layout.telemetry}/\`, kept ${EDGE_RETENTION_DAYS.telemetry} days, and \`<device>/${layout.status}.json\`), and the release
identity GitHub Actions signs in as (\`.github/workflows/edge-release.yml\`).

### Enrol a device

\`\`\`sh
# on the device: its own key, which never leaves it, and a self-signed certificate of its ID
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \\
  -keyout device.key -out device.crt -subj "/CN=line-1-pi-01"
openssl x509 -in device.crt -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :
\`\`\`

Add the device to \`devices\` in the Terraform's variables (its thumbprint, and its ring) and apply; then
run the device's line of the output \`enrol_commands\` (the hub's registry is its data plane, which
Terraform does not manage: the Azure CLI's azure-iot extension registers the thumbprint and records the
ring as a twin tag). Write the output \`device_releases_sas\` to the device as \`releases.sas\`, and its
identity file (no \`ca\`: the hub and storage are checked against Node's own roots; \`ca\` names a file
of roots to trust instead):

\`\`\`json
{ "provider": "azure-iot-hub", "hubHostName": "<host of output hub_upload_url>", "deviceId": "line-1-pi-01",
  "certificate": "device.crt", "privateKey": "device.key", "releasesSas": "releases.sas" }
\`\`\`

The read-only SAS expires on \`device_sas_expiry\`: before then, give it new dates, apply, and write the
new output to every device (the file is read at each use). Revoke it early by rotating the release
storage account's keys.

### Run on a device

\`\`\`sh
npx stackwright edge run --key edge-signing.pub --identity identity.json \\
  --channel <output bundle_store>/${layout.channels}/<ring>.json --upload <output hub_upload_url>
\`\`\`

The device reads its ring's channel and the bundles with the read-only SAS, and uploads through the hub:
for each upload it signs in with its certificate (mutual TLS) and gets a SAS for one blob, which the hub
files under the device's ID, so a device writes as itself only. The serving core answers on
\`.stackwright-edge/serve.sock\` (the Open Inference Protocol over HTTP) and as JSON lines on stdin. Every
answer's status and latency is kept on disk and uploaded when the hub can be reached (each batch once),
with the device's status: the answers, errors and latency histogram of each version it ran, and the
versions it reverted. Every
${rollout(rings)}

${releases(rings, "<output bundle_store>", "<output telemetry_store>")}`;
}

/** Where the cloud side is not built: the devices' commands against stores the team hosts. */
function selfHosted(rings: Ring[]): string {
  return `## Run on a device

\`\`\`sh
STACKWRIGHT_EDGE_UPLOAD_TOKEN=... npx stackwright edge run dist/bundle --key edge-signing.pub \\
  --channel https://<bundle store>/${EDGE_STORE_LAYOUT.channels}/canary.json --upload https://<telemetry endpoint>
\`\`\`

The serving core answers on \`.stackwright-edge/serve.sock\` (the Open Inference Protocol over HTTP) and
as JSON lines on stdin. Every answer's status and latency is kept on disk and posted with the drift
statistics when the upload URL answers (each batch once, with an Idempotency-Key). Every
${rollout(rings)}

## The rings

${ringLines(rings)}

A release copies the next ring's pointer, \`${EDGE_STORE_LAYOUT.channels}/<ring>.json\` (\`{"version": "...", "bundle": "<URL of the bundle's directory>"}\`),
once the ring before it passed its gate (\`stackwright edge promote\` does so against an S3 bucket).

## Not generated on this cloud

The cloud side is built on AWS and Azure only: the bundle store, per-device identities (AWS IoT Core,
Azure IoT Hub; Google Cloud has had no managed device registry since IoT Core was retired), the
telemetry store and the release workflow. Host the bundles, the channel pointers and a telemetry
endpoint yourself.
`;
}

function ringLines(rings: Ring[]): string {
  return rings
    .map(
      (r) =>
        `- **${r.name}**: ${r.devices} device(s)${r.soakHours ? `, ${r.soakHours} h before the next ring` : ""}; its gate: at most ${r.gate.maxErrorRate} of answers failed and a p99 of at most ${r.gate.maxP99Ms} ms in its devices' telemetry`,
    )
    .join("\n");
}

function rollout(rings: Ring[]): string {
  return `${EDGE_DEFAULTS.pollIntervalS} s the device asks its ring's channel for the version it should run; a new bundle is downloaded (its manifest checked first, and refused unless it is the version the pointer names), verified, swapped in, kept after ${EDGE_DEFAULTS.healthChecks} passing health checks and reverted after ${EDGE_DEFAULTS.healthChecks} failing ones (readiness, then \`health-request.json\`), and a reverted version is not tried again. ${rings.length} ring(s): ${rings.map((r) => r.name).join(", ")}.`;
}
