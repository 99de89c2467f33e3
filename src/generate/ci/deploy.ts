/**
 * deploy.yml: build the serving image once, push it to the cloud's registry tagged by the commit,
 * then take that one tag through every environment in order (each a GitHub environment with its own
 * OIDC identity), production last and only after approval. Where and how each job acts comes from
 * src/generate/delivery.ts: runners inside the network for a private cluster, a commit of the release
 * values for GitOps, the provider's API for serverless runtimes. Every name a step installs,
 * promotes, aborts or rolls back is the one the chart renders for the release (workloadName).
 */
import { choiceOf, decisionOf } from "../../plan/index.js";
import type { Plan } from "../../plan/types.js";
import {
  type Delivery,
  type DeliveryEnvironment,
  type DeliveryRegion,
  deliveryOf,
  KUBECONFIG_SECRET,
  SCORE_JOB_SUFFIX,
} from "../delivery.js";
import { engineArgs, engineSmokeScript } from "../engine-deploy.js";
import { GPU_IMAGE_TAG_SUFFIX, workloadName } from "../helm/index.js";
import {
  azureMlGateScript,
  deploymentConfig,
  managedEndpointOf,
  managedRelease,
  vertexGateScript,
} from "../managed-endpoint.js";
import { servedModels } from "../platform/serve-config.js";

/** Pinned action versions (major tags of the publishers' current releases). */
export const ACTIONS = {
  checkout: "actions/checkout@v4",
  setupNode: "actions/setup-node@v4",
  setupTerraform: "hashicorp/setup-terraform@v3",
  setupHelm: "azure/setup-helm@v4",
  setupKubectl: "azure/setup-kubectl@v4",
  useKubelogin: "azure/use-kubelogin@v1",
  awsCredentials: "aws-actions/configure-aws-credentials@v4",
  ecrLogin: "aws-actions/amazon-ecr-login@v2",
  gcpAuth: "google-github-actions/auth@v2",
  gcpSetup: "google-github-actions/setup-gcloud@v2",
  azureLogin: "azure/login@v2",
  dockerLogin: "docker/login-action@v3",
  dockerBuildx: "docker/setup-buildx-action@v3",
  dockerBuild: "docker/build-push-action@v6",
} as const;

export const HELM_VERSION = "v3.16.2";
/** kubectl-argo-rollouts, the plugin the promotion steps run (a release of argoproj/argo-rollouts). */
const ARGO_ROLLOUTS_VERSION = "v1.7.2";
/** kubelogin, the credential plugin AKS with Entra ID needs (a release of Azure/kubelogin). */
const KUBELOGIN_VERSION = "v0.1.6";
/**
 * How long an LLM engine's pods may take to become ready (copying and loading the checkpoint) before
 * the deploy fails: an assumption, above the startup probe's patience for the catalog's largest models.
 */
const ENGINE_READY_MINUTES = 60;
/** How long a production rollout may take before the job aborts it: every canary step and its gates. */
const ROLLOUT_TIMEOUT_MINUTES = 90;

export const e = (expr: string) => `\${{ ${expr} }}`;

type Step = Record<string, unknown>;

/**
 * Where a job deploys: the primary region's cluster (the defaults), or another region's
 * (delivery.regions): its region, cluster, deploy role variable, values file and image repository.
 */
interface Target {
  region: DeliveryRegion;
  /** the expression of the image repository in that region */
  repository: string;
}

/** OIDC login to the cloud with the identity of the job's environment (vars resolve per environment). */
export function cloudLogin(plan: Plan, target?: Target): Step[] {
  switch (plan.requirements.cloud.provider) {
    case "aws":
      return [
        {
          name: target
            ? `Assume the environment's deploy role in ${target.region.region} (OIDC)`
            : "Assume the environment's deploy role (OIDC)",
          uses: ACTIONS.awsCredentials,
          with: {
            "role-to-assume": e(`vars.${target?.region.roleVariable ?? "AWS_DEPLOY_ROLE_ARN"}`),
            "aws-region": target?.region.region ?? plan.requirements.cloud.region,
          },
        },
      ];
    case "gcp":
      return [
        {
          name: "Authenticate as the environment's deploy service account (workload identity federation)",
          uses: ACTIONS.gcpAuth,
          with: {
            workload_identity_provider: e("vars.GCP_WORKLOAD_IDENTITY_PROVIDER"),
            service_account: e("vars.GCP_DEPLOY_SERVICE_ACCOUNT"),
          },
        },
        { uses: ACTIONS.gcpSetup },
      ];
    case "azure":
      return [
        {
          name: "Log in as the environment's deploy identity (OIDC federated credential)",
          uses: ACTIONS.azureLogin,
          with: {
            "client-id": e("vars.AZURE_CLIENT_ID"),
            "tenant-id": e("vars.AZURE_TENANT_ID"),
            "subscription-id": e("vars.AZURE_SUBSCRIPTION_ID"),
          },
        },
      ];
    default:
      return [
        {
          name: "Configure cluster access (the environment's kubeconfig)",
          run: 'mkdir -p ~/.kube && printf "%s" "$KUBECONFIG_DATA" | base64 -d > ~/.kube/config && chmod 600 ~/.kube/config',
          env: { KUBECONFIG_DATA: e(`secrets.${KUBECONFIG_SECRET}`) },
        },
      ];
  }
}

export function clusterCredentials(plan: Plan, delivery: Delivery, target?: Target): Step[] {
  const region = target?.region.region ?? plan.requirements.cloud.region;
  const name = target?.region.cluster ?? delivery.release;
  // a private endpoint is reached at its internal address, from the runners inside the network
  const internal = delivery.access === "public-endpoint" ? "" : " --internal-ip";
  switch (plan.requirements.cloud.provider) {
    case "aws":
      return [{ run: `aws eks update-kubeconfig --name ${name} --region ${region}` }];
    case "gcp":
      return [
        {
          run: `gcloud components install gke-gcloud-auth-plugin --quiet && gcloud container clusters get-credentials ${name} --region ${region}${internal}`,
        },
      ];
    case "azure":
      // AKS with Entra ID and Azure RBAC: kubectl authenticates through kubelogin with the az login
      return [
        { uses: ACTIONS.useKubelogin, with: { "kubelogin-version": KUBELOGIN_VERSION } },
        {
          run: `az aks get-credentials --resource-group ${name}-rg --name ${name} && kubelogin convert-kubeconfig -l azurecli`,
        },
      ];
    default:
      return [];
  }
}

/**
 * The image's repository as the workflow writes it: the registry the Terraform creates (ECR in the
 * account of the login, Artifact Registry in the project, ACR by name), or GHCR for a team's own cluster.
 */
export function imageRepository(plan: Plan, delivery: Delivery = deliveryOf(plan)): string {
  const { registry } = delivery;
  switch (registry.kind) {
    case "ecr":
      return `${e("steps.registry.outputs.registry")}/${registry.registryName}`;
    case "artifact-registry":
      return `${registryHost(plan)}/${e("vars.GCP_PROJECT_ID")}/${registry.registryName}/${registry.image}`;
    case "acr":
      return `${registry.registryName}.azurecr.io/${registry.image}`;
    default:
      return `ghcr.io/${e("github.repository_owner")}/${registry.image}`;
  }
}

/**
 * Artifact Registry's host: the repository's location (the inventory's: a multi-region plan's
 * repository is in the multi-region every region pulls from, us-docker.pkg.dev).
 */
function registryHost(plan: Plan): string {
  const location = plan.inventory?.vars.registryLocation;
  return `${typeof location === "string" ? location : plan.requirements.cloud.region}-docker.pkg.dev`;
}

function registryLogin(plan: Plan, delivery: Delivery): Step[] {
  const { registry } = delivery;
  switch (registry.kind) {
    case "ecr":
      return [...cloudLogin(plan), { id: "registry", name: "Log in to ECR", uses: ACTIONS.ecrLogin }];
    case "artifact-registry":
      return [
        ...cloudLogin(plan),
        {
          name: "Log in to Artifact Registry",
          run: `gcloud auth configure-docker ${registryHost(plan)} --quiet`,
        },
      ];
    case "acr":
      return [
        ...cloudLogin(plan),
        {
          name: "Log in to ACR (through its private endpoint: this runner is inside the network)",
          run: `az acr login --name ${registry.registryName}`,
        },
      ];
    default:
      return [
        {
          uses: ACTIONS.dockerLogin,
          with: { registry: "ghcr.io", username: e("github.actor"), password: e("secrets.GITHUB_TOKEN") },
        },
      ];
  }
}

const HOSTED = "ubuntu-24.04";

/** Where a job that needs the network runs: the in-network runners when there are any. */
function runsOnInNetwork(delivery: Delivery): string | string[] {
  return delivery.runner ? delivery.runner.labels : HOSTED;
}

function buildJob(plan: Plan, delivery: Delivery): Record<string, unknown> {
  const repository = imageRepository(plan, delivery);
  const tag = e("steps.tag.outputs.tag");
  // an LLM engine runs its own pinned image (values engine.image): the release is the commit, whose
  // tag rolls the pods (they copy the published checkpoint again); no image is built
  const engine = engineArgs(plan);
  if (engine)
    return {
      name: `Tag the release (the pods run ${engine.image}; no image to build)`,
      "runs-on": HOSTED,
      permissions: { contents: "read" },
      outputs: { repository: engine.engine.image.repository, tag: e("steps.tag.outputs.tag") },
      steps: [{ id: "tag", name: "Tag by commit", run: 'echo "tag=${GITHUB_SHA::12}" >> "$GITHUB_OUTPUT"' }],
    };
  const ghcr = delivery.registry.kind === "ghcr";
  return {
    name: "Build the serving image and push it to the registry",
    // a private registry is reachable only from inside the network
    "runs-on": delivery.registry.private ? runsOnInNetwork(delivery) : HOSTED,
    // the first environment's identity pushes (every environment's identity may push; none may
    // deploy outside its own environment)
    ...(ghcr ? {} : { environment: delivery.environments[0].name }),
    permissions: ghcr ? { contents: "read", packages: "write" } : { contents: "read", "id-token": "write" },
    outputs: { repository, tag: e("steps.tag.outputs.tag") },
    steps: [
      { uses: ACTIONS.checkout },
      { id: "tag", name: "Tag by commit", run: 'echo "tag=${GITHUB_SHA::12}" >> "$GITHUB_OUTPUT"' },
      ...registryLogin(plan, delivery),
      { uses: ACTIONS.dockerBuildx },
      {
        name: "Build and push the serving image",
        uses: ACTIONS.dockerBuild,
        with: { context: "platform", push: true, tags: `${repository}:${tag}` },
      },
      // GPU nodes run the CUDA build: the same repository, the tag plus the suffix the chart appends
      ...(plan.capacity.hardware === "gpu"
        ? [
            {
              name: "Build and push the GPU (CUDA) serving image",
              uses: ACTIONS.dockerBuild,
              with: {
                context: "platform",
                file: "platform/Dockerfile.gpu",
                push: true,
                tags: `${repository}:${tag}${GPU_IMAGE_TAG_SUFFIX}`,
              },
            },
          ]
        : []),
    ],
  };
}

const IMAGE = `${e("needs.build.outputs.repository")}:${e("needs.build.outputs.tag")}`;

/** `helm upgrade --install` of one environment, with that environment's values and the built image. */
function helmInstall(
  delivery: Delivery,
  env: DeliveryEnvironment,
  wait: boolean,
  target?: Target,
  waitMinutes = 15,
): string {
  // the environment's values, then the region's (another region's production release)
  const values = [env.valuesFile, target?.region.valuesFile]
    .filter(Boolean)
    .map((file) => ` --values ${delivery.chartPath}/${file}`)
    .join("");
  return [
    `helm upgrade --install ${delivery.release} ${delivery.chartPath} --namespace ${env.namespace}${values}`,
    `--set image.repository=${target?.repository ?? e("needs.build.outputs.repository")} --set image.tag=${e("needs.build.outputs.tag")}`,
    // what only the deploy knows (delivery.deployValues), from the environment's variables
    ...delivery.deployValues.map(
      (v) =>
        `--set-string '${v.path.map((key) => key.replaceAll(".", "\\.")).join(".")}=${e(`vars.${v.variable}`)}'`,
    ),
    wait ? `--wait --timeout ${waitMinutes}m` : "",
  ]
    .filter(Boolean)
    .join(" ");
}

function namespaceCheck(env: DeliveryEnvironment): Step {
  return {
    name: `Namespace ${env.namespace} exists`,
    run: [
      `if ! kubectl get namespace ${env.namespace} >/dev/null; then`,
      `  echo "::error::namespace ${env.namespace} does not exist: a cluster admin creates it once (kubectl create namespace ${env.namespace}); this environment's identity may write only inside it"`,
      "  exit 1",
      "fi",
    ].join("\n"),
  };
}

/** Steps that roll one environment of a chart-deployed plan forward with its strategy's gates. */
function kubernetesRollout(
  plan: Plan,
  delivery: Delivery,
  env: DeliveryEnvironment,
  target?: Target,
): Step[] {
  const mode = choiceOf(plan, "serving.mode");
  const strategy = decisionOf(plan, "deployment.strategy");
  const workload = workloadName(delivery.release, delivery.chart);
  const ns = env.namespace;
  const steps: Step[] = [
    { uses: ACTIONS.setupHelm, with: { version: HELM_VERSION } },
    { uses: ACTIONS.setupKubectl },
    ...clusterCredentials(plan, delivery, target),
    namespaceCheck(env),
  ];
  // where an LLM engine runs for the first time in a release (the first environment, on its GPU
  // nodes): one chat completion, and every series the gates, alerts and autoscaling read
  const smoke = engineSmokeStep(plan, delivery, env, workload, target);
  // pre-production environments install a plain Deployment (values-<env>.yaml): their job is to run
  // the image, not to gate traffic
  const rollout = env.production && (strategy.choice === "canary" || strategy.choice === "blue-green");
  if (mode === "batch") {
    steps.push({
      name: "Point the scoring job at the new image",
      run: helmInstall(delivery, env, true, target),
    });
    return steps;
  }
  if (rollout) {
    steps.push(
      {
        name: "Install kubectl-argo-rollouts",
        run: [
          `curl -sSfLo /usr/local/bin/kubectl-argo-rollouts https://github.com/argoproj/argo-rollouts/releases/download/${ARGO_ROLLOUTS_VERSION}/kubectl-argo-rollouts-linux-amd64`,
          "chmod +x /usr/local/bin/kubectl-argo-rollouts",
        ].join("\n"),
      },
      { name: `Start the ${strategy.choice} rollout`, run: helmInstall(delivery, env, false, target) },
      {
        name:
          strategy.choice === "canary"
            ? "Wait for every canary step and its gates (error ratio, p99 of the canary's pods)"
            : "Wait for the preview's gates and the switch",
        run: `kubectl argo rollouts status ${workload} --namespace ${ns} --timeout ${ROLLOUT_TIMEOUT_MINUTES}m`,
      },
      ...(smoke ? [smoke] : []),
      {
        name: "Abort the rollout: traffic returns to the stable version",
        if: "failure()",
        run: `kubectl argo rollouts abort ${workload} --namespace ${ns}`,
      },
    );
    return steps;
  }
  // an LLM engine's pods copy and load the checkpoint before they are ready
  const engine = engineArgs(plan);
  const waitMinutes = engine ? ENGINE_READY_MINUTES : 15;
  steps.push(
    { name: "Roll out the new image", run: helmInstall(delivery, env, true, target, waitMinutes) },
    {
      name: "Wait until every replica runs it",
      run: `kubectl rollout status deployment/${workload} --namespace ${ns} --timeout ${waitMinutes}m`,
    },
  );
  if (smoke) steps.push(smoke);
  if (env.production && strategy.choice === "shadow" && mode === "realtime")
    steps.push(...shadowPromotion(plan, delivery, env));
  steps.push({
    name: "Roll back to the previous release",
    if: "failure()",
    run: `helm rollback ${delivery.release} --namespace ${ns} --wait`,
  });
  return steps;
}

/** The engine's smoke test, in the first environment a release reaches (and its primary region). */
function engineSmokeStep(
  plan: Plan,
  delivery: Delivery,
  env: DeliveryEnvironment,
  workload: string,
  target?: Target,
): Step | null {
  const engine = engineArgs(plan);
  if (!engine || target || env.name !== delivery.environments[0].name) return null;
  return {
    name: `Smoke-test ${engine.engine.title} on the GPU nodes: one chat completion, and every metric the gates, alerts and autoscaler read`,
    run: engineSmokeScript(plan, env.namespace, workload),
    // the engine's bearer token (key token of <release>-serve-tokens), when it requires one
    env: { SERVE_TOKEN: e("secrets.SERVE_TOKEN"), LOCAL_PORT: "18000" },
  };
}

/**
 * Shadow first: the release carries the candidate model version as a shadow (model.yaml shadow: true,
 * stage: staging), which the serving core asks only after the primary answered. The gate reads the
 * core's own comparison (GET /v2/models/{name}/shadow) and, once enough requests were compared and
 * they agree, promotes by routing all traffic to the candidate (serve.yaml routing.canaryWeight 100).
 */
function shadowPromotion(plan: Plan, delivery: Delivery, env: DeliveryEnvironment): Step[] {
  const params = decisionOf(plan, "deployment.strategy").params;
  const model = servedModels(plan).primary;
  const minCompared = Number(params.minCompared ?? 1000);
  const minAgreement = Number(params.minAgreement ?? 0.98);
  const maxFailed = Number(params.maxShadowFailedRatio ?? 0.01);
  const windowMinutes = Number(params.compareWindowMinutes ?? 60);
  const maxDiff = Number(params.maxMeanAbsDiff ?? 0.05);
  const workload = workloadName(delivery.release, delivery.chart);
  return [
    {
      name: `Gate: the shadow's answers agree with production's on one replica (>= ${minCompared} compared, label agreement >= ${minAgreement}, mean score difference <= ${maxDiff}, failures <= ${maxFailed})`,
      run: [
        `kubectl port-forward --namespace ${env.namespace} service/${workload} "$LOCAL_PORT:80" >/dev/null 2>&1 &`,
        "trap 'kill %1 2>/dev/null || true' EXIT",
        `deadline=$(( $(date +%s) + ${windowMinutes * 60} ))`,
        "while :; do",
        `  stats=$(curl -sf -H "Authorization: Bearer $SERVE_TOKEN" "http://127.0.0.1:$LOCAL_PORT/v2/models/${model}/shadow" || true)`,
        `  if [ -n "$stats" ] && echo "$stats" | jq -e '.shadow.compared >= ${minCompared}' >/dev/null; then break; fi`,
        '  if [ "$(date +%s)" -ge "$deadline" ]; then echo "::error::the shadow compared too few requests in time: $stats"; exit 1; fi',
        "  sleep 30",
        "done",
        'echo "$stats" | jq .',
        `echo "$stats" | jq -e '(.shadow.agreement // 1) >= ${minAgreement} and (.shadow.meanAbsDiff // 0) <= ${maxDiff} and (.shadow.failed / ((.shadow.compared + .shadow.failed) | if . == 0 then 1 else . end)) <= ${maxFailed}' >/dev/null \\`,
        `  || { echo "::error::the shadow disagrees with production: $stats"; exit 1; }`,
      ].join("\n"),
      // SERVE_TOKEN: the inference token of <release>-serve-tokens, when the serving core requires one
      env: { SERVE_TOKEN: e("secrets.SERVE_TOKEN"), LOCAL_PORT: "18080" },
    },
    {
      name: "Promote: every request goes to the candidate version",
      run: `${helmInstall(delivery, env, true)} --set serveConfig.routing.canaryWeight=100`,
    },
  ];
}

/** GitOps: the job commits the environment's release values; the controller in the cluster syncs them. */
function gitopsRelease(delivery: Delivery, env: DeliveryEnvironment): Step[] {
  const file = releaseValuesPath(env);
  return [
    {
      name: `Release the image to ${env.name} (${delivery.gitopsController === "flux" ? "Flux" : "Argo CD"} syncs ${file})`,
      run: [
        `mkdir -p ${file.slice(0, file.lastIndexOf("/"))}`,
        `printf 'image:\\n  repository: %s\\n  tag: "%s"\\n' "$REPOSITORY" "$TAG" > ${file}`,
        // what only the deploy knows (delivery.deployValues), each under its own top-level key
        ...delivery.deployValues.map(
          (v) =>
            `printf '${v.path.map((key, depth) => `${"  ".repeat(depth)}${key}:`).join("\\n")} "%s"\\n' "$${v.variable}" >> ${file}`,
        ),
        'git config user.name "github-actions[bot]"',
        'git config user.email "41898282+github-actions[bot]@users.noreply.github.com"',
        `git add ${file}`,
        `git diff --cached --quiet || git commit -m "release $TAG to ${env.name}"`,
        "git pull --rebase && git push",
      ].join("\n"),
      env: {
        REPOSITORY: e("needs.build.outputs.repository"),
        TAG: e("needs.build.outputs.tag"),
        ...Object.fromEntries(delivery.deployValues.map((v) => [v.variable, e(`vars.${v.variable}`)])),
      },
    },
  ];
}

/** The file a GitOps release of one environment writes (never generated: CI owns it). */
export function releaseValuesPath(env: DeliveryEnvironment): string {
  return `deploy/releases/${env.name}.yaml`;
}

/**
 * Serverless runtimes: the provider's API deploys the built image to the environment's own service or
 * score job (`env.service`, `env.service` + SCORE_JOB_SUFFIX), which the Terraform creates per
 * environment; the shared cluster or resource group keeps the workload's name.
 */
/** A release onto the environment's managed endpoint, by the hosting service's own means. */
function managedEndpointRollout(plan: Plan, env: DeliveryEnvironment): Step[] {
  const rollout = { aws: sagemakerRollout, gcp: vertexRollout, azure: azureMlRollout };
  return rollout[managedEndpointOf(plan)!.cloud](plan, env);
}

/**
 * A release onto the environment's SageMaker endpoint: a model and an endpoint configuration named
 * after the endpoint and the release's tag (the variant keeps its name), then UpdateEndpoint with the
 * plan's strategy as SageMaker's guardrails, rolled back by the endpoint's alarms; the job fails when
 * the endpoint did not end on the release (a rollback leaves it InService on the old configuration).
 */
function sagemakerRollout(plan: Plan, env: DeliveryEnvironment): Step[] {
  const managed = managedEndpointOf(plan)!;
  const endpoint = managed.environments.find((e) => e.name === env.name)!;
  const name = endpoint.endpoint;
  const release = `${name}-${e("needs.build.outputs.tag")}`;
  const environment = Object.entries(managed.environment)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return [
    {
      name: `The endpoint ${name} exists (terraform apply with serving_image_tag creates it once)`,
      run: [
        `if ! aws sagemaker describe-endpoint --endpoint-name ${name} >/dev/null; then`,
        `  echo "::error::the endpoint ${name} does not exist yet: apply infra/terraform/aws with -var serving_image_tag=${e("needs.build.outputs.tag")} once; releases after that come from here"`,
        "  exit 1",
        "fi",
      ].join("\n"),
    },
    {
      name: "Create the release's model and endpoint configuration (the live model's role and subnets)",
      run: [
        `live=$(aws sagemaker describe-endpoint --endpoint-name ${name} --query EndpointConfigName --output text)`,
        `model=$(aws sagemaker describe-endpoint-config --endpoint-config-name "$live" --query 'ProductionVariants[0].ModelName' --output text)`,
        `role=$(aws sagemaker describe-model --model-name "$model" --query ExecutionRoleArn --output text)`,
        `network=$(aws sagemaker describe-model --model-name "$model" --query VpcConfig --output json)`,
        `aws sagemaker create-model --model-name "${release}" --execution-role-arn "$role" --vpc-config "$network" \\`,
        `  --primary-container "Image=${IMAGE}${managed.imageTagSuffix},Environment={${environment}}"`,
        `aws sagemaker create-endpoint-config --endpoint-config-name "${release}" \\`,
        `  --production-variants "VariantName=${managed.variant},ModelName=${release},InstanceType=${managed.instanceType},InitialInstanceCount=${endpoint.production ? managed.minInstances : 1},ContainerStartupHealthCheckTimeoutInSeconds=600"`,
      ].join("\n"),
    },
    {
      name: `Shift ${name} onto the release (${choiceOf(plan, "deployment.strategy")}), rolled back by its alarms`,
      run: [
        `aws sagemaker update-endpoint --endpoint-name ${name} --endpoint-config-name "${release}" --retain-all-variant-properties \\`,
        `  --deployment-config '${JSON.stringify(deploymentConfig(plan, endpoint))}'`,
        `aws sagemaker wait endpoint-in-service --endpoint-name ${name}`,
        `now=$(aws sagemaker describe-endpoint --endpoint-name ${name} --query EndpointConfigName --output text)`,
        `if [ "$now" != "${release}" ]; then`,
        `  echo "::error::${name} rolled back to $now: an alarm fired while the release took traffic"`,
        "  exit 1",
        "fi",
      ].join("\n"),
    },
  ];
}

/**
 * A release onto the environment's Vertex AI endpoint: the image uploaded as a model named after the
 * endpoint and the release's tag (the Vertex AI Model Registry keeps it), deployed beside the live
 * model with the plan's node, autoscaling and service account, then given the release's traffic
 * shares in turn, each watched and gated on the deployed model's own error share and p99 latency in
 * Cloud Monitoring. A failed gate gives all traffic back to the live model and undeploys the release;
 * a passed one undeploys the previous model. The first release, on an empty endpoint, takes all
 * traffic and is gated the same way.
 */
function vertexRollout(plan: Plan, env: DeliveryEnvironment): Step[] {
  const managed = managedEndpointOf(plan)!;
  const vertex = managed.vertex!;
  const endpoint = managed.environments.find((x) => x.name === env.name)!;
  const release = managedRelease(plan);
  const environment = Object.entries(managed.environment)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const replicas = endpoint.production
    ? `--min-replica-count=${managed.minInstances} --max-replica-count=${managed.maxInstances}`
    : "--min-replica-count=1 --max-replica-count=1";
  const accelerator = vertex.accelerator
    ? ` --accelerator=type=${vertex.accelerator.type},count=${vertex.accelerator.count}`
    : "";
  const stepEnv = {
    ENDPOINT: endpoint.endpointId,
    REGION: plan.requirements.cloud.region,
    RELEASE: `${endpoint.endpoint}-${e("needs.build.outputs.tag")}`,
  };
  return [
    {
      name: "Upload the release as a Vertex AI model (the Model Registry keeps it)",
      env: stepEnv,
      run: [
        `gcloud ai models upload --region="$REGION" --model-id="$RELEASE" --display-name="$RELEASE" \\`,
        `  --container-image-uri="${IMAGE}${managed.imageTagSuffix}" \\`,
        `  --container-env-vars="${environment}" \\`,
        `  --container-ports=${vertex.port} --container-health-route=${vertex.healthRoute} --container-predict-route=${vertex.predictRoute}`,
      ].join("\n"),
    },
    {
      name: `Deploy the release onto ${endpoint.endpoint} beside the live model, give it ${release.steps.join("% then ")}% of the traffic, each share gated`,
      env: stepEnv,
      run: [
        "PROJECT=$(gcloud config get-value project)",
        `live=$(gcloud ai endpoints describe "$ENDPOINT" --region="$REGION" --format=json | jq -r '.deployedModels[0].id // empty')`,
        `first=${release.steps[0]}`,
        'if [ -z "$live" ]; then split="0=100"; else split="0=$first,$live=$((100 - first))"; fi',
        `gcloud ai endpoints deploy-model "$ENDPOINT" --region="$REGION" --model="$RELEASE" --display-name="$RELEASE" \\`,
        `  --machine-type=${vertex.machineType}${accelerator} ${replicas} \\`,
        `  --autoscaling-metric-specs=${vertex.autoscalingMetric}=${vertex.autoscalingTargetPercent} \\`,
        `  --service-account="${vertex.serviceAccountId}@$PROJECT.iam.gserviceaccount.com" \\`,
        '  --traffic-split="$split" --enable-access-logging',
        `new=$(gcloud ai endpoints describe "$ENDPOINT" --region="$REGION" --format=json | jq -r --arg m "/models/$RELEASE" '.deployedModels[] | select(.model | sub("@[0-9]+$"; "") | endswith($m)) | .id')`,
        vertexGateScript(release),
        "rollback() {",
        '  echo "::error::the release failed its gate: all traffic back to the live model, the release undeployed"',
        '  if [ -n "$live" ]; then gcloud ai endpoints update "$ENDPOINT" --region="$REGION" --traffic-split="$live=100"; fi',
        '  gcloud ai endpoints undeploy-model "$ENDPOINT" --region="$REGION" --deployed-model-id="$new"',
        "  exit 1",
        "}",
        `for share in ${release.steps.join(" ")}; do`,
        '  if [ "$share" != "$first" ] && [ -n "$live" ]; then',
        '    gcloud ai endpoints update "$ENDPOINT" --region="$REGION" --traffic-split="$new=$share,$live=$((100 - share))"',
        "  fi",
        `  sleep ${release.watchSeconds}`,
        `  gate "$new" ${release.watchSeconds} || rollback`,
        "done",
        'if [ -n "$live" ]; then gcloud ai endpoints undeploy-model "$ENDPOINT" --region="$REGION" --deployed-model-id="$live"; fi',
      ].join("\n"),
    },
  ];
}

/**
 * A release onto the environment's Azure Machine Learning online endpoint: the image registered as an
 * environment (named after the endpoint, versioned by the release's tag, with the serving core's
 * routes), a deployment created from it with no traffic (production's with its Azure Monitor
 * autoscale setting), then given the release's traffic shares in turn, each watched and gated on the
 * deployment's own 5xx share and p99 latency. A failed gate gives all traffic back to the live
 * deployment and deletes the release's; a passed one deletes the previous deployment. The first
 * release, on an empty endpoint, takes all traffic and is gated the same way.
 */
function azureMlRollout(plan: Plan, env: DeliveryEnvironment): Step[] {
  const managed = managedEndpointOf(plan)!;
  const ml = managed.azureml!;
  const endpoint = managed.environments.find((x) => x.name === env.name)!;
  const release = managedRelease(plan);
  const where = `--resource-group ${ml.resourceGroup} --workspace-name ${ml.workspace}`;
  const stepEnv = {
    ENDPOINT: e(`vars.${ml.endpointVariable}`),
    TAG: e("needs.build.outputs.tag"),
    DEPLOYMENT: `r-${e("needs.build.outputs.tag")}`,
  };
  const route = (path: string) => `{ port: ${ml.port}, path: ${path} }`;
  const autoscale = '"$ENDPOINT-$DEPLOYMENT"';
  const condition = (op: string, target: number, minutes: number) =>
    `"${ml.autoscaleMetric} ${op} ${target} avg ${minutes}m"`;
  return [
    {
      name: "Install the Azure Machine Learning CLI extension",
      run: "az extension add --name ml --upgrade --yes",
    },
    {
      name: `Register the release as an environment and create its deployment on ${endpoint.endpoint} (no traffic yet)`,
      env: stepEnv,
      run: [
        "cat > environment.yml <<EOF",
        "name: $ENDPOINT",
        'version: "$TAG"',
        `image: ${IMAGE}${managed.imageTagSuffix}`,
        "inference_config:",
        `  liveness_route: ${route(ml.livenessRoute)}`,
        `  readiness_route: ${route(ml.readinessRoute)}`,
        `  scoring_route: ${route(ml.scoringRoute)}`,
        "EOF",
        "cat > deployment.yml <<EOF",
        "name: $DEPLOYMENT",
        "endpoint_name: $ENDPOINT",
        'environment: "azureml:$ENDPOINT:$TAG"',
        `instance_type: ${ml.instanceType}`,
        `instance_count: ${endpoint.production ? managed.minInstances : 1}`,
        "environment_variables:",
        ...Object.entries(managed.environment).map(([k, v]) => `  ${k}: "${v}"`),
        "request_settings:",
        `  max_concurrent_requests_per_instance: ${ml.maxConcurrentRequestsPerInstance}`,
        "EOF",
        `az ml environment create --file environment.yml ${where}`,
        `az ml online-deployment create --file deployment.yml ${where}`,
        ...(endpoint.production
          ? [
              `deployment_id=$(az ml online-deployment show --name "$DEPLOYMENT" --endpoint-name "$ENDPOINT" ${where} --query id --output tsv)`,
              `az monitor autoscale create --resource-group ${ml.resourceGroup} --name ${autoscale} --resource "$deployment_id" \\`,
              `  --min-count ${managed.minInstances} --max-count ${managed.maxInstances} --count ${managed.minInstances}`,
              `az monitor autoscale rule create --resource-group ${ml.resourceGroup} --autoscale-name ${autoscale} --condition ${condition(">", ml.autoscaleTargetPercent, 5)} --scale out 1`,
              `az monitor autoscale rule create --resource-group ${ml.resourceGroup} --autoscale-name ${autoscale} --condition ${condition("<", Math.round(ml.autoscaleTargetPercent / 2), 10)} --scale in 1`,
            ]
          : []),
      ].join("\n"),
    },
    {
      name: `Shift ${endpoint.endpoint}'s traffic to the release (${release.steps.join("% then ")}%), each share gated`,
      env: stepEnv,
      run: [
        `ENDPOINT_ID=$(az ml online-endpoint show --name "$ENDPOINT" ${where} --query id --output tsv)`,
        `live=$(az ml online-endpoint show --name "$ENDPOINT" ${where} --query traffic --output json | jq -r 'to_entries | map(select(.value > 0 and .key != env.DEPLOYMENT)) | .[0].key // empty')`,
        azureMlGateScript(release),
        "rollback() {",
        '  echo "::error::the release failed its gate: all traffic back to the live deployment, the release deleted"',
        `  if [ -n "$live" ]; then az ml online-endpoint update --name "$ENDPOINT" ${where} --traffic "$live=100 $DEPLOYMENT=0"; fi`,
        `  az ml online-deployment delete --name "$DEPLOYMENT" --endpoint-name "$ENDPOINT" ${where} --yes`,
        "  exit 1",
        "}",
        `shares="${release.steps.join(" ")}"`,
        'if [ -z "$live" ]; then shares=100; fi',
        "for share in $shares; do",
        '  if [ -n "$live" ]; then traffic="$DEPLOYMENT=$share $live=$((100 - share))"; else traffic="$DEPLOYMENT=100"; fi',
        `  az ml online-endpoint update --name "$ENDPOINT" ${where} --traffic "$traffic"`,
        `  sleep ${release.watchSeconds}`,
        `  gate "$DEPLOYMENT" ${release.watchSeconds} || rollback`,
        "done",
        'if [ -n "$live" ]; then',
        `  az ml online-deployment delete --name "$live" --endpoint-name "$ENDPOINT" ${where} --yes`,
        ...(endpoint.production
          ? [
              `  az monitor autoscale delete --resource-group ${ml.resourceGroup} --name "$ENDPOINT-$live" || true`,
            ]
          : []),
        "fi",
      ].join("\n"),
    },
  ];
}

function serverlessRollout(plan: Plan, delivery: Delivery, env: DeliveryEnvironment): Step[] {
  const spec = plan.requirements;
  const name = delivery.release;
  const region = spec.cloud.region;
  const batch = choiceOf(plan, "serving.mode") === "batch";
  const service = env.service;
  const job = `${env.service}${SCORE_JOB_SUFFIX}`;
  switch (spec.cloud.provider) {
    case "aws":
      return [
        {
          name: `Register a revision of ${service}'s task definition with the new image`,
          id: "taskdef",
          run: [
            `aws ecs describe-task-definition --task-definition ${service} --query taskDefinition > taskdef.json`,
            `jq --arg image "${IMAGE}" '.containerDefinitions[0].image = $image | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities, .registeredAt, .registeredBy)' taskdef.json > taskdef-new.json`,
            'echo "arn=$(aws ecs register-task-definition --cli-input-json file://taskdef-new.json --query taskDefinition.taskDefinitionArn --output text)" >> "$GITHUB_OUTPUT"',
          ].join("\n"),
        },
        batch
          ? env.production
            ? {
                name: "Point the schedule at the new revision (the next scheduled run uses it)",
                run: [
                  `aws scheduler get-schedule --name ${name}${SCORE_JOB_SUFFIX} > schedule.json`,
                  `jq --arg arn "${e("steps.taskdef.outputs.arn")}" 'del(.Arn, .CreationDate, .LastModificationDate) | .Target.EcsParameters.TaskDefinitionArn = $arn' schedule.json > schedule-new.json`,
                  "aws scheduler update-schedule --cli-input-json file://schedule-new.json",
                ].join("\n"),
              }
            : {
                name: `Runs on demand use it (aws ecs run-task --task-definition ${service} runs the latest revision)`,
                run: `aws ecs describe-task-definition --task-definition ${e("steps.taskdef.outputs.arn")} --query taskDefinition.containerDefinitions[0].image`,
              }
          : {
              name: `Roll ${service} to it (the deployment circuit breaker rolls back a failing one)`,
              run: `aws ecs update-service --cluster ${name} --service ${service} --task-definition ${e("steps.taskdef.outputs.arn")} && aws ecs wait services-stable --cluster ${name} --services ${service}`,
            },
      ];
    case "gcp":
      return [
        batch
          ? {
              name: `Point ${job} at the new image`,
              run: `gcloud run jobs update ${job} --image ${IMAGE} --region ${region}`,
            }
          : {
              name: `Deploy a revision of ${service}; traffic moves once it is ready`,
              run: `gcloud run deploy ${service} --image ${IMAGE} --region ${region}`,
            },
      ];
    default:
      return [
        batch
          ? {
              name: `Point ${job} at the new image`,
              run: `az containerapp job update --name ${job} --resource-group ${name}-rg --image ${IMAGE}`,
            }
          : {
              name: `Deploy a revision of ${service}`,
              run: `az containerapp update --name ${service} --resource-group ${name}-rg --image ${IMAGE} --revision-suffix ${e("needs.build.outputs.tag")}`,
            },
      ];
  }
}

/**
 * With approval asked for, production must have required reviewers: GitHub pauses a job on its
 * environment until one approves. The rule lives in the repository's settings, so the workflow checks
 * it is there instead of trusting it.
 */
function approvalCheckJob(production: DeliveryEnvironment): Record<string, unknown> {
  return {
    name: `Production (${production.name}) requires an approval`,
    "runs-on": HOSTED,
    permissions: { actions: "read" },
    steps: [
      {
        name: `The ${production.name} environment has required reviewers`,
        run: [
          `if ! gh api "repos/$GITHUB_REPOSITORY/environments/${production.name}" --jq '[.protection_rules[]?.type] | index("required_reviewers")' | grep -qE '^[0-9]+$'; then`,
          `  echo "::error::environment ${production.name} has no required reviewers: add them (Settings > Environments > ${production.name}) so a person approves each release before it reaches production"`,
          "  exit 1",
          "fi",
        ].join("\n"),
        env: { GH_TOKEN: e("github.token") },
      },
    ],
  };
}

export function deployJobs(plan: Plan): Record<string, unknown> {
  const delivery = deliveryOf(plan);
  const chart = choiceOf(plan, "serving.runtime") === "kubernetes";
  const jobs: Record<string, unknown> = { build: buildJob(plan, delivery) };
  let previous: string | undefined;
  for (const env of delivery.environments) {
    const id = `deploy-${env.name}`;
    const needs = ["build", ...(previous ? [previous] : [])];
    if (env.production && delivery.approval) {
      jobs["approval-required"] = approvalCheckJob(env);
      needs.push("approval-required");
    }
    const steps: Step[] = [{ uses: ACTIONS.checkout }];
    if (env.production && !engineArgs(plan)) {
      // the generated sample model (stage: sample) is a stand-in: it never reaches production
      steps.push({
        name: "Refuse to release a sample model",
        run: [
          "if grep -rlE '^stage: sample$' platform/models --include=model.yaml; then",
          '  echo "::error::platform/models holds a sample model (stage: sample, generated weights): publish a trained version before releasing to production"',
          "  exit 1",
          "fi",
        ].join("\n"),
      });
    }
    let runsOn: string | string[] = HOSTED;
    let permissions: Record<string, string> = { contents: "read", "id-token": "write" };
    if (delivery.access === "gitops") {
      permissions = { contents: "write" };
      steps.push(...gitopsRelease(delivery, env));
    } else if (chart) {
      runsOn = delivery.access === "runner-in-network" ? runsOnInNetwork(delivery) : HOSTED;
      steps.push(...cloudLogin(plan), ...kubernetesRollout(plan, delivery, env));
    } else if (managedEndpointOf(plan)) {
      steps.push(...cloudLogin(plan), ...managedEndpointRollout(plan, env));
    } else {
      steps.push(...cloudLogin(plan), ...serverlessRollout(plan, delivery, env));
    }
    jobs[id] = {
      name: `Deploy to ${env.name}${env.production && delivery.approval ? " (after approval)" : ""}`,
      "runs-on": runsOn,
      needs,
      environment: env.name,
      permissions,
      concurrency: { group: `deploy-${env.name}`, "cancel-in-progress": false },
      steps,
    };
    previous = id;
    // production in every other region, once the primary's release passed its gates
    if (env.production && chart && delivery.access !== "gitops")
      for (const region of delivery.regions) {
        const regionId = `${id}-${region.region}`;
        jobs[regionId] = regionalDeployJob(plan, delivery, env, region, id);
        previous = regionId;
      }
  }
  return jobs;
}

/**
 * Production's release in another region: the same rollout and gates against that region's cluster,
 * as that region's deploy identity, from that region's runners, with its values file; on AWS the image
 * ECR replicated into its registry (infra/terraform/aws/global), which the job waits for, on Google
 * Cloud the one the build pushed to the multi-region repository every region pulls from.
 */
function regionalDeployJob(
  plan: Plan,
  delivery: Delivery,
  env: DeliveryEnvironment,
  region: DeliveryRegion,
  after: string,
): Record<string, unknown> {
  const primary = plan.requirements.cloud.region;
  const tags = ['"$TAG"', ...(plan.capacity.hardware === "gpu" ? [`"$TAG${GPU_IMAGE_TAG_SUFFIX}"`] : [])];
  const aws = plan.requirements.cloud.provider === "aws";
  const target: Target = {
    region,
    repository: aws ? e("steps.image.outputs.repository") : e("needs.build.outputs.repository"),
  };
  // an LLM engine's image is pulled from its publisher in every region: nothing to wait for
  const replicated =
    aws && !engineArgs(plan)
      ? [
          {
            id: "image",
            name: `Wait for the image in ${region.region}'s registry (ECR replicates it from ${primary})`,
            run: [
              "for attempt in $(seq 1 60); do",
              `  if ${tags.map((tag) => `aws ecr describe-images --region ${region.region} --repository-name ${delivery.registry.registryName} --image-ids imageTag=${tag} >/dev/null 2>&1`).join(" && ")}; then`,
              `    echo "repository=\${SOURCE/.${primary}./.${region.region}.}" >> "$GITHUB_OUTPUT"`,
              "    exit 0",
              "  fi",
              "  sleep 10",
              "done",
              `echo "::error::the image $TAG did not reach ${region.region} in 10 minutes: check the ECR replication configuration (infra/terraform/aws/global)"`,
              "exit 1",
            ].join("\n"),
            env: { TAG: e("needs.build.outputs.tag"), SOURCE: e("needs.build.outputs.repository") },
          },
        ]
      : [];
  return {
    name: `Deploy to ${env.name} in ${region.region}`,
    "runs-on": region.runnerLabels ?? HOSTED,
    needs: ["build", after],
    environment: env.name,
    permissions: { contents: "read", "id-token": "write" },
    concurrency: { group: `deploy-${env.name}-${region.region}`, "cancel-in-progress": false },
    steps: [
      { uses: ACTIONS.checkout },
      ...cloudLogin(plan, target),
      ...replicated,
      ...kubernetesRollout(plan, delivery, env, target),
    ],
  };
}
