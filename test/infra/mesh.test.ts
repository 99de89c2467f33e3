import { expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { INGRESS_SOURCES, MESH_DATAPLANE_LABEL, MESH_PORTS } from "../../src/infra/index.js";
import type { RenderedObject } from "../../src/validate/k8s.js";
import { planOf, renderedChartOf, terraformBlocks } from "../helpers/plans.js";
import { describeWith } from "../helpers/tools.js";

/** The chart of a plan rendered by real helm, with values over its values.yaml. */
async function render(name: string, values?: Record<string, unknown>): Promise<RenderedObject[]> {
  return (await renderedChartOf(name, values)).objects;
}

const kind = (objects: RenderedObject[], k: string) =>
  objects.filter((o) => o.object.kind === k).map((o) => o.object as Record<string, any>);

describeWith(["helm"], "mTLS between services: the ambient mesh the chart joins", () => {
  it("a PCI plan behind a WAF: STRICT mTLS but on the serving port, which admits plain text only from the load balancer's subnets and the kubelet", async () => {
    const objects = await render("fraud-detection");
    const [auth] = kind(objects, "PeerAuthentication");
    expect(auth.spec.mtls.mode).toBe("STRICT");
    expect(auth.spec.portLevelMtls).toEqual({ 8080: { mode: "PERMISSIVE" } });
    const [policy] = kind(objects, "NetworkPolicy");
    const rules = policy.spec.ingress as Array<{ from: any[]; ports: Array<{ port: number }> }>;
    const byPort = (port: number) => rules.filter((r) => r.ports.some((p) => p.port === port));
    // the clients and Prometheus only through ztunnel
    expect(byPort(MESH_PORTS.hbone)).toHaveLength(1);
    expect(byPort(MESH_PORTS.hbone)[0].from.some((f) => f.namespaceSelector)).toBe(true);
    // plain text: the probes and the ALB's own subnets, never a pod or namespace selector
    const plain = byPort(8080).flatMap((r) => r.from);
    expect(plain.map((f) => f.ipBlock?.cidr).sort()).toEqual(
      [MESH_PORTS.probeSource, ...INGRESS_SOURCES.alb].sort(),
    );
    // the load balancer's subnets hold no pod: the VPC's private subnets (the pods') are outside them
    const plan = await planOf("fraud-detection");
    const files = Object.fromEntries(textEntries(generateAll(plan)));
    const network = files["infra/terraform/aws/network.tf"];
    expect(network).toMatch(
      /intra_subnets\s+=\s+\[for i, az in local\.azs : cidrsubnet\("10\.40\.208\.0\/21", 3, i\)\]/,
    );
    expect(network).toMatch(/intra_subnet_tags = \{\s+"kubernetes\.io\/role\/internal-elb" = 1/);
    expect(network).not.toMatch(/private_subnet_tags/);
    // every workload's pods are in the mesh
    for (const workload of objects.filter((o) =>
      ["Deployment", "Rollout", "CronJob"].includes(String(o.object.kind)),
    )) {
      const spec = workload.object.spec as Record<string, any>;
      const labels = (spec.template ?? spec.jobTemplate.spec.template).metadata.labels;
      expect(labels, `${workload.object.kind}`).toMatchObject(MESH_DATAPLANE_LABEL);
    }
  });

  it("without an Ingress no port takes plain text but the kubelet's probes", async () => {
    const objects = await render("fraud-detection", {
      ingress: {
        enabled: false,
        className: "",
        annotations: {},
        backendConfig: { enabled: false, securityPolicy: "" },
      },
    });
    const [auth] = kind(objects, "PeerAuthentication");
    expect(auth.spec).not.toHaveProperty("portLevelMtls");
    const [policy] = kind(objects, "NetworkPolicy");
    const plain = (policy.spec.ingress as Array<{ from: any[]; ports: Array<{ port: number }> }>)
      .filter((r) => r.ports.some((p) => p.port === 8080))
      .flatMap((r) => r.from);
    expect(plain).toEqual([{ ipBlock: { cidr: MESH_PORTS.probeSource } }]);
  });

  it("a plan without mTLS renders no PeerAuthentication and keeps the serving port open to its clients", async () => {
    const objects = await render("llm-support-assistant");
    expect(kind(objects, "PeerAuthentication")).toEqual([]);
    const [policy] = kind(objects, "NetworkPolicy");
    expect(JSON.stringify(policy.spec.ingress)).not.toContain(String(MESH_PORTS.hbone));
  });

  it("the mesh installs in order: istiod after the CRDs, the CNI agent and ztunnel after istiod (Terraform)", async () => {
    const plan = await planOf("gcp-hipaa-cluster");
    const files = Object.fromEntries(textEntries(generateAll(plan)));
    const blocks = await terraformBlocks(files);
    const release = (name: string) => blocks.find((b) => b.address === `helm_release.${name}`)!;
    expect(release("istiod").body.depends_on).toEqual(["${helm_release.istio_base}"]);
    expect(release("istio_cni").body.depends_on).toEqual(["${helm_release.istiod}"]);
    expect(release("ztunnel").body.depends_on).toEqual(["${helm_release.istiod}"]);
    // GKE: the CNI agent and ztunnel get the gke platform profile (CNI path, ResourceQuota)
    expect(files["infra/terraform/gcp/addons.tf"]).toMatch(/platform = "gke"/);
    // Prometheus joins the mesh to scrape pods whose mTLS is STRICT
    expect(files["infra/terraform/gcp/addons.tf"]).toMatch(/"istio\.io\/dataplane-mode" = "ambient"/);
  });
});

it("under GitOps the mesh's Applications retry until istiod is up and leave its webhooks' failurePolicy alone", async () => {
  const plan = await planOf("aws-gitops-cluster");
  const files = Object.fromEntries(textEntries(generateAll(plan)));
  const docs = parseAllDocuments(files["deploy/gitops/addons.yaml"]).map(
    (d) => d.toJS() as Record<string, any>,
  );
  const app = (name: string) => docs.find((d) => d.metadata.name === name)!;
  for (const name of ["istiod", "istio-cni", "ztunnel"])
    expect(app(name).spec.syncPolicy.retry, name).toBeDefined();
  expect(app("istio-base").spec.syncPolicy.retry).toBeUndefined();
  for (const name of ["istio-base", "istiod"])
    expect(app(name).spec.ignoreDifferences, name).toEqual([
      expect.objectContaining({
        kind: "ValidatingWebhookConfiguration",
        jqPathExpressions: [".webhooks[]?.failurePolicy"],
      }),
    ]);
  expect(app("istio-cni").spec.source.helm.valuesObject).toEqual({ profile: "ambient" });
});

it("under Flux each mesh HelmRelease depends on the release it needs running", async () => {
  const plan = await planOf("aws-flux-hipaa");
  const files = Object.fromEntries(textEntries(generateAll(plan)));
  const docs = parseAllDocuments(files["deploy/gitops/addons.yaml"]).map(
    (d) => d.toJS() as Record<string, any>,
  );
  const release = (name: string) => docs.find((d) => d.kind === "HelmRelease" && d.metadata.name === name)!;
  expect(release("istio-base").spec.dependsOn).toBeUndefined();
  expect(release("istiod").spec.dependsOn).toEqual([{ name: "istio-base" }]);
  expect(release("istio-cni").spec.dependsOn).toEqual([{ name: "istiod" }]);
  expect(release("ztunnel").spec.dependsOn).toEqual([{ name: "istiod" }]);
});
