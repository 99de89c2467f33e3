/**
 * Kubernetes objects the chart renders with its default values, validated against the Kubernetes
 * OpenAPI schemas (kubernetes-models). CRDs (Rollout, ServiceMonitor, ScaledObject, AnalysisTemplate)
 * get a structural check. helm itself is not packaged here; the generated ci.yml runs helm lint and
 * kubeconform on the real rendering.
 */
import { parse } from "yaml";
import type { FileSet } from "../fileset/index.js";
import { chartsIn, renderDefaultManifests } from "../generate/helm/manifests.js";
import type { ValidationProblem } from "./types.js";

type Model = new (data: Record<string, unknown>) => { validate(): void };

async function modelFor(apiVersion: string, kind: string): Promise<Model | undefined> {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const path = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  try {
    const mod = (await import(path)) as Record<string, Model>;
    return mod[kind];
  } catch {
    return undefined;
  }
}

const CRDS = new Set([
  "argoproj.io/v1alpha1 Rollout",
  "argoproj.io/v1alpha1 AnalysisTemplate",
  "monitoring.coreos.com/v1 ServiceMonitor",
  "keda.sh/v1alpha1 ScaledObject",
]);

export async function validateKubernetesObjects(
  file: string,
  objects: Array<Record<string, unknown>>,
): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (const obj of objects) {
    const apiVersion = String(obj.apiVersion ?? "");
    const kind = String(obj.kind ?? "");
    const name = (obj.metadata as { name?: string } | undefined)?.name;
    const label = `${kind} ${name ?? "(unnamed)"}`;
    if (!name || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name))
      problems.push({
        file,
        message: `${label}: metadata.name is not a DNS-1123 name`,
        validator: "kubernetes",
      });
    if (CRDS.has(`${apiVersion} ${kind}`)) {
      if (!obj.spec || typeof obj.spec !== "object")
        problems.push({ file, message: `${label}: spec is required`, validator: "kubernetes" });
      continue;
    }
    const model = await modelFor(apiVersion, kind);
    if (!model) {
      problems.push({
        file,
        message: `${label}: unknown apiVersion/kind ${apiVersion} ${kind}`,
        validator: "kubernetes",
      });
      continue;
    }
    try {
      new model(obj).validate();
    } catch (error) {
      problems.push({
        file,
        message: `${label}: ${String((error as Error).message).split("\n")[0]}`,
        validator: "kubernetes",
      });
    }
  }
  return problems;
}

export async function validateCharts(files: FileSet): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (const chart of chartsIn(files)) {
    const base = `deploy/helm/${chart}`;
    const chartYaml = parse(String(files[`${base}/Chart.yaml`] ?? "")) as {
      apiVersion?: string;
      name?: string;
    } | null;
    if (chartYaml?.apiVersion !== "v2")
      problems.push({
        file: `${base}/Chart.yaml`,
        message: "apiVersion must be v2",
        validator: "kubernetes",
      });
    if (chartYaml?.name !== chart)
      problems.push({
        file: `${base}/Chart.yaml`,
        message: `name must be the directory name ${chart}`,
        validator: "kubernetes",
      });
    const values = parse(String(files[`${base}/values.yaml`])) as Record<string, unknown>;
    problems.push(
      ...(await validateKubernetesObjects(`${base}/templates`, renderDefaultManifests(chart, values))),
    );
    for (const required of [
      "templates/deployment.yaml",
      "templates/service.yaml",
      "templates/_helpers.tpl",
      "templates/NOTES.txt",
      "values.schema.json",
    ]) {
      if (!(`${base}/${required}` in files))
        problems.push({ file: base, message: `missing ${required}`, validator: "kubernetes" });
    }
  }
  return problems;
}
