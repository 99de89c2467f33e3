/**
 * The runnable reference platform (platform/): serve.yaml for `stackwright serve --config`, a small
 * sample ONNX model built deterministically from the spec (a logistic model over the declared
 * features) with reference histograms for drift, a Dockerfile for the image the Helm chart runs, and
 * monitoring as code (Prometheus alert rules and a Grafana dashboard) with thresholds from the spec.
 */
import { stringify } from "yaml";
import type { FileSet } from "../../fileset/index.js";
import { GENERATED_HEADER } from "../../fileset/index.js";
import type { Plan } from "../../plan/types.js";
import type { ModelMeta, ServeConfigInput } from "../../serve/config.js";
// pure modules of the serving core (no onnxruntime): the same builder and histograms the server reads
import { referenceFrom } from "../../serve/drift.js";
import { buildMlp, seededRandom } from "../../serve/onnx-build.js";
import { defaultPackageSpec } from "../../util/package-source.js";
import { CONTAINER_PORT, serveArgs } from "../commands.js";
import { engineArgs } from "../engine-deploy.js";
import { GPU_IMAGE_TAG_SUFFIX } from "../helm/index.js";
import { type ManagedEndpoint, managedEndpointOf } from "../managed-endpoint.js";
import { edgeFiles } from "./edge.js";
import { engineReadme } from "./engine-readme.js";
import { grafanaDashboard, prometheusRules } from "./monitoring.js";
import { generateFeatureStore, generatePipelines } from "./pipelines.js";
import {
  clusterSecrets,
  defaultFeatures,
  type FeatureField,
  ONLINE_FEATURES_FILE,
  PLATFORM_DIR_IN_IMAGE,
  REDIS_URL_ENV,
  serveConfigFromPlan,
  servedModels,
} from "./serve-config.js";

/** Node image for the serving container, pinned (the Helm chart's image builds FROM it). */
export const NODE_IMAGE = "node:24.11.1-bookworm-slim";

function seedOf(plan: Plan): number {
  return Number.parseInt(plan.spec.hash.slice(7, 15), 16) >>> 0;
}

function decision(plan: Plan, capability: string) {
  return plan.decisions.find((d) => d.capability === capability)!;
}

/**
 * How the sample model draws one feature: from the declared range, else a neutral one for its type
 * (booleans 0/1, integers 0..100, floats around 0). `mid` and `spread` scale the sample's weights so
 * no feature saturates the output.
 */
function distributionOf(field: FeatureField): {
  draw: (random: () => number) => number;
  mid: number;
  spread: number;
} {
  const { min, max } = field;
  const normal = (random: () => number) =>
    Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  switch (field.type) {
    case "bool":
      return { draw: (random) => (random() < 0.5 ? 0 : 1), mid: 0.5, spread: 1 };
    case "int": {
      const lo = Math.ceil(min ?? 0);
      const hi = Math.floor(max ?? (min !== null ? min + 100 : 100));
      return {
        draw: (random) => lo + Math.floor(random() * (hi - lo + 1)),
        mid: (lo + hi) / 2,
        spread: Math.max(1, hi - lo),
      };
    }
    case "string":
      // the model sees a string through its encoding (a code in [0, 1))
      return { draw: (random) => random(), mid: 0.5, spread: 1 };
    default: {
      if (min !== null && max !== null)
        return { draw: (random) => min + random() * (max - min), mid: (min + max) / 2, spread: max - min };
      // one bound or none: a unit normal on the open side of the bound
      const at = min ?? max ?? 0;
      const side = min !== null ? 1 : max !== null ? -1 : 0;
      return {
        draw: (random) => at + (side === 0 ? normal(random) : side * Math.abs(normal(random))),
        mid: at + side * 0.8,
        spread: 2,
      };
    }
  }
}

/**
 * The sample model: a logistic model over the declared features with seeded weights, marked
 * `stage: sample` (it serves until a trained version is published and the deploy workflow refuses to
 * promote it), with reference histograms drawn from each feature's type and declared range.
 */
export interface SampleModel {
  bytes: Uint8Array;
  meta: ModelMeta;
}

/** A seeded logistic model over the features; `use` picks the features that carry weight. */
function logistic(
  plan: Plan,
  seedOffset: number,
  use: (index: number) => boolean,
): { bytes: Uint8Array; reference: NonNullable<ModelMeta["reference"]> } {
  const fields = defaultFeatures(plan);
  const random = seededRandom((seedOf(plan) + seedOffset) >>> 0);
  const distributions = fields.map(distributionOf);
  const weights = distributions.map((d, i) =>
    use(i) ? Math.round(((random() * 2 - 1) / d.spread) * 1e6) / 1e6 : 0,
  );
  const bias = Math.round(-weights.reduce((sum, w, i) => sum + w * distributions[i].mid, 0) * 1e6) / 1e6;
  const bytes = buildMlp({
    layers: [fields.length, 1],
    sigmoid: true,
    weights: [weights],
    biases: [[bias]],
    outputName: "probability",
  });
  const reference: NonNullable<ModelMeta["reference"]> = {};
  const bins = Number(decision(plan, "monitoring.drift").params.bins ?? 10);
  fields.forEach((field, i) => {
    const values = Array.from({ length: 2000 }, () => distributions[i].draw(random));
    const ref = referenceFrom(values, bins);
    reference[field.name] = {
      edges: ref.edges.map((e) => Math.round(e * 1e4) / 1e4),
      fractions: ref.fractions.map((f) => Math.round(f * 1e4) / 1e4),
    };
  });
  return { bytes, reference };
}

/**
 * The sample model: a logistic model over the declared features with seeded weights, marked
 * `stage: sample` (it serves until a trained version is published and the deploy workflow refuses to
 * promote it), with reference histograms drawn from each feature's type and declared range, and the
 * fallback chain the plan decided.
 */
export function sampleModel(plan: Plan): SampleModel {
  const { bytes, reference } = logistic(plan, 0, () => true);
  const models = servedModels(plan);
  const fallback = decision(plan, "reliability.fallback").choice;
  const meta: ModelMeta = { stage: "sample", features: defaultFeatures(plan).map((f) => f.name), reference };
  // a default answer is the safe response of the endpoint; batch and stream scoring park failures instead
  if (fallback === "fallback-chain")
    meta.fallback = { previousVersion: true, model: models.fallback, default: { probability: [0.5] } };
  else if (fallback === "default-response") meta.fallback = { default: { probability: [0.5] } };
  return { bytes, meta };
}

/**
 * The fallback model of a fallback-chain plan: a smaller sample (the first half of the features carry
 * weight) with the same inputs, so the chain can hand it the primary's request as it is.
 */
export function sampleFallbackModel(plan: Plan): SampleModel {
  const half = Math.max(1, Math.ceil(defaultFeatures(plan).length / 2));
  const { bytes, reference } = logistic(plan, 1, (i) => i < half);
  return {
    bytes,
    meta: {
      stage: "sample",
      features: defaultFeatures(plan).map((f) => f.name),
      reference,
      fallback: { default: { probability: [0.5] } },
    },
  };
}

/**
 * Entities for the embedded feature store (features/online.jsonl), drawn like the sample's reference
 * data: what /v1/predictions finds by entity key until a real export replaces the file.
 */
export function sampleOnlineFeatures(plan: Plan, count = 5): string {
  // a string feature has no values a sample could know: it must come with each request
  const fields = defaultFeatures(plan).filter((f) => f.type !== "string");
  const distributions = fields.map(distributionOf);
  const random = seededRandom((seedOf(plan) + 2) >>> 0);
  const key = plan.requirements.features.entityKey;
  const lines: string[] = [];
  for (let n = 1; n <= count; n++) {
    const row: Record<string, unknown> = { [key]: `sample-${n}` };
    fields.forEach((field, i) => {
      const value = distributions[i].draw(random);
      row[field.name] = field.type === "bool" ? value === 1 : Math.round(value * 1e4) / 1e4;
    });
    lines.push(JSON.stringify(row));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * An Open Inference Protocol infer request for the sample model: one row, every feature at the middle
 * of its sample distribution (a device's health check sends it: platform/edge/health-request.json).
 */
export function exampleInferRequest(plan: Plan) {
  const fields = defaultFeatures(plan);
  return {
    inputs: [
      {
        name: "input",
        shape: [1, fields.length],
        datatype: "FP32",
        data: fields.map((field) => Math.round(distributionOf(field).mid * 1e4) / 1e4),
      },
    ],
  };
}

/** One request's features, each of its declared type, at the middle of its sample distribution. */
function exampleFeatures(plan: Plan): Record<string, unknown> {
  // strings are left out: their categories are the model's (model.yaml encodings), not the sample's
  return Object.fromEntries(
    defaultFeatures(plan)
      .filter((field) => field.type !== "string")
      .map((field) => {
        const { mid } = distributionOf(field);
        const value =
          field.type === "bool"
            ? mid >= 0.5
            : field.type === "int"
              ? Math.round(mid)
              : Math.round(mid * 1e4) / 1e4;
        return [field.name, value];
      }),
  );
}

/**
 * The serving image: stackwright from one package source (ARG STACKWRIGHT_PACKAGE, the same spec the
 * CI steps run), and the platform directory at PLATFORM_DIR_IN_IMAGE with serve.yaml beside the
 * models and features it names by relative path.
 */
/**
 * The CUDA runtime the GPU image runs on: CUDA 12 with cuDNN 9, what onnxruntime-node's CUDA 12
 * execution provider links against (its install script fetches the provider for `cuda12`).
 */
export const CUDA_RUNTIME_IMAGE = "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04";

export type ImageFlavour = "cpu" | "cuda";

/**
 * platform/Dockerfile (CPU: onnxruntime-node's bundled CPU provider, the CUDA download skipped) and,
 * for GPU plans, platform/Dockerfile.gpu (the CUDA 12 provider installed, Node copied onto the CUDA
 * runtime image, the device named on the command line so a missing GPU fails instead of falling
 * back to CPU). The chart runs the second on GPU nodes (gpu.image.tagSuffix).
 */
export function dockerfile(packageSpec: string, flavour: ImageFlavour = "cpu"): string {
  const dir = PLATFORM_DIR_IN_IMAGE;
  const cuda = flavour === "cuda";
  return `# ${GENERATED_HEADER}
# The ${cuda ? "GPU (CUDA 12) " : ""}serving image the Helm chart runs${cuda ? " on GPU nodes" : ""}: stackwright's serving core and the model repository.
# Build from platform/: docker build -t IMAGE${cuda ? " -f platform/Dockerfile.gpu" : ""} platform   (--build-arg STACKWRIGHT_PACKAGE=./stackwright-x.y.z.tgz
# installs a tarball copied into platform/, or name a git URL or an internal registry's package)
FROM ${NODE_IMAGE} AS build
ARG STACKWRIGHT_PACKAGE=${packageSpec}
WORKDIR /build
${cuda ? "# onnxruntime-node's install script fetches its CUDA 12 execution provider libraries\nENV ONNXRUNTIME_NODE_INSTALL=cuda12" : "ENV ONNXRUNTIME_NODE_INSTALL=skip"}
COPY . .
RUN npm init -y >/dev/null && npm install --omit=dev --no-audit --no-fund "$STACKWRIGHT_PACKAGE"

FROM ${cuda ? CUDA_RUNTIME_IMAGE : NODE_IMAGE} AS runtime
${cuda ? "COPY --from=build /usr/local/bin/node /usr/local/bin/node\n" : ""}WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /build/node_modules /app/node_modules
COPY serve.yaml ${dir}/serve.yaml
COPY models ${dir}/models
COPY features ${dir}/features
USER 10001:10001
EXPOSE ${CONTAINER_PORT}
HEALTHCHECK --interval=10s --timeout=2s CMD ["node", "-e", "fetch('http://127.0.0.1:${CONTAINER_PORT}/v2/health/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/node_modules/stackwright/bin/stackwright.js"]
CMD [${serveArgs({ config: `${dir}/serve.yaml`, device: cuda ? "cuda" : undefined })
    .map((a) => JSON.stringify(a))
    .join(", ")}]
`;
}

/** platform/README.md's section on the managed endpoint: how the hosting service runs the image, how to call it. */
function managedEndpointSection(managed: ManagedEndpoint, model: string): string {
  const environment = Object.entries(managed.environment)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(", ");
  const production = managed.environments.at(-1)!;
  if (managed.azureml)
    return `
## On Azure Machine Learning

This plan serves on an Azure Machine Learning managed online endpoint (\`serving.runtime: managed-endpoint\`).
Each release registers this image as an environment whose inference configuration names the serving
core's routes (liveness \`${managed.azureml.livenessRoute}\`, readiness \`${managed.azureml.readinessRoute}\`, scoring
\`${managed.azureml.scoringRoute}\`, port ${managed.azureml.port}) and creates a deployment from it that sets the environment
(${environment}). Callers post an Open Inference Protocol infer request to the endpoint's scoring URI
with a Microsoft Entra ID token (the endpoint's auth mode is \`AADToken\`); the endpoint's name is the
\`${managed.azureml.endpointVariable}\` variable of each GitHub environment (Terraform's output \`github_environment_variables\`):

\`\`\`sh
uri=$(az ml online-endpoint show --name "$${managed.azureml.endpointVariable}" --resource-group ${managed.azureml.resourceGroup} --workspace-name ${managed.azureml.workspace} --query scoring_uri --output tsv)
curl -s -X POST -H "Authorization: Bearer $(az account get-access-token --resource https://ml.azure.com --query accessToken --output tsv)" \\\\
  -H "Content-Type: application/json" "$uri" -d @request.json
\`\`\`
`;
  if (managed.vertex)
    return `
## On Vertex AI

This plan serves on a Vertex AI endpoint (\`serving.runtime: managed-endpoint\`). Each release is
uploaded as a model whose container is this image, configured through the environment the model sets
(${environment}), probed on \`${managed.vertex.healthRoute}\` and sent predictions on
\`${managed.vertex.predictRoute}\` (port ${managed.vertex.port}). Callers use the endpoint's
\`rawPredict\`, which passes an Open Inference Protocol infer request through unchanged and returns the
serving core's answer, authenticated by IAM (\`aiplatform.endpoints.predict\`):

\`\`\`sh
curl -s -X POST -H "Authorization: Bearer $(gcloud auth print-access-token)" -H "Content-Type: application/json" \\
  "https://${"$"}{REGION}-aiplatform.googleapis.com/v1/projects/${"$"}{PROJECT}/locations/${"$"}{REGION}/endpoints/${production.endpointId}:rawPredict" \\
  -d @request.json
\`\`\`

(\`predict\` wraps bodies in \`{"instances": [...]}\`, which the serving core does not read.)
`;
  return `
## On Amazon SageMaker

This plan serves on a SageMaker real-time endpoint (\`serving.runtime: managed-endpoint\`). SageMaker
starts the image as \`serve\` with no other argument, so the serving core takes its options from the
environment the endpoint's model sets (${environment}) and answers SageMaker's contract on port ${CONTAINER_PORT} beside its own API:
\`GET /ping\` (readiness) and \`POST /invocations\` (an Open Inference Protocol infer request for
\`${model}\`). Callers invoke it through SageMaker's API, authenticated by IAM:

\`\`\`sh
aws sagemaker-runtime invoke-endpoint --endpoint-name ${production.endpoint} --content-type application/json \\
  --body fileb://request.json answer.json
\`\`\`
`;
}

/** platform/README.md: what the folder holds, how to run it and build its image, and what is a sample. */
export function platformReadme(plan: Plan, config: ServeConfigInput, packageSpec: string): string {
  const models = servedModels(plan);
  const managed = managedEndpointOf(plan);
  const key = plan.requirements.features.entityKey;
  const online = config.features?.store === "memory" && config.features.file;
  return `<!-- ${GENERATED_HEADER} -->
# ${plan.requirements.metadata.name}: the reference platform

| path | what it is |
| --- | --- |
| \`serve.yaml\` | the serving core's configuration (\`stackwright serve --config serve.yaml\`); model and feature paths are relative to it |
| \`models/${models.primary}/1/\` | a **SAMPLE** model (\`stage: sample\` in model.yaml): generated weights over the declared features, not trained |${
    models.fallback
      ? `
| \`models/${models.fallback}/1/\` | the fallback model of the fallback chain, also a sample |`
      : ""
  }
| \`features/online.jsonl\` | ${online ? `the embedded feature store: one entity per line, keyed by \`${key}\`, reloaded when the file changes (sample entities \`sample-1\`..)` : "empty: this plan keeps no online feature store"} |
| \`Dockerfile\` | the serving image (installs \`${packageSpec}\`) |${
    plan.capacity.hardware === "gpu"
      ? `
| \`Dockerfile.gpu\` | the image the chart runs on GPU nodes (tag suffix \`${GPU_IMAGE_TAG_SUFFIX}\`): onnxruntime-node's CUDA 12 provider on ${CUDA_RUNTIME_IMAGE}, \`--device cuda\` |`
      : ""
  }
| \`monitoring/\` | Prometheus alert rules and a Grafana dashboard, thresholds from the spec |

## The sample model

Every version marked \`stage: sample\` is a stand-in so the platform runs on first use: its weights are
generated, its reference histograms (for drift) are drawn from each feature's declared type and range.
\`serve\`, \`score\` and \`consume\` serve it and say so in their log; the generated deploy workflow
refuses to promote an image that still carries one. Replace it by publishing a trained version:
\`models/${models.primary}/2/model.onnx\` with a \`model.yaml\` saying \`stage: production\`, the same
\`features\` and the reference histograms of its training data.
${
  config.routing?.shadow
    ? `
## Releasing a new version shadow first

This plan releases model versions shadow first (\`deployment.strategy: shadow\`). Publish the candidate
beside the production version as \`models/${models.primary}/<next>/\` with \`stage: staging\` and
\`shadow: true\` in its model.yaml: the serving core asks it a copy of every request after production
answered and compares the answers (\`GET /v2/models/${models.primary}/shadow\`, \`stackwright_shadow_*\`).
The production job of \`.github/workflows/deploy.yml\` waits until enough requests were compared, checks
agreement, score difference and failures against the plan's thresholds, and only then routes every
request to the candidate (\`routing.canaryWeight: 100\`); mark it \`stage: production\` in the next release.
`
    : ""
}
## Run it

\`\`\`sh
npx stackwright serve --config platform/serve.yaml      # from the directory that holds platform/
curl -s localhost:8080/v1/predictions -d '${JSON.stringify(online ? { model_id: models.primary, features: {}, [key]: "sample-1" } : { model_id: models.primary, features: exampleFeatures(plan) })}'
\`\`\`

Features are given by name with their declared types (booleans as \`true\`/\`false\`); one the model does
not read is refused with a 400${online ? `, and features missing from a request are looked up by \`${key}\` in the store. In a cluster the chart sets \`${REDIS_URL_ENV}\` (the online store's \`rediss://\` URL, password included, from the Secret \`${clusterSecrets(plan).onlineStore}\`, key \`url\`, which the chart reads but does not create), which switches the store to Redis` : ""}.

${managed ? managedEndpointSection(managed, models.primary) : ""}
## Build the image

\`\`\`sh
docker build -t ${models.primary}:dev platform
# from a tarball of stackwright (npm pack) copied into platform/:
docker build -t ${models.primary}:dev --build-arg STACKWRIGHT_PACKAGE=./stackwright-x.y.z.tgz platform
\`\`\`
`;
}

export interface PlatformOptions {
  /** the npm spec the image and CI install stackwright from (see packageSource in generate/) */
  packageSpec?: string;
}

export function generatePlatform(plan: Plan, options: PlatformOptions = {}): FileSet {
  const yaml = (value: unknown) => `# ${GENERATED_HEADER}\n${stringify(value, { lineWidth: 0 })}`;
  // an LLM engine serves the model from its own image: no serving-core config, sample or image here
  if (engineArgs(plan))
    return {
      "platform/README.md": engineReadme(plan),
      "platform/monitoring/alerts.rules.yaml": yaml(prometheusRules(plan)),
      "platform/monitoring/dashboard.json": `${JSON.stringify(grafanaDashboard(plan), null, 2)}\n`,
      ...generatePipelines(plan),
    };
  const config = serveConfigFromPlan(plan);
  // the serving core's configuration and its sample models, in the directory its paths are relative to
  const serving = (dir: string): FileSet => {
    const models = servedModels(plan);
    const samples = [
      { name: models.primary, sample: sampleModel(plan) },
      ...(models.fallback ? [{ name: models.fallback, sample: sampleFallbackModel(plan) }] : []),
    ];
    return Object.fromEntries([
      [`${dir}/serve.yaml`, yaml(config)],
      ...samples.flatMap(({ name, sample }) => [
        [`${dir}/models/${name}/1/model.onnx`, sample.bytes],
        [`${dir}/models/${name}/1/model.yaml`, yaml(sample.meta)],
      ]),
    ]);
  };
  // on devices: what a bundle carries (the serving core's configuration, the sample, the health check)
  if (decision(plan, "serving.runtime").choice === "on-device")
    return { ...serving("platform/edge"), ...edgeFiles(plan, exampleInferRequest(plan)) };
  const files: FileSet = {
    ...serving("platform"),
    "platform/Dockerfile": dockerfile(options.packageSpec ?? defaultPackageSpec()),
    ...(plan.capacity.hardware === "gpu"
      ? { "platform/Dockerfile.gpu": dockerfile(options.packageSpec ?? defaultPackageSpec(), "cuda") }
      : {}),
    "platform/README.md": platformReadme(plan, config, options.packageSpec ?? defaultPackageSpec()),
    "platform/monitoring/alerts.rules.yaml": yaml(prometheusRules(plan)),
    "platform/monitoring/dashboard.json": `${JSON.stringify(grafanaDashboard(plan), null, 2)}\n`,
    ...generateFeatureStore(plan),
    ...generatePipelines(plan),
  };
  // the image copies features/: the embedded store's file when the plan keeps an online store
  files[`platform/${ONLINE_FEATURES_FILE}`] =
    decision(plan, "features.store").choice === "online" ? sampleOnlineFeatures(plan) : "";
  return files;
}
