/**
 * Managed model endpoints (serving.runtime: managed-endpoint, SageMaker real-time endpoints): a team of
 * three that needs a GPU on AWS gets one; its Terraform, its deploy workflow and its price agree on the
 * instance, the variant, the alarms and the serving image's configuration; SageMaker's limits on a
 * release's deployment configuration hold; and the serving image answers SageMaker's contract
 * (started as `serve`, configured by the environment the model sets) over HTTP.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseCommandLine } from "../../src/cli/main.js";
import { textEntries } from "../../src/fileset/index.js";
import { serveArgs } from "../../src/generate/commands.js";
import { generateAll } from "../../src/generate/index.js";
import { deploymentConfig, managedEndpointOf } from "../../src/generate/managed-endpoint.js";
import { createPlan } from "../../src/plan/index.js";
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
    // Vertex AI and Azure ML endpoints are not generated: those clouds keep their other runtimes
    expect(choice(planFrom(SMALL_TEAM_GPU(3, "gcp")), "serving.runtime")).not.toBe("managed-endpoint");
    expect(choice(planFrom(SMALL_TEAM_GPU(3, "azure")), "serving.runtime")).not.toBe("managed-endpoint");
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
    const plan = await planOf("shelf-vision");
    const out = mkdtempSync(join(tmpdir(), "sw-sagemaker-"));
    writeFileSet(out, generateAll(plan), { specHash: plan.spec.hash, ruleSetHash: plan.ruleSet.hash });
    const managed = managedEndpointOf(plan)!;
    // the environment the endpoint's model sets, the serving core's config read from the out directory
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
      expect((await fetch(`${s.url}/ping`)).status).toBe(200);
      const name = plan.requirements.metadata.name;
      const meta = (await (await fetch(`${s.url}/v2/models/${name}`)).json()) as Any;
      const input = meta.inputs[0];
      const width = Number(input.shape.at(-1));
      const request = {
        inputs: [
          { name: input.name, shape: [1, width], datatype: input.datatype, data: Array(width).fill(0.5) },
        ],
      };
      const invoked = await post(`${s.url}/invocations`, request);
      expect(invoked.status, JSON.stringify(invoked.body)).toBe(200);
      const direct = await post(`${s.url}/v2/models/${name}/infer`, request);
      expect(invoked.body.outputs).toEqual(direct.body.outputs);
      expect((await fetch(`${s.url}/invocations`)).status).toBe(405);
    } finally {
      await s.stop();
    }
  }, 60_000);
});
