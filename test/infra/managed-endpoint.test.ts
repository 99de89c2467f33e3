/**
 * Managed model endpoints (serving.runtime: managed-endpoint, SageMaker real-time endpoints): a team of
 * three that needs a GPU on AWS gets one; its Terraform, its deploy workflow and its price agree on the
 * instance, the variant, the alarms and the serving image's configuration; SageMaker's limits on a
 * release's deployment configuration hold; and the serving image answers SageMaker's contract
 * (started as `serve`, configured by the environment the model sets) over HTTP.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseCommandLine } from "../../src/cli/main.js";
import { textEntries } from "../../src/fileset/index.js";
import { serveArgs } from "../../src/generate/commands.js";
import { generateAll } from "../../src/generate/index.js";
import {
  azureMlGateScript,
  deploymentConfig,
  type ManagedEndpoint,
  managedEndpointOf,
  managedRelease,
  vertexGateScript,
} from "../../src/generate/managed-endpoint.js";
import { createPlan, loadDefaultRuleSet } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { writeFileSet } from "../../src/write/index.js";
import { planOf, terraformBlocks } from "../helpers/plans.js";
import { post, serve } from "../serve/helpers.js";

type Any = Record<string, any>;

function planFrom(yaml: string): Plan {
  const parsed = parseSpecValue(parseYaml(yaml));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createPlan(parsed.spec);
}

function spawnAsync(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stdout += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

/**
 * The generated platform of `example` served as its hosting service starts it: the environment the
 * endpoint's model sets, the serving core's config read from the out directory; `check` gets the
 * server, the endpoint and one infer request built from the model's metadata.
 */
async function withHostedPlatform(
  example: string,
  check: (ctx: { url: string; plan: Plan; managed: ManagedEndpoint; request: Any }) => Promise<void>,
): Promise<void> {
  const plan = await planOf(example);
  const out = mkdtempSync(join(tmpdir(), "sw-hosted-"));
  writeFileSet(out, generateAll(plan), { specHash: plan.spec.hash, ruleSetHash: plan.ruleSet.hash });
  const managed = managedEndpointOf(plan)!;
  const s = await serve([], {
    cwd: out,
    env: {
      ...managed.environment,
      STACKWRIGHT_CONFIG: "platform/serve.yaml",
      STACKWRIGHT_HOST: "127.0.0.1",
      STACKWRIGHT_DEVICE: "cpu",
    },
  });
  try {
    const meta = (await (await fetch(`${s.url}/v2/models/${plan.requirements.metadata.name}`)).json()) as Any;
    const input = meta.inputs[0];
    const width = Number(input.shape.at(-1));
    const request = {
      inputs: [
        { name: input.name, shape: [1, width], datatype: input.datatype, data: Array(width).fill(0.5) },
      ],
    };
    await check({ url: s.url, plan, managed, request });
  } finally {
    await s.stop();
  }
}

const choice = (plan: Plan, capability: string) =>
  plan.decisions.find((d) => d.capability === capability)!.choice;

const SMALL_TEAM_GPU = (team: number, provider = "aws") => `metadata: { name: shelf-test }
useCase: { kind: computer-vision }
model: { framework: pytorch, format: onnx, architecture: yolov8s }
inference: { mode: realtime, latencyP99Ms: 80, peakQps: 40 }
team: { size: ${team} }
cloud: { provider: ${provider} }
budget: { monthlyUsd: 20000 }
`;

describe("managed model endpoints", () => {
  it("a team of three that needs a GPU on AWS gets a SageMaker endpoint; a larger team a cluster", () => {
    const small = planFrom(SMALL_TEAM_GPU(3));
    expect(choice(small, "serving.hardware")).toBe("gpu");
    expect(choice(small, "serving.runtime")).toBe("managed-endpoint");
    expect(choice(small, "scaling.strategy")).toBe("target-tracking-invocations");
    expect(choice(small, "monitoring.metrics")).toBe("cloud-monitoring");
    expect(choice(planFrom(SMALL_TEAM_GPU(8)), "serving.runtime")).toBe("kubernetes");
    // on Google Cloud a Vertex AI endpoint, scaled on its nodes' utilisation
    const gcp = planFrom(SMALL_TEAM_GPU(3, "gcp"));
    expect(choice(gcp, "serving.runtime")).toBe("managed-endpoint");
    expect(choice(gcp, "scaling.strategy")).toBe("target-tracking-utilization");
    expect(gcp.decisions.find((d) => d.capability === "serving.runtime")!.because).toContain(
      "a Vertex AI endpoint on vertex-n1-standard-4-t4",
    );
    expect(choice(planFrom(SMALL_TEAM_GPU(8, "gcp")), "serving.runtime")).toBe("kubernetes");
    // on Azure an Azure Machine Learning managed online endpoint, scaled by Azure Monitor autoscale
    const azure = planFrom(SMALL_TEAM_GPU(3, "azure"));
    expect(choice(azure, "serving.runtime")).toBe("managed-endpoint");
    expect(choice(azure, "scaling.strategy")).toBe("target-tracking-utilization");
    expect(azure.decisions.find((d) => d.capability === "serving.runtime")!.because).toContain(
      "an Azure ML managed online endpoint on azureml-Standard_NC4as_T4_v3",
    );
    expect(choice(planFrom(SMALL_TEAM_GPU(8, "azure")), "serving.runtime")).toBe("kubernetes");
  });

  it("the example: Terraform, deploy workflow and price agree on instance, variant, alarms and image", async () => {
    const plan = await planOf("shelf-vision");
    expect(choice(plan, "serving.runtime")).toBe("managed-endpoint");
    const managed = managedEndpointOf(plan)!;
    const files = Object.fromEntries(textEntries(generateAll(plan)));
    const blocks = await terraformBlocks(files);
    const body = (address: string) => blocks.find((b) => b.address === address)!.body as Any;

    // the instance the capacity model sized, at SageMaker's rate for its mirror
    expect(managed.instanceType).toBe(`ml.${plan.capacity.instanceType}`);
    const config = body("aws_sagemaker_endpoint_configuration.serving");
    const [variant] = config.production_variants;
    expect(variant.instance_type).toBe(managed.instanceType);
    expect(variant.variant_name).toBe(managed.variant);
    const production = plan.cost.items
      .flatMap((i) => i.lines)
      .find((l) => l.resource === `aws_sagemaker_endpoint.serving["production"]`)!;
    expect(production.price).toBe(`instance:${managed.instanceType}`);
    expect(production.unitUsd).toBeGreaterThan(0);

    // the alarms the releases roll back on are the ones the Terraform creates, one per endpoint
    const locals = (await import("@cdktf/hcl2json")).parse;
    const sagemaker = (await locals("sagemaker.tf", files["infra/terraform/aws/sagemaker.tf"])) as Any;
    const endpoints = sagemaker.locals[0].endpoints as Record<string, Any>;
    expect(
      Object.values(endpoints)
        .map((e) => e.name)
        .sort(),
    ).toEqual(managed.environments.map((e) => e.endpoint).sort());
    for (const env of managed.environments) {
      expect(endpoints[env.name].latency_alarm).toBe(env.alarms.latency);
      expect(endpoints[env.name].errors_alarm).toBe(env.alarms.errors);
    }
    expect(body("aws_cloudwatch_metric_alarm.latency").threshold).toBe(
      plan.requirements.inference.latencyP99Ms * 1000,
    );

    // each environment's release: the Terraform's variant and instance, its own alarms, within SageMaker's limits
    const deploy = parseYaml(files[".github/workflows/deploy.yml"]) as Any;
    for (const env of managed.environments) {
      const job = deploy.jobs[`deploy-${env.name}`];
      const runs = (job.steps as Any[]).map((s) => s.run ?? "").join("\n");
      expect(runs).toContain(`VariantName=${variant.variant_name},`);
      expect(runs).toContain(`InstanceType=${variant.instance_type},`);
      const json = /--deployment-config '([^']+)'/.exec(runs)![1];
      const dc = JSON.parse(json) as Any;
      expect(dc).toEqual(deploymentConfig(plan, env));
      expect(dc.AutoRollbackConfiguration.Alarms.map((a: Any) => a.AlarmName).sort()).toEqual(
        Object.values(env.alarms).sort(),
      );
      const policy = dc.BlueGreenUpdatePolicy ?? dc.RollingUpdatePolicy;
      expect(policy.MaximumExecutionTimeoutInSeconds).toBeGreaterThanOrEqual(600);
      expect(policy.MaximumExecutionTimeoutInSeconds).toBeLessThanOrEqual(14400);
      const routing = dc.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration;
      if (routing?.Type === "CANARY") expect(routing.CanarySize.Value).toBeLessThanOrEqual(50);
      expect(routing?.WaitIntervalInSeconds ?? policy.WaitIntervalInSeconds).toBeLessThanOrEqual(3600);
    }

    // the image is the one the build pushes (the CUDA build on GPU instances), configured as the Terraform does
    const model = body("aws_sagemaker_model.serving");
    expect(model.primary_container[0].image).toContain(`:\${var.serving_image_tag}${managed.imageTagSuffix}`);
    expect(sagemaker.locals[0].serving_environment).toEqual(managed.environment);
  });

  it("serve started as SageMaker starts it reads its options from the environment the model sets", () => {
    const managed = managedEndpointOf(planFrom(SMALL_TEAM_GPU(3)))!;
    const saved = { ...process.env };
    try {
      Object.assign(process.env, managed.environment);
      const fromEnvironment = parseCommandLine(["serve"]).options;
      const fromArgs = parseCommandLine(serveArgs({ device: "cuda" })).options;
      for (const option of ["config", "host", "device", "port"])
        expect(fromEnvironment[option], option).toEqual(fromArgs[option]);
    } finally {
      process.env = saved;
    }
  });

  it("the generated platform answers SageMaker's GET /ping and POST /invocations", async () => {
    await withHostedPlatform("shelf-vision", async ({ url, plan, request }) => {
      expect((await fetch(`${url}/ping`)).status).toBe(200);
      const invoked = await post(`${url}/invocations`, request);
      expect(invoked.status, JSON.stringify(invoked.body)).toBe(200);
      const direct = await post(`${url}/v2/models/${plan.requirements.metadata.name}/infer`, request);
      expect(invoked.body.outputs).toEqual(direct.body.outputs);
      expect((await fetch(`${url}/invocations`)).status).toBe(405);
    });
  }, 60_000);

  it("Vertex AI: Terraform, deploy workflow and price agree on endpoints, node, accelerator, identity and routes", async () => {
    const plan = await planOf("gcp-managed-endpoint");
    expect(choice(plan, "serving.runtime")).toBe("managed-endpoint");
    const managed = managedEndpointOf(plan)!;
    const vertex = managed.vertex!;
    const files = Object.fromEntries(textEntries(generateAll(plan)));
    const blocks = await terraformBlocks(files);
    const body = (address: string) => blocks.find((b) => b.address === address)!.body as Any;
    const parsed = (await (
      await import("@cdktf/hcl2json")
    ).parse("vertex.tf", files["infra/terraform/gcp/vertex.tf"])) as Any;
    const locals = parsed.locals[0];

    // the node mirrors the sized Compute Engine machine: its machine type and its accelerator
    const table = loadDefaultRuleSet().prices.get("gcp")!;
    const row = table.managedEndpointInstances.find((m) => m.name === managed.instanceType)!;
    expect(row.instance).toBe(plan.capacity.instanceType);
    const gpu = table.gpuInstances.find((g) => g.name === plan.capacity.instanceType)!;
    expect(vertex.accelerator).toEqual({ type: gpu.gpu, count: gpu.gpuCount });
    // the reason weighs the rate against the same virtual machine's, and the compliance programs
    const because = plan.decisions.find((d) => d.capability === "serving.runtime")!.because;
    expect(because).toContain(
      `${Math.round((row.hourlyUsd / gpu.hourlyUsd - 1) * 100)}% above the same virtual machine`,
    );
    expect(because).toContain("HIPAA (under a BAA)");
    // priced at the prediction node's rate, per environment, from the inventory
    const production = plan.cost.items
      .flatMap((i) => i.lines)
      .find((l) => l.resource === `google_vertex_ai_endpoint.serving["production"]`)!;
    expect(production.price).toBe(`instance:${managed.instanceType}`);
    expect(production.unitUsd).toBe(row.hourlyUsd);

    // every environment's endpoint: the ID Terraform gives it is the one its deploy job addresses
    const endpoint = body("google_vertex_ai_endpoint.serving");
    expect(endpoint.name).toBe("${each.value.id}");
    const deploy = parseYaml(files[".github/workflows/deploy.yml"]) as Any;
    for (const env of managed.environments) {
      expect(env.endpointId).toMatch(/^[1-9][0-9]{9}$/);
      expect(locals.endpoints[env.name].id).toBe(env.endpointId);
      expect(locals.endpoints[env.name].latency_alert).toBe(env.alarms.latency);
      const steps = deploy.jobs[`deploy-${env.name}`].steps as Any[];
      const upload = steps.find((s) => /gcloud ai models upload/.test(s.run ?? ""))!;
      expect(upload.env.ENDPOINT).toBe(env.endpointId);
      expect(upload.run).toContain(`--container-health-route=${vertex.healthRoute}`);
      expect(upload.run).toContain(`--container-predict-route=${vertex.predictRoute}`);
      const release = steps.find((s) => /deploy-model/.test(s.run ?? ""))!.run as string;
      expect(release).toContain(
        `--machine-type=${vertex.machineType} --accelerator=type=${gpu.gpu},count=${gpu.gpuCount}`,
      );
      expect(release).toContain(`--service-account="${body("google_service_account.endpoint").account_id}@`);
      expect(release).toContain(
        env.production
          ? `--min-replica-count=${managed.minInstances} --max-replica-count=${managed.maxInstances}`
          : "--min-replica-count=1 --max-replica-count=1",
      );
    }
    expect(new Set(managed.environments.map((e) => e.endpointId)).size).toBe(managed.environments.length);
    expect(locals.serving_environment).toEqual(managed.environment);
    // HIPAA: the endpoints are encrypted with the customer's key, which Vertex AI's agent may use
    expect(endpoint.encryption_spec[0].kms_key_name).toBe("${google_kms_crypto_key.main.id}");
    expect(blocks.some((b) => b.address === "google_kms_crypto_key_iam_member.vertex_ai")).toBe(true);
    // the alert policies: the SLO and the error share the plan pages on
    const latency = body("google_monitoring_alert_policy.latency").conditions[0].condition_threshold[0];
    expect(latency.threshold_value).toBe(plan.requirements.inference.latencyP99Ms);
    expect(latency.filter).toContain('metric.labels.latency_type = "total"');
  });

  it("the Vertex AI release gate passes a healthy release and refuses a failing or slow one", async () => {
    const plan = await planOf("gcp-managed-endpoint");
    const release = managedRelease(plan);
    const dir = mkdtempSync(join(tmpdir(), "sw-vertex-gate-"));
    // gcloud is not installed here: a stand-in that hands out a token
    writeFileSync(join(dir, "gcloud"), "#!/bin/sh\necho test-token\n", { mode: 0o755 });
    let answer: { errors: number; total: number; p99: number } = { errors: 0, total: 0, p99: 0 };
    const seen: URLSearchParams[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      seen.push(url.searchParams);
      if (
        req.headers.authorization !== "Bearer test-token" ||
        url.pathname !== "/v3/projects/p1/timeSeries"
      ) {
        res.writeHead(403).end();
        return;
      }
      const filter = url.searchParams.get("filter")!;
      const metric = /prediction\/online\/([a-z_]+)/.exec(filter)![1];
      const value =
        metric === "prediction_latencies"
          ? { doubleValue: answer.p99 }
          : { int64Value: String(metric === "error_count" ? answer.errors : answer.total) };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.total === 0 ? {} : { timeSeries: [{ points: [{ value }] }] }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const gate = (a: typeof answer) => {
      answer = a;
      return spawnAsync("bash", ["-c", `${vertexGateScript(release)}\ngate 4242 600`], {
        env: {
          ...process.env,
          PATH: `${dir}:${process.env.PATH}`,
          MONITORING_API: `http://127.0.0.1:${port}`,
          PROJECT: "p1",
          ENDPOINT: "1234567890",
        },
      });
    };
    try {
      expect((await gate({ errors: 0, total: 500, p99: 20 })).code).toBe(0);
      const quiet = await gate({ errors: 0, total: 0, p99: 0 });
      expect(quiet.code).toBe(0);
      expect(quiet.stdout).toContain("took no request");
      const failing = await gate({ errors: 50, total: 500, p99: 20 });
      expect(failing.code).toBe(1);
      expect(failing.stdout).toContain(`above the ${release.maxErrorRate} error share`);
      const slow = await gate({ errors: 0, total: 500, p99: release.maxP99Ms + 1 });
      expect(slow.code).toBe(1);
      expect(slow.stdout).toContain(`above ${release.maxP99Ms} ms`);
      // each query is the deployed model's own series on this endpoint, over the window
      const filters = seen.map((q) => q.get("filter")!);
      expect(filters.every((f) => f.includes('metric.labels.deployed_model_id = "4242"'))).toBe(true);
      expect(filters.every((f) => f.includes('resource.labels.endpoint_id = "1234567890"'))).toBe(true);
      expect(seen.every((q) => q.get("aggregation.alignmentPeriod") === "600s")).toBe(true);
    } finally {
      server.close();
    }
  }, 30_000);

  it("the generated platform answers Vertex AI's health and predict routes", async () => {
    await withHostedPlatform("gcp-managed-endpoint", async ({ url, managed, request }) => {
      expect((await fetch(`${url}${managed.vertex!.healthRoute}`)).status).toBe(200);
      const answer = await post(`${url}${managed.vertex!.predictRoute}`, request);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect((answer.body as Any).outputs.length).toBeGreaterThan(0);
    });
  }, 60_000);

  it("Azure ML: Terraform, deploy workflow and price agree on endpoints, size, identity, routes and alerts", async () => {
    const plan = await planOf("azure-managed-endpoint");
    expect(choice(plan, "serving.runtime")).toBe("managed-endpoint");
    const managed = managedEndpointOf(plan)!;
    const ml = managed.azureml!;
    const files = Object.fromEntries(textEntries(generateAll(plan)));
    const blocks = await terraformBlocks(files);
    const body = (address: string) => blocks.find((b) => b.address === address)!.body as Any;
    const hcl = (await import("@cdktf/hcl2json")).parse;
    const azureml = (await hcl("azureml.tf", files["infra/terraform/azure/azureml.tf"])) as Any;

    // the instances mirror the sized virtual machine, priced at its rate, per environment
    const table = loadDefaultRuleSet().prices.get("azure")!;
    const row = table.managedEndpointInstances.find((m) => m.name === managed.instanceType)!;
    expect(row.instance).toBe(plan.capacity.instanceType);
    expect(ml.instanceType).toBe(row.machineType);
    const production = plan.cost.items
      .flatMap((i) => i.lines)
      .find((l) => l.resource === `azapi_resource.endpoint["production"]`)!;
    expect(production.price).toBe(`instance:${managed.instanceType}`);
    expect(production.unitUsd).toBe(row.hourlyUsd);

    // the endpoint: an ARM online endpoint in the workspace, Entra ID tokens (the ARM schema's enums:
    // authMode Key | AMLToken | AADToken, publicNetworkAccess Enabled | Disabled)
    const endpoint = body("azapi_resource.endpoint");
    expect(endpoint.type).toMatch(
      /^Microsoft\.MachineLearningServices\/workspaces\/onlineEndpoints@\d{4}-\d{2}-\d{2}$/,
    );
    expect(endpoint.parent_id).toBe("${azurerm_machine_learning_workspace.main.id}");
    expect(["Key", "AMLToken", "AADToken"]).toContain(endpoint.body.properties.authMode);
    expect(["Enabled", "Disabled"]).toContain(endpoint.body.properties.publicNetworkAccess);
    // names are 3-32 characters: the base, "-" and six hex digits of random_id (3 bytes)
    const locals = azureml.locals[0].endpoints as Record<string, Any>;
    for (const env of managed.environments) {
      expect(locals[env.name].name).toBe(env.endpoint);
      expect(env.endpoint.length + 1 + 6).toBeLessThanOrEqual(32);
      expect(locals[env.name].latency_alert).toBe(env.alarms.latency);
    }
    expect(body("random_id.endpoint").byte_length).toBe(3);
    // its identity pulls the image; the workspace's managed network reaches the private registry
    expect(body("azurerm_role_assignment.endpoint_pulls_images").principal_id).toBe(
      "${azapi_resource.endpoint[each.key].identity[0].principal_id}",
    );
    expect(body("azurerm_machine_learning_workspace.main").managed_network[0].isolation_mode).toBe(
      "AllowOnlyApprovedOutbound",
    );
    // the endpoint's name reaches each GitHub environment as the variable the deploy jobs read
    const outputs = files["infra/terraform/azure/outputs.tf"];
    expect(outputs).toContain(`"${ml.endpointVariable}"`);
    expect(outputs).toContain("azapi_resource.endpoint[environment].name");
    const deploy = parseYaml(files[".github/workflows/deploy.yml"]) as Any;
    for (const env of managed.environments) {
      const steps = deploy.jobs[`deploy-${env.name}`].steps as Any[];
      const create = steps.find((s) => /az ml online-deployment create/.test(s.run ?? ""))!;
      expect(create.env.ENDPOINT).toBe(`\${{ vars.${ml.endpointVariable} }}`);
      // the deployment file the step writes, as Azure ML reads it
      const deployment = parseYaml(/cat > deployment.yml <<EOF\n([\s\S]*?)\nEOF/.exec(create.run)![1]) as Any;
      expect(deployment.instance_type).toBe(ml.instanceType);
      expect(deployment.instance_count).toBe(env.production ? managed.minInstances : 1);
      expect(deployment.environment_variables).toEqual(managed.environment);
      const environment = parseYaml(
        /cat > environment.yml <<EOF\n([\s\S]*?)\nEOF/.exec(create.run)![1],
      ) as Any;
      expect(environment.inference_config.scoring_route).toEqual({ port: ml.port, path: ml.scoringRoute });
      expect(environment.inference_config.readiness_route).toEqual({
        port: ml.port,
        path: ml.readinessRoute,
      });
      expect(create.run.includes("az monitor autoscale create")).toBe(env.production);
    }
    // the alert rules: the SLO, and 5xx answers per minute at the fast burn of the average load
    expect(body("azurerm_monitor_metric_alert.latency").criteria[0].threshold).toBe(
      plan.requirements.inference.latencyP99Ms,
    );
    expect(body("azurerm_monitor_metric_alert.errors").criteria[0].threshold).toBe(
      ml.errorsPerMinuteThreshold,
    );
  });

  it("the Azure ML release gate reads the deployment's own metrics and refuses a failing or slow release", async () => {
    const plan = await planOf("azure-managed-endpoint");
    const release = managedRelease(plan);
    const dir = mkdtempSync(join(tmpdir(), "sw-azureml-gate-"));
    // the Azure CLI is not installed here: a stand-in that answers `az monitor metrics list` from files
    // the test writes, and logs each call
    writeFileSync(
      join(dir, "az"),
      [
        "#!/bin/bash",
        'echo "$*" >> "$AZ_LOG"',
        'metric="" filter=""',
        'while [ $# -gt 0 ]; do case "$1" in --metrics) metric="$2"; shift;; --filter) filter="$2"; shift;; esac; shift; done',
        'case "$metric/$filter" in',
        '  RequestLatency_P99/*) cat "$AZ_DATA/p99.json";;',
        '  RequestsPerMinute/*5xx*) cat "$AZ_DATA/errors.json";;',
        '  *) cat "$AZ_DATA/total.json";;',
        "esac",
      ].join("\n"),
      { mode: 0o755 },
    );
    const series = (values: number[]) =>
      JSON.stringify({ value: [{ timeseries: [{ data: values.map((average) => ({ average })) }] }] });
    const gate = (total: number[], errors: number[], p99: number[]) => {
      writeFileSync(join(dir, "total.json"), series(total));
      writeFileSync(join(dir, "errors.json"), series(errors));
      writeFileSync(join(dir, "p99.json"), series(p99));
      return spawnAsync("bash", ["-c", `${azureMlGateScript(release)}\ngate r-abc123 300`], {
        env: {
          ...process.env,
          PATH: `${dir}:${process.env.PATH}`,
          AZ_DATA: dir,
          AZ_LOG: join(dir, "calls.log"),
          ENDPOINT_ID:
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/onlineEndpoints/e",
        },
      });
    };
    expect((await gate([100, 120], [0, 0], [20, 30])).code).toBe(0);
    const quiet = await gate([], [], []);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain("took no request");
    const failing = await gate([100, 100], [20, 0], [20, 30]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain(`above the ${release.maxErrorRate} error share`);
    const slow = await gate([100, 100], [0, 0], [20, release.maxP99Ms + 5]);
    expect(slow.code).toBe(1);
    expect(slow.stdout).toContain(`above ${release.maxP99Ms} ms`);
    const calls = readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n");
    expect(calls.every((c) => c.includes("--resource /subscriptions/s/"))).toBe(true);
    expect(calls.every((c) => c.includes("deployment eq 'r-abc123'"))).toBe(true);
  }, 30_000);

  it("the generated platform answers Azure ML's liveness, readiness and scoring routes", async () => {
    await withHostedPlatform("azure-managed-endpoint", async ({ url, managed, request }) => {
      const ml = managed.azureml!;
      expect((await fetch(`${url}${ml.livenessRoute}`)).status).toBe(200);
      expect((await fetch(`${url}${ml.readinessRoute}`)).status).toBe(200);
      const answer = await post(`${url}${ml.scoringRoute}`, request);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    });
  }, 60_000);
});
