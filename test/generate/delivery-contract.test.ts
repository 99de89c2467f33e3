/**
 * The delivery contract: what deploy.yml does agrees with what the rest of the tree builds. For every
 * example and for specs of this test's own (shadow first, blue-green, GitOps, a public endpoint, a
 * serverless service on AWS and Azure): every object a workflow step waits on, promotes, aborts, rolls
 * back or port-forwards to exists in the chart as real helm renders it for the release, namespace and
 * values file that job installs; every image a deploy step runs is the one the build job pushed, to
 * the registry the tree's Terraform creates; the environments run in the spec's order, each with its
 * own GitHub environment, production last and behind the approval check; the whole tree (actionlint
 * included) validates clean.
 */
import { writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { deliveryOf } from "../../src/generate/delivery.js";
import { engineArgs } from "../../src/generate/engine-deploy.js";
import { generateAll } from "../../src/generate/index.js";
import { managedEndpointOf } from "../../src/generate/managed-endpoint.js";
import { choiceOf, planSpecFile } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { formatValidationProblem, validateFileSet } from "../../src/validate/index.js";
import { ChartOnDisk, type RenderedObject } from "../../src/validate/k8s.js";
import { ROOT } from "../helpers/cli.js";
import { EXAMPLES, MATRIX, onDeviceExample } from "../helpers/plans.js";
import { describeWith, tool } from "../helpers/tools.js";

const OWN_SPECS: Record<string, string> = {
  // every region's release on Google Cloud and Azure (the same specs the inventory tests check)
  "gcp-multi-region": MATRIX["gcp-multi-region"],
  "azure-multi-region": MATRIX["azure-multi-region"],
  "shadow-ranker": `metadata: { name: shadow-ranker }
useCase: { kind: recommendation }
team: { size: 6 }
inference: { peakQps: 200, latencyP99Ms: 80 }
deployment: { strategy: shadow }
`,
  "blue-green-gcp": `metadata: { name: risk-bg }
team: { size: 6 }
inference: { peakQps: 300, latencyP99Ms: 60 }
cloud: { provider: gcp }
deployment: { strategy: blue-green, environments: [qa, staging, production] }
`,
  "gitops-aws": `metadata: { name: churn }
team: { size: 6, existingTools: [argocd] }
inference: { peakQps: 200 }
deployment: { approval: false, repository: "https://github.com/acme/churn-platform.git" }
`,
  "gitops-flux-gcp": `metadata: { name: fraud-flux }
team: { size: 6, existingTools: [flux] }
inference: { peakQps: 200 }
cloud: { provider: gcp }
deployment: { repository: "https://github.com/acme/fraud-flux.git" }
`,
  "public-azure": `metadata: { name: pricing }
team: { size: 6 }
inference: { peakQps: 200 }
cloud: { provider: azure }
deployment: { access: public-endpoint, strategy: rolling }
`,
  "serverless-aws": `metadata: { name: tiny-api }
team: { size: 1 }
inference: { peakQps: 5 }
`,
  "serverless-gcp-three-environments": `metadata: { name: tiny-gcp }
team: { size: 1 }
inference: { peakQps: 5 }
cloud: { provider: gcp }
deployment: { environments: [qa, staging, production] }
`,
  "serverless-aws-batch": `metadata: { name: nightly-aws }
team: { size: 1 }
inference: { mode: batch, latencyP99Ms: 4h, batch: { schedule: "0 3 * * *" } }
`,
  "serverless-azure-batch": `metadata: { name: nightly-azure }
team: { size: 1 }
inference: { mode: batch, latencyP99Ms: 4h, batch: { schedule: "0 3 * * *" } }
cloud: { provider: azure }
`,
};

async function planOf(name: string): Promise<Plan> {
  if (EXAMPLES.includes(name)) return (await planSpecFile(join(ROOT, "examples", `${name}.yaml`))).plan;
  const dir = process.env.TMPDIR ?? "/tmp";
  const path = join(dir, `delivery-${name}.yaml`);
  writeFileSync(path, OWN_SPECS[name]);
  const { plan } = await planSpecFile(path);
  expect(
    plan.warnings.filter((w) => w.severity === "error"),
    name,
  ).toEqual([]);
  return plan;
}

interface Job {
  environment?: string;
  "runs-on"?: string | string[];
  needs?: string[];
  outputs?: Record<string, string>;
  steps: Array<{ name?: string; run?: string; uses?: string; with?: Record<string, unknown> }>;
}

interface Install {
  release: string;
  chart: string;
  namespace: string;
  valuesFile?: string;
}

/** `helm upgrade --install` lines of a job, parsed the way helm reads them. */
function installsOf(job: Job): Install[] {
  const out: Install[] = [];
  for (const step of job.steps) {
    const m = /helm upgrade --install (\S+) (\S+) --namespace (\S+)(?: --values (\S+))?/.exec(step.run ?? "");
    if (m) out.push({ release: m[1], chart: m[2], namespace: m[3], valuesFile: m[4] });
  }
  return out;
}

/** Every object a step acts on by name: [kind, name, namespace, what the step does]. */
function namedObjects(job: Job): Array<{ kind: string; name: string; namespace: string; verb: string }> {
  const out: Array<{ kind: string; name: string; namespace: string; verb: string }> = [];
  for (const step of job.steps) {
    const run = step.run ?? "";
    for (const m of run.matchAll(
      /kubectl argo rollouts (status|abort|promote|undo) (\S+) --namespace (\S+)/g,
    ))
      out.push({ kind: "Rollout", name: m[2], namespace: m[3], verb: m[1] });
    for (const m of run.matchAll(/kubectl rollout status deployment\/(\S+) --namespace (\S+)/g))
      out.push({ kind: "Deployment", name: m[1], namespace: m[2], verb: "rollout status" });
    for (const m of run.matchAll(/kubectl port-forward --namespace (\S+) service\/(\S+)/g))
      out.push({ kind: "Service", name: m[2], namespace: m[1], verb: "port-forward" });
    for (const m of run.matchAll(/helm rollback (\S+) --namespace (\S+)/g))
      out.push({ kind: "release", name: m[1], namespace: m[2], verb: "rollback" });
  }
  return out;
}

/** A Terraform attribute with `${var.x}` resolved from the variables' defaults. */
function resolveVars(value: string, variables: Record<string, unknown>): string {
  return value.replace(/\$\{var\.([a-z_]+)\}/g, (_, v) => String(variables[v]));
}

async function terraformOf(files: Record<string, string>, provider: string) {
  const resources: Record<string, Record<string, Record<string, unknown>>> = {};
  const variables: Record<string, unknown> = {};
  const locals: Record<string, unknown> = {};
  for (const [path, text] of Object.entries(files)) {
    if (!path.startsWith(`infra/terraform/${provider}/`) || !path.endsWith(".tf")) continue;
    const json = (await parseHcl(path, text)) as {
      resource?: Record<string, Record<string, Array<Record<string, unknown>>>>;
      variable?: Record<string, Array<{ default?: unknown }>>;
      locals?: Array<Record<string, unknown>>;
    };
    for (const block of json.locals ?? []) Object.assign(locals, block);
    for (const [type, byName] of Object.entries(json.resource ?? {})) {
      resources[type] ??= {};
      for (const [name, blocks] of Object.entries(byName)) resources[type][name] = blocks[0];
    }
    for (const [name, blocks] of Object.entries(json.variable ?? {})) variables[name] = blocks[0].default;
  }
  return { resources, variables, locals };
}

/**
 * The serverless service or job each serverless deploy step updates, by the name the step uses:
 * it must be the environment's own copy of a per-environment resource of the Terraform.
 */
const SERVERLESS_TARGETS: Array<{ pattern: RegExp; type: string; attribute: string }> = [
  {
    pattern: /aws ecs update-service --cluster \S+ --service (\S+)/g,
    type: "aws_ecs_service",
    attribute: "name",
  },
  {
    pattern: /aws ecs describe-task-definition --task-definition ([a-z][\w-]*) /g,
    type: "aws_ecs_task_definition",
    attribute: "family",
  },
  { pattern: /gcloud run deploy (\S+)/g, type: "google_cloud_run_v2_service", attribute: "name" },
  { pattern: /gcloud run jobs update (\S+)/g, type: "google_cloud_run_v2_job", attribute: "name" },
  { pattern: /az containerapp update --name (\S+)/g, type: "azurerm_container_app", attribute: "name" },
  {
    pattern: /az containerapp job update --name (\S+)/g,
    type: "azurerm_container_app_job",
    attribute: "name",
  },
];

type Terraform = Awaited<ReturnType<typeof terraformOf>>;

function expectServerlessTargets({ resources, locals }: Terraform, environment: string, runs: string) {
  const entry = (locals.deploy_environments as Record<string, Record<string, string>>)[environment];
  let found = 0;
  for (const { pattern, type, attribute } of SERVERLESS_TARGETS)
    for (const m of runs.matchAll(pattern)) {
      found++;
      const candidates = Object.values(resources[type] ?? {}).filter(
        (r) => r.for_each === "${local.deploy_environments}",
      );
      const named = candidates.map((r) => /^\$\{each\.value\.(\w+)\}$/.exec(String(r[attribute]))?.[1]);
      expect(
        named.map((field) => field && entry[field]),
        `${type} of ${environment}`,
      ).toContain(m[1]);
    }
  expect(found, `${environment}: a serverless deploy names what it updates`).toBeGreaterThan(0);
}

/** The image repository the build job pushes to, checked against the registry the Terraform creates. */
function expectRegistryFromTerraform(plan: Plan, terraform: Terraform | undefined, repository: string) {
  const provider = plan.requirements.cloud.provider;
  const delivery = deliveryOf(plan);
  if (!terraform) {
    expect(repository).toMatch(/^ghcr\.io\//);
    return;
  }
  const { resources, variables } = terraform;
  if (provider === "aws") {
    const name = resolveVars(String(resources.aws_ecr_repository.serving.name), variables);
    expect(repository).toBe(`\${{ steps.registry.outputs.registry }}/${name}`);
  } else if (provider === "gcp") {
    const repo = resources.google_artifact_registry_repository.images;
    const id = resolveVars(String(repo.repository_id), variables);
    const location = resolveVars(String(repo.location), variables);
    expect(repository).toBe(
      `${location}-docker.pkg.dev/\${{ vars.GCP_PROJECT_ID }}/${id}/${delivery.registry.image}`,
    );
  } else {
    const acr = resolveVars(String(resources.azurerm_container_registry.main.name), variables);
    expect(repository).toBe(`${acr}.azurecr.io/${delivery.registry.image}`);
  }
}

const IMAGE = "${{ needs.build.outputs.repository }}:${{ needs.build.outputs.tag }}";

describeWith(
  ["helm"],
  "delivery contract: deploy.yml against the chart, the registry and the environments",
  () => {
    // an on-device plan's releases are bundles moved ring by ring, with no deploy workflow yet (test/edge/)
    it.each([...EXAMPLES.filter((e) => !onDeviceExample(e)), ...Object.keys(OWN_SPECS)])(
      "%s",
      { timeout: 240_000 },
      async (name) => {
        const plan = await planOf(name);
        const files = Object.fromEntries(textEntries(generateAll(plan)));
        const delivery = deliveryOf(plan);
        if (!EXAMPLES.includes(name)) {
          // the examples are validated by generate itself (and the golden test); these once here
          const problems = await validateFileSet(files);
          expect(problems.map(formatValidationProblem), name).toEqual([]);
        }
        const deploy = parseYaml(files[".github/workflows/deploy.yml"]) as { jobs: Record<string, Job> };
        const { build, ...rest } = deploy.jobs;

        // one image, pushed once, to the registry the Terraform creates
        const pushed = build.steps
          .filter((s) => s.uses?.startsWith("docker/build-push-action"))
          .map((s) => String(s.with?.tags));
        const repository = build.outputs!.repository;
        // the tree's Terraform, read once (the team's own cluster has none)
        const provider = plan.requirements.cloud.provider;
        const terraform = provider === "kubernetes" ? undefined : await terraformOf(files, provider);
        const engine = engineArgs(plan);
        if (engine) {
          // an LLM engine's pods run the engine's own image: nothing is built or pushed
          expect(pushed).toEqual([]);
          expect(repository).toBe(engine.engine.image.repository);
        } else {
          expect(pushed[0]).toBe(`${repository}:\${{ steps.tag.outputs.tag }}`);
          expectRegistryFromTerraform(plan, terraform, repository);
        }

        // production in every other region of a multi-region plan: after the primary's release, against
        // that region's own stack
        const productionName = delivery.environments.at(-1)!.name;
        const regionJobs = new Map<string, (typeof delivery.regions)[number]>(
          delivery.regions.map((r) => [`deploy-${productionName}-${r.region}`, r]),
        );
        for (const [id, region] of regionJobs) {
          const job = rest[id];
          expect(job, id).toBeDefined();
          expect(job.environment).toBe(productionName);
          expect(job.needs).toContain(`deploy-${productionName}`);
          const dir = `infra/terraform/${plan.requirements.cloud.provider}/regions/${region.region}`;
          const runs = job.steps.map((step) => step.run ?? "").join("\n");
          // its cluster, its role (as its Terraform outputs it), its runners, its registry, its values
          const stackName = /variable "name" \{[^}]*?default\s*=\s*"([^"]+)"/.exec(
            files[`${dir}/variables.tf`],
          )![1];
          const cloud = plan.requirements.cloud.provider;
          if (region.runnerLabels) {
            const labels = /runner_labels = "([^"]+)"/.exec(files[`${dir}/runner.tf`])![1].split(",");
            for (const label of labels) expect(job["runs-on"]).toContain(label);
          }
          expect(files[`${delivery.chartPath}/${region.valuesFile}`], region.valuesFile).toBeDefined();
          const login = job.steps.find(
            (step) =>
              step.uses !== undefined && JSON.stringify(step.with ?? {}).includes(region.roleVariable),
          );
          expect(login, `${id} signs in as ${region.roleVariable}`).toBeDefined();
          if (cloud === "aws") {
            expect(runs).toContain(`aws eks update-kubeconfig --name ${stackName} --region ${region.region}`);
            expect(files[`${dir}/outputs.tf`]).toContain(`zipmap(["${region.roleVariable}"]`);
            expect(login!.with).toMatchObject({
              "role-to-assume": `\${{ vars.${region.roleVariable} }}`,
              "aws-region": region.region,
            });
            const repository = /name\s+= "([^"]+)"/.exec(files[`${dir}/registry.tf`])![1];
            expect(runs).toContain(`--repository-name ${repository} `);
            expect(runs).toContain(
              "--set image.repository=${{ steps.image.outputs.repository }} --set image.tag=${{ needs.build.outputs.tag }}",
            );
            expect(files[`infra/terraform/${cloud}/global/replication.tf`]).toContain(
              `region      = "${region.region}"`,
            );
            continue;
          }
          // Google Cloud and Azure: the environment's own identity (its roles reach every region's cluster),
          // and the image the build pushed, which every region's nodes pull (multi-region / geo-replicated)
          expect(runs).toContain(
            cloud === "gcp"
              ? `get-credentials ${stackName} --region ${region.region}`
              : `az aks get-credentials --resource-group ${stackName}-rg --name ${stackName}`,
          );
          expect(runs).toContain(
            "--set image.repository=${{ needs.build.outputs.repository }} --set image.tag=${{ needs.build.outputs.tag }}",
          );
          const registry = delivery.registry.registryName;
          if (cloud === "gcp") {
            const location = /location\s+= "([a-z]+)"/.exec(files[`infra/terraform/gcp/registry.tf`])![1];
            expect(files[`${dir}/cluster.tf`]).toContain(`location   = "${location}"`);
            expect(files[".github/workflows/deploy.yml"]).toContain(`${location}-docker.pkg.dev/`);
          } else {
            expect(files[`${dir}/registry.tf`]).toContain(`name                = "${registry}"`);
            expect(files["infra/terraform/azure/registry.tf"]).toContain(
              `location                = "${region.region}"`,
            );
            expect(files[`${dir}/deploy.tf`]).toContain('data "azurerm_user_assigned_identity" "deploy"');
          }
        }

        // environments in the spec's order, each its own GitHub environment; production last, behind approval
        const deployJobs = Object.entries(rest).filter(
          ([id]) => id.startsWith("deploy-") && !regionJobs.has(id),
        );
        expect(deployJobs.map(([, j]) => j.environment)).toEqual(delivery.environments.map((e) => e.name));
        const [, production] = deployJobs[deployJobs.length - 1];
        expect(production.needs!.includes("approval-required")).toBe(delivery.approval);
        if (deployJobs.length > 1) expect(production.needs).toContain(deployJobs[deployJobs.length - 2][0]);

        for (const [id, job] of [
          ...deployJobs,
          ...[...regionJobs.keys()].map((r) => [r, rest[r]] as const),
        ]) {
          const runs = job.steps.map((s) => s.run ?? "").join("\n");
          // every image a deploy step names is the one the build job pushed
          for (const m of runs.matchAll(
            /--image (\$\{\{[^}]*\}\}:\$\{\{[^}]*\}\}|\S+)|--arg image "([^"]+)"/g,
          ))
            expect(m[1] ?? m[2], id).toBe(IMAGE);
          const managed = managedEndpointOf(plan);
          if (managed) {
            // every endpoint the job updates is its own environment's, as sagemaker.tf names it
            const own = managed.environments.find((env) => env.name === job.environment)!;
            expect(files["infra/terraform/aws/sagemaker.tf"]).toContain(`name          = "${own.endpoint}"`);
            const targets = [...runs.matchAll(/--endpoint-name (\S+)/g)].map((m) => m[1]);
            expect(targets.length, id).toBeGreaterThan(0);
            for (const target of targets) expect(target, id).toBe(own.endpoint);
          } else if (choiceOf(plan, "serving.runtime") !== "kubernetes")
            expectServerlessTargets(terraform!, job.environment!, runs);
          for (const install of installsOf(job)) {
            // another region's release installs the image ECR replicated into its registry (above)
            if (!regionJobs.has(id))
              expect(runs).toContain(
                "--set image.repository=${{ needs.build.outputs.repository }} --set image.tag=${{ needs.build.outputs.tag }}",
              );
            expect(install.chart).toBe(delivery.chartPath);
            expect(install.release).toBe(delivery.release);
          }
          if (delivery.access === "gitops") {
            // the release values the job commits are what the controller of that environment syncs
            const written = /> (deploy\/releases\/\S+\.yaml)/.exec(runs)![1];
            const synced = parseAllDocuments(files[`deploy/gitops/${job.environment}.yaml`]).map((d) =>
              d.toJS(),
            );
            const env = delivery.environments.find((e) => e.name === job.environment)!;
            const app = synced.find((o) => o.kind === "Application" || o.kind === "HelmRelease");
            if (app.kind === "Application") {
              expect(app.spec.source.path).toBe(delivery.chartPath);
              expect(app.spec.source.helm.releaseName).toBe(delivery.release);
              expect(app.spec.destination.namespace).toBe(env.namespace);
              const resolved = app.spec.source.helm.valueFiles.map((f: string) =>
                posix.normalize(posix.join(delivery.chartPath, f)),
              );
              expect(resolved).toContain(written);
              for (const f of resolved) if (f !== written) expect(files[f], f).toBeDefined();
            } else {
              expect(app.spec.chart.spec.chart).toBe(delivery.chartPath);
              expect(app.spec.releaseName).toBe(delivery.release);
              expect(app.spec.targetNamespace).toBe(env.namespace);
              expect(app.spec.chart.spec.valuesFiles).toContain(written);
              for (const f of app.spec.chart.spec.valuesFiles)
                if (f !== written) expect(files[f], f).toBeDefined();
            }
          }
          const named = namedObjects(job);
          if (named.length === 0) continue;
          const installs = installsOf(job);
          expect(installs.length, `${id} acts on objects it never installs`).toBeGreaterThan(0);
          const install = installs[0];
          const base = install.chart;
          const overrides = install.valuesFile
            ? (parseYaml(files[install.valuesFile]) as Record<string, unknown>)
            : undefined;
          const chart = new ChartOnDisk(files, base, tool("helm"));
          let objects: RenderedObject[];
          try {
            const rendered = await chart.template(install.release, install.namespace, overrides);
            expect(rendered.problems).toEqual([]);
            objects = rendered.objects;
          } finally {
            chart.close();
          }
          for (const object of named) {
            expect(object.namespace, `${id}: ${object.verb} ${object.name}`).toBe(install.namespace);
            if (object.kind === "release") {
              expect(object.name).toBe(install.release);
              continue;
            }
            const found = objects.some(
              (o) => o.object.kind === object.kind && o.object.metadata?.name === object.name,
            );
            expect(
              found,
              `${id}: ${object.verb} ${object.kind}/${object.name} is not in the helm render of ${install.release}`,
            ).toBe(true);
          }
        }
      },
    );
  },
);
