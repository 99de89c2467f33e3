import { expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { type Addon, blockOf, GITOPS_ADDONS_FILE } from "../../src/infra/index.js";
import { ChartOnDisk, type RenderedObject } from "../../src/validate/k8s.js";
import { CASES, planOf, terraformBlocks } from "../helpers/plans.js";
import { describeWith, tool } from "../helpers/tools.js";

/** API groups every conformant cluster serves. */
const CORE_GROUPS = new Set([
  "",
  "apps",
  "batch",
  "autoscaling",
  "policy",
  "networking.k8s.io",
  "rbac.authorization.k8s.io",
]);

interface Need {
  kind: "groups" | "resources" | "ingressClasses" | "services" | "capabilities";
  value: string;
  /** the object that needs it */
  by: string;
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** What rendered objects need from the cluster beyond its core API. */
function needsOf(objects: RenderedObject[]): Need[] {
  const needs: Need[] = [];
  for (const { object } of objects) {
    const by = `${object.kind}/${object.metadata?.name}`;
    const apiVersion = String(object.apiVersion ?? "");
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
    if (!CORE_GROUPS.has(group)) needs.push({ kind: "groups", value: group, by });
    const spec = (object.spec ?? {}) as Record<string, any>;
    const pod = spec.template?.spec ?? spec.jobTemplate?.spec?.template?.spec;
    for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])])
      for (const amounts of [container.resources?.limits, container.resources?.requests])
        for (const resource of Object.keys(amounts ?? {}))
          if (resource.includes("/")) needs.push({ kind: "resources", value: resource, by });
    // a Service GKE makes network endpoint groups of (an Ingress's backend, or a global load balancer's)
    if (object.kind === "Service" && (object.metadata as any)?.annotations?.["cloud.google.com/neg"])
      needs.push({ kind: "capabilities", value: "network-endpoint-groups", by });
    if (object.kind === "Ingress")
      needs.push({
        kind: "ingressClasses",
        // GKE reads the class from the annotation
        value:
          spec.ingressClassName ?? (object.metadata as any)?.annotations?.["kubernetes.io/ingress.class"],
        by,
      });
    // an in-cluster address `http://<service>.<namespace>:<port>` the objects query or push to (two
    // labels, then a port, a path or the end: not a public host name)
    for (const text of strings(object))
      for (const m of text.matchAll(/https?:\/\/([a-z0-9-]+\.[a-z0-9-]+)(?::\d+)?(?=[/\s"']|$)/g))
        if (!m[1].endsWith(".svc") && !/\.(com|io|dev|org|net)$/.test(m[1]))
          needs.push({ kind: "services", value: m[1], by });
    // a pod in the ambient mesh needs its control plane, the CNI agent that redirects its traffic and
    // the node proxy that carries it as mTLS
    const podLabels = spec.template?.metadata?.labels ?? spec.jobTemplate?.spec?.template?.metadata?.labels;
    if (podLabels?.["istio.io/dataplane-mode"] === "ambient")
      for (const value of ["mesh-control-plane", "mesh-redirection", "mesh-mtls"])
        needs.push({ kind: "capabilities", value, by });
    // replicas that scale need nodes that follow them
    const scales =
      (object.kind === "HorizontalPodAutoscaler" && spec.maxReplicas > spec.minReplicas) ||
      (object.kind === "ScaledObject" && (spec.maxReplicaCount ?? 100) > (spec.minReplicaCount ?? 0));
    if (scales) needs.push({ kind: "capabilities", value: "node-autoscaling", by });
  }
  return needs;
}

function provided(addons: Addon[], need: Need): Addon | undefined {
  return addons.find((a) => (a.provides[need.kind] ?? []).includes(need.value));
}

describeWith(["helm"], "cluster add-ons: what the rendered chart needs is installed", () => {
  it.each(CASES)("%s", async (name) => {
    const plan = await planOf(name);
    const files = Object.fromEntries(textEntries(generateAll(plan)));
    const chartBase = Object.keys(files)
      .find((f) => /^deploy\/helm\/[^/]+\/Chart\.yaml$/.test(f))
      ?.replace(/\/Chart\.yaml$/, "");
    const onCluster = plan.decisions.some(
      (d) => d.capability === "serving.runtime" && d.choice === "kubernetes",
    );
    if (!onCluster) {
      expect(plan.addons, name).toEqual([]);
      expect(Object.keys(files).filter((f) => f.endsWith("/addons.tf"))).toEqual([]);
      return;
    }
    expect(chartBase, name).toBeDefined();

    // every environment's values: what production renders and what pre-production changes
    const chart = new ChartOnDisk(files, chartBase!, tool("helm"));
    const objects: RenderedObject[] = [];
    const valueFiles = Object.keys(files).filter((f) =>
      new RegExp(`^${chartBase}/values-[^/]+\\.yaml$`).test(f),
    );
    try {
      for (const values of [undefined, ...valueFiles]) {
        const rendered = await chart.template(
          "release",
          "ml",
          values ? (parseYaml(files[values]) as Record<string, unknown>) : undefined,
        );
        expect(rendered.problems, `${name} ${values ?? "values.yaml"}`).toEqual([]);
        objects.push(...rendered.objects);
      }
    } finally {
      chart.close();
    }
    const needs = needsOf(objects);
    // pre-production's replicas run beside production's on the serving pool: beyond its minimum
    const workload = objects.find((o) => ["Deployment", "Rollout"].includes(String(o.object.kind)));
    if (workload && valueFiles.length > 0)
      needs.push({
        kind: "capabilities",
        value: "node-autoscaling",
        by: `${workload.object.kind}/${workload.object.metadata?.name} in ${valueFiles.length} pre-production namespace(s)`,
      });
    expect(needs.length, `${name}: a chart on a cluster needs something`).toBeGreaterThan(0);
    const unmet = needs
      .filter((n) => !provided(plan.addons, n))
      .map((n) => `${n.by} needs ${n.kind} ${n.value}`);
    expect([...new Set(unmet)], name).toEqual([]);
    // no add-on without an object that needs it
    for (const addon of plan.addons)
      expect(
        needs.some((n) => provided([addon], n)),
        `${name}: ${addon.id} is installed but nothing rendered needs it`,
      ).toBe(true);

    // every add-on is installed where its path says
    const blocks = await terraformBlocks(files);
    const cloud = plan.requirements.cloud.provider;
    for (const addon of plan.addons) {
      const { install } = addon;
      const label = `${name}: ${addon.id} (${install.via})`;
      if (install.via === "terraform") {
        const block = blocks.find((b) => b.address === install.address && b.kind === "helm_release");
        expect(block?.file, label).toBe(`infra/terraform/${cloud}/${install.file}`);
        const release = block!.body as Record<string, string>;
        expect(
          {
            chart: release.chart,
            version: release.version,
            repository: release.repository,
            namespace: release.namespace,
          },
          label,
        ).toEqual({
          chart: install.chart.chart,
          version: install.chart.version,
          repository: install.chart.repository,
          namespace: install.chart.namespace,
        });
      } else if (install.via === "cloud") {
        const file = `infra/terraform/${cloud}/${install.file}`;
        expect(
          blocks.filter((b) => b.file === file).map((b) => b.address),
          label,
        ).toContain(blockOf(install.address));
        // the arguments that turn it on are in that block's file
        const keyword = install.how.split(/[\s{=,]/)[0];
        expect(files[file], label).toContain(keyword);
      } else if (install.via === "gitops") {
        const manifests = files[install.file];
        expect(manifests, label).toBeDefined();
        expect(manifests).toContain(install.chart.chart);
        expect(manifests).toContain(install.chart.version);
      } else {
        const architecture = files["docs/architecture.md"];
        expect(architecture, label).toContain(`${install.chart.chart}`);
        expect(architecture, label).toContain(install.chart.version);
      }
    }

    // every secret an ExternalSecret reads is one the Terraform writes to the cloud's store
    const terraform = Object.entries(files)
      .filter(([f]) => f.startsWith("infra/terraform/"))
      .map(([, text]) => text)
      .join("\n");
    for (const { object } of objects.filter((o) => o.object.kind === "ExternalSecret")) {
      const spec = object.spec as Record<string, any>;
      const keys = [
        ...(spec.data ?? []).map((d: any) => d.remoteRef.key),
        ...(spec.dataFrom ?? []).map((d: any) => d.extract.key),
      ];
      expect(keys.length, `${name}: ExternalSecret/${object.metadata?.name}`).toBeGreaterThan(0);
      for (const key of keys)
        expect(terraform, `${name}: ExternalSecret/${object.metadata?.name} reads ${key}`).toContain(
          `"${key}"`,
        );
    }

    // a WAF protects an entry point the Terraform builds, or says it protects nothing
    for (const waf of plan.inventory?.resources.filter((r) => r.implements.includes("waf")) ?? []) {
      const protects = waf.relations.filter((r) => r.kind === "protects");
      if (protects.length === 0) {
        expect(waf.title, `${name}: ${waf.address}`).toMatch(/not attached/);
        expect(waf.implements).not.toContain("waf-attached");
        continue;
      }
      expect(waf.implements).toContain("waf-attached");
      for (const { target } of protects) {
        const entry = plan.inventory!.resources.find((r) => r.address === target);
        expect(entry, `${name}: ${waf.address} protects ${target}`).toBeDefined();
        // a block applies the policy to the entry point: an association naming both, or the entry
        // point's own block (the controller's ingress class) naming the policy
        const mentions = (body: string, address: string) =>
          new RegExp(`(^|[^\\w.])${address.replace(".", "\\.")}\\.`).test(body);
        const applies = blocks.some((block) => {
          const body = JSON.stringify(block.body);
          return (
            mentions(body, waf.address) &&
            (block.address === blockOf(target) || mentions(body, blockOf(target)))
          );
        });
        if (!applies) {
          // else the chart's BackendConfig (GKE) or, under GitOps, the controller's values name the
          // policy by the name the Terraform gives it (var.name)
          const cloudDir = `infra/terraform/${cloud}`;
          const defaultName = /variable "name" \{[^}]*default\s*=\s*"([^"]+)"/.exec(
            files[`${cloudDir}/variables.tf`] ?? "",
          )?.[1];
          const [type, policy] = waf.address.split(".");
          expect(files[`${cloudDir}/waf.tf`]).toMatch(
            new RegExp(`resource "${type}" "${policy}" \\{\\s*name\\s+=\\s+var\\.name`),
          );
          // or the multi-region global load balancer's backend service (its own root) names it so
          const global = blocks.find((b) => b.file === entry!.file && b.address === blockOf(target));
          if (String(global?.body.security_policy ?? "").endsWith(`/securityPolicies/${defaultName}`))
            continue;
          const backend = objects.find((o) => o.object.kind === "BackendConfig");
          const named = backend
            ? (backend.object.spec as any).securityPolicy?.name
            : /wafv2AclName: (\S+)/.exec(files[GITOPS_ADDONS_FILE] ?? "")?.[1];
          expect(named, `${name}: nothing applies ${waf.address} to ${target}`).toBeDefined();
          expect(named).toBe(defaultName);
          if (backend) {
            // the Service the Ingress sends to names the BackendConfig
            const service = objects.find(
              (o) =>
                o.object.kind === "Service" &&
                String(
                  (o.object.metadata as any)?.annotations?.["cloud.google.com/backend-config"] ?? "",
                ).includes(`"${backend.object.metadata?.name}"`),
            );
            expect(
              service,
              `${name}: no Service names BackendConfig/${backend.object.metadata?.name}`,
            ).toBeDefined();
          }
        }
        if (target.startsWith("helm_release."))
          expect(
            objects.some((o) => o.object.kind === "Ingress"),
            `${name}: the controller's Ingress is rendered`,
          ).toBe(true);
      }
    }
  });
});
