/**
 * platform/README.md of a plan an LLM engine serves: which engine serves what (the figures the
 * capacity model sized, as the engine's flags), where the checkpoint is published, how to run the
 * same command on a GPU machine, and what checks the release. The command lines come from
 * engineArgs(), the one builder the chart's values and the deploy's smoke test use too.
 */
import { GENERATED_HEADER } from "../../fileset/index.js";
import { azureStorageNameIn } from "../../infra/names.js";
import type { Plan } from "../../plan/types.js";
import { AZURE_DATA_CONTAINER } from "../commands.js";
import { deliveryOf } from "../delivery.js";
import { engineArgs, weightsLocation } from "../engine-deploy.js";

const CHECKPOINT: Record<string, string> = {
  fp16: "the model's 16-bit checkpoint",
  fp8: "the model's 16-bit checkpoint: the engine quantizes its weights to FP8 as it loads them",
  int8: "an 8-bit weight-only checkpoint quantized beforehand (compressed-tensors): the engine reads the format from its config",
  int4: "a 4-bit checkpoint quantized beforehand",
};

/** The command that publishes a local checkpoint directory where the pods copy it from. */
function publishCommand(plan: Plan): string {
  const location = weightsLocation(plan);
  const name = location.split("/").at(-2)!;
  switch (plan.requirements.cloud.provider) {
    case "aws":
      return `aws s3 sync ./checkpoint/ ${location}`;
    case "gcp":
      return `gcloud storage rsync --recursive ./checkpoint ${location}`;
    case "azure":
      return `az storage blob upload-batch --auth-mode login --account-name ${azureStorageNameIn(plan.requirements)} --destination ${AZURE_DATA_CONTAINER} --destination-path models/${name} --source ./checkpoint`;
    default:
      return `kubectl cp ./checkpoint <a pod mounting the claim ${name}-weights>:/weights/models/${name}`;
  }
}

export function engineReadme(plan: Plan): string {
  const deployment = engineArgs(plan);
  if (!deployment) throw new Error("engineReadme: the plan runs no LLM engine");
  const { engine, run, args, env, image } = deployment;
  const capacity = plan.capacity;
  const llm = capacity.llm!;
  const precision = capacity.precision ?? "fp16";
  const method = plan.decisions.find((d) => d.capability === "serving.optimization")?.params.method;
  const checkpoint = `${CHECKPOINT[precision] ?? CHECKPOINT.fp16}${precision === "int4" ? ` (${String(method ?? "awq").toUpperCase()})` : ""}`;
  const cluster = plan.requirements.cloud.provider !== "kubernetes";
  const first = deliveryOf(plan).environments[0];
  const envFlags = Object.entries(env)
    .map(([k, v]) => ` -e ${k}=${v}`)
    .join("");
  const request = JSON.stringify({
    model: run.servedName,
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 64,
  });
  return `<!-- ${GENERATED_HEADER} -->
# ${plan.requirements.metadata.name}: the reference platform

This plan's model is an LLM: **${engine.title}** serves it (\`serving.engine: ${engine.id}\`), not
stackwright's ONNX serving core. The Helm chart runs the engine's own image with the flags below; this
folder holds what watches it and how to run the same command yourself.

| path | what it is |
| --- | --- |
| \`monitoring/\` | Prometheus alert rules and a Grafana dashboard on ${engine.title}'s own metrics, thresholds from the spec |
| \`pipelines/\` | the retraining pipeline the plan's orchestrator runs |

## Which engine serves what

| | |
| --- | --- |
| engine | ${engine.title}, image \`${image}\` (${engine.image.source}) |
| API | OpenAI-compatible: \`POST ${engine.chatPath}\` on port ${engine.port}, model \`${run.servedName}\`${engine.apiKeyEnv ? `; a bearer token when the Secret \`${plan.requirements.metadata.name}-serve-tokens\` holds one (key \`token\`, read as \`${engine.apiKeyEnv}\`)` : ""} |
| checkpoint | a Hugging Face directory (config.json, tokenizer files, \`*.safetensors\`) of ${llm.checkpointGb} GB: ${checkpoint} |
| one replica | ${run.tensorParallel} x ${capacity.gpuType ?? "GPU"} in one tensor-parallel group on a ${capacity.instanceType}; ${run.maxModelLen} tokens per session (${llm.outputTokens} of them the answer), up to ${run.maxSequences} sessions decoded at once, ${run.gpuMemoryUtilization} of each GPU's memory |
| replicas | ${capacity.replicasMin}-${capacity.replicasMax}, scaled on requests waiting${engine.metrics.kvCacheUsage ? " and KV-cache usage" : ""} |
| estimated | first token ${llm.ttftMs} ms, ${llm.interTokenMs} ms between tokens at full batch (the capacity model's estimate: \`stackwright explain capacity\`) |

## Publish the checkpoint

${cluster ? `Each pod copies the checkpoint from \`${weightsLocation(plan)}\` (the data bucket the Terraform creates) under its workload identity before the engine starts, so a release is: publish, then deploy (each deploy rolls the pods, which copy it again).` : `On your own cluster the pods read the checkpoint from the PersistentVolumeClaim \`${run.servedName}-weights\` (created by you) under \`models/${run.servedName}/\`.`}

\`\`\`sh
${publishCommand(plan)}
\`\`\`

## Run it on a GPU machine

The chart's command, on a machine with ${run.tensorParallel} GPU${run.tensorParallel === 1 ? "" : "s"} and the checkpoint in \`./checkpoint\`:

\`\`\`sh
docker run --gpus all --ipc=host -p ${engine.port}:${engine.port}${envFlags} -v "$PWD/checkpoint:${run.modelDir}:ro" \\
  ${image} \\
  ${args.join(" ")}
curl -s localhost:${engine.port}${engine.chatPath} -H 'Content-Type: application/json' \\
  -d '${request}'
\`\`\`

## What checks a release

stackwright renders the chart with real helm and validates every object, but it does not run
${engine.title}: that needs its image and ${run.tensorParallel} GPU${run.tensorParallel === 1 ? "" : "s"}. The deploy workflow does, in the first
environment a release reaches (${first.name}), on its GPU nodes: once the release is ready it sends one
chat completion through the Service and checks that ${engine.title}'s \`${engine.metricsPath}\` exports every
series the canary gates, alerts and autoscaling read${first.production ? "" : ", before production is touched"}.
`;
}
