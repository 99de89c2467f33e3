/**
 * The generated Helm chart, checked the way a cluster would meet it: real helm lints it (--strict)
 * and renders it (`helm template`), and every rendered object is validated against the Kubernetes
 * OpenAPI schemas (kubernetes-models) or its CRD's schema (Argo Rollouts, KEDA, External Secrets, the Prometheus
 * operator, Istio), with unknown fields refused, then cross-checked as a set: what an autoscaler targets,
 * what a Service / PDB / ServiceMonitor selects, and what a pod mounts or names must render too.
 *
 * helm is found by src/util/tools.ts (the npm devDependency's binary, else PATH). Where there is
 * none (stackwright installed without devDependencies, or a platform the bundled binary cannot run
 * on, and no helm on PATH), validation says so once and checks only what parses without rendering.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import type { FileSet } from "../fileset/index.js";
import { findTool, missingToolMessage } from "../util/tools.js";
import type { ValidateOptions, ValidationProblem } from "./types.js";

const run = promisify(execFile);

export type K8sObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
};

/** A rendered object and the chart file that rendered it. */
export interface RenderedObject {
  file: string;
  object: K8sObject;
}

type Validator = (this: unknown) => void;

/**
 * Where each CRD group's models live, tried in order (argoproj.io holds both Argo Rollouts and Argo
 * Workflows; @kubernetes-models/argo-workflows 2.x models Argo Workflows 4, where a CronWorkflow
 * needs `schedules`); the core groups come from kubernetes-models.
 */
const CRD_PACKAGES: Record<string, string[]> = {
  "argoproj.io": [
    "@kubernetes-models/argo-rollouts",
    "@kubernetes-models/argo-workflows",
    "@kubernetes-models/argo-cd",
  ],
  "source.toolkit.fluxcd.io": ["@kubernetes-models/flux-cd"],
  "helm.toolkit.fluxcd.io": ["@kubernetes-models/flux-cd"],
  "keda.sh": ["@kubernetes-models/keda"],
  "external-secrets.io": ["@kubernetes-models/external-secrets"],
  "cloud.google.com": ["@kubernetes-models/gke"],
  "monitoring.coreos.com": ["@kubernetes-models/prometheus-operator"],
  "security.istio.io": ["@kubernetes-models/istio"],
};

async function validatorFor(apiVersion: string, kind: string): Promise<Validator | undefined> {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const paths = CRD_PACKAGES[group]?.map((crd) => `${crd}/${group}/${version}`) ?? [
    group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`,
  ];
  for (const path of paths) {
    try {
      const mod = (await import(path)) as Record<string, { prototype: { validate: Validator } } | undefined>;
      const validate = mod[kind]?.prototype.validate;
      if (validate) return validate;
    } catch {
      // this package has no such group version: the next may
    }
  }
  return undefined;
}

/**
 * The manifests shipped outside the chart: pipelines (platform/pipelines/*.yaml: Argo WorkflowTemplate,
 * CronWorkflow) and what a GitOps controller syncs (deploy/gitops/*.yaml: Argo CD Application, Flux
 * GitRepository and HelmRelease).
 */
export async function validatePipelineManifests(files: FileSet): Promise<ValidationProblem[]> {
  const rendered: RenderedObject[] = [];
  for (const [file, content] of Object.entries(files)) {
    if (!/^(platform\/pipelines|deploy\/gitops)\/[^/]+\.ya?ml$/.test(file)) continue;
    for (const doc of parseAllDocuments(String(content))) {
      const object = doc.toJS() as K8sObject | null;
      if (object && typeof object === "object") rendered.push({ file, object });
    }
  }
  return validateKubernetesObjects(rendered);
}

/**
 * Runs a compiled schema validator over a proxy that records which properties it reads. The schema
 * validators read every property they declare and enumerate the keys of maps; a key of a structured
 * object that was never read is a field the schema does not have. Objects the validator neither read
 * nor enumerated are free-form in the schema (preserve-unknown-fields) and are not judged.
 */
function validateStrict(validate: Validator, root: K8sObject): { error?: string; unknown: string[] } {
  const infos: Array<{ target: object; path: string; read: Set<string>; enumerated: boolean }> = [];
  const proxies = new WeakMap<object, object>();
  const wrap = (value: unknown, path: string): unknown => {
    if (!value || typeof value !== "object") return value;
    const known = proxies.get(value);
    if (known) return known;
    const info = { target: value, path, read: new Set<string>(), enumerated: false };
    infos.push(info);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const child = Reflect.get(target, key, receiver);
        if (typeof key !== "string") return child;
        info.read.add(key);
        return wrap(child, Array.isArray(target) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
      },
      has(target, key) {
        if (typeof key === "string") info.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        info.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  let error: string | undefined;
  try {
    validate.call(wrap(root, ""));
  } catch (e) {
    error = String((e as Error).message).split("\n")[0];
  }
  const unknown: string[] = [];
  for (const info of infos) {
    if (Array.isArray(info.target) || info.enumerated || info.read.size === 0) continue;
    for (const key of Object.keys(info.target))
      if (!info.read.has(key)) unknown.push(info.path ? `${info.path}.${key}` : key);
  }
  return { error, unknown };
}

const DNS1123 = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Each object against its schema: apiVersion/kind known, name valid, schema-valid, no unknown field. */
export async function validateKubernetesObjects(rendered: RenderedObject[]): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (const { file, object } of rendered) {
    const apiVersion = String(object.apiVersion ?? "");
    const kind = String(object.kind ?? "");
    const name = object.metadata?.name;
    const label = `${kind} ${name ?? "(unnamed)"}`;
    const problem = (message: string) =>
      problems.push({ file, message: `${label}: ${message}`, validator: "kubernetes" });
    if (!name || !DNS1123.test(name)) problem("metadata.name is not a DNS-1123 name");
    const validate = await validatorFor(apiVersion, kind);
    if (!validate) {
      problem(`unknown apiVersion/kind ${apiVersion} ${kind}`);
      continue;
    }
    const { error, unknown } = validateStrict(validate, object);
    if (error) problem(error);
    for (const field of unknown) problem(`unknown field ${field}`);
  }
  return problems;
}

interface PodView {
  owner: RenderedObject;
  labels: Record<string, string>;
  spec: Record<string, any>;
}

/** The pod templates of the workloads in a rendering (Deployment, Rollout, Job, CronJob, …). */
function podsOf(rendered: RenderedObject[]): PodView[] {
  const pods: PodView[] = [];
  for (const r of rendered) {
    const spec = (r.object as { spec?: any }).spec;
    const template = r.object.kind === "CronJob" ? spec?.jobTemplate?.spec?.template : spec?.template;
    if (template?.spec?.containers)
      pods.push({ owner: r, labels: template.metadata?.labels ?? {}, spec: template.spec });
  }
  return pods;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export interface CrossCheckOptions {
  /** Secrets the chart documents as created outside it (by the operator or a secret syncer) */
  externalSecrets?: readonly string[];
}

/**
 * The rendered objects as a set: every autoscaler's target renders, every selector selects a pod
 * (or a Service, for a ServiceMonitor) and its named port exists, every ConfigMap, Secret,
 * ServiceAccount and AnalysisTemplate a workload names renders (a Secret may instead be documented
 * as external, or be optional), and every pod is hardened: non-root, seccomp RuntimeDefault, a
 * writable /tmp under a read-only root, and a GPU limit only with a GPU nodeSelector and toleration.
 */
export function crossCheckObjects(
  rendered: RenderedObject[],
  options: CrossCheckOptions = {},
): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const problem = (r: RenderedObject, message: string) =>
    problems.push({
      file: r.file,
      message: `${r.object.kind} ${r.object.metadata?.name}: ${message}`,
      validator: "kubernetes-refs",
    });
  const find = (kind: string, name: unknown, apiVersion?: string) =>
    rendered.find(
      (r) =>
        (r.object.kind === kind &&
          r.object.metadata?.name === name &&
          (!apiVersion || r.object.apiVersion === apiVersion)) ||
        // a Secret an ExternalSecret creates renders as that ExternalSecret
        (kind === "Secret" &&
          r.object.kind === "ExternalSecret" &&
          ((r.object as any).spec?.target?.name ?? r.object.metadata?.name) === name),
    );
  const pods = podsOf(rendered);
  const external = new Set(options.externalSecrets ?? []);
  for (const r of rendered) {
    const spec = (r.object as { spec?: any }).spec ?? {};
    switch (r.object.kind) {
      case "HorizontalPodAutoscaler":
      case "ScaledObject": {
        const ref = spec.scaleTargetRef ?? {};
        const apiVersion = ref.apiVersion ?? "apps/v1";
        const kind = ref.kind ?? "Deployment";
        if (!find(kind, ref.name, apiVersion))
          problem(r, `scaleTargetRef ${apiVersion} ${kind} ${ref.name} does not render`);
        break;
      }
      case "PodDisruptionBudget":
      case "NetworkPolicy": {
        const selector =
          r.object.kind === "NetworkPolicy" ? spec.podSelector?.matchLabels : spec.selector?.matchLabels;
        const long = pods.filter((p) => p.owner.object.kind !== "CronJob" && p.owner.object.kind !== "Job");
        const candidates = r.object.kind === "NetworkPolicy" ? pods : long;
        if (!candidates.some((p) => selects(selector, p.labels)))
          problem(r, `selector ${JSON.stringify(selector ?? {})} selects no pod that renders`);
        break;
      }
      case "Service": {
        const selected = pods.filter(
          (p) => selects(spec.selector, p.labels) && p.owner.object.kind !== "CronJob",
        );
        if (selected.length === 0)
          problem(r, `selector ${JSON.stringify(spec.selector ?? {})} selects no pod that renders`);
        for (const port of spec.ports ?? []) {
          if (typeof port.targetPort !== "string") continue;
          for (const pod of selected)
            if (
              !pod.spec.containers.some((c: any) =>
                (c.ports ?? []).some((p: any) => p.name === port.targetPort),
              )
            )
              problem(
                r,
                `targetPort ${port.targetPort} is not a container port of ${pod.owner.object.kind} ${pod.owner.object.metadata?.name}`,
              );
        }
        break;
      }
      case "ServiceMonitor": {
        const services = rendered.filter(
          (s) =>
            s.object.kind === "Service" &&
            selects(spec.selector?.matchLabels, s.object.metadata?.labels ?? {}),
        );
        if (services.length === 0) problem(r, "selects no Service that renders");
        for (const endpoint of spec.endpoints ?? [])
          for (const s of services)
            if (!((s.object as any).spec?.ports ?? []).some((p: any) => p.name === endpoint.port))
              problem(
                r,
                `endpoint port ${endpoint.port} is not a port of Service ${s.object.metadata?.name}`,
              );
        break;
      }
      case "Rollout":
        for (const t of spec.strategy?.canary?.analysis?.templates ?? [])
          if (!find("AnalysisTemplate", t.templateName))
            problem(r, `analysis template ${t.templateName} does not render`);
        break;
    }
  }
  for (const pod of pods) {
    const r = pod.owner;
    const s = pod.spec;
    const account = s.serviceAccountName;
    if (account && account !== "default" && !find("ServiceAccount", account))
      problem(r, `serviceAccountName ${account} does not render`);
    const volumes = new Map<string, any>((s.volumes ?? []).map((v: any) => [v.name, v]));
    for (const v of volumes.values()) {
      if (v.configMap && !v.configMap.optional && !find("ConfigMap", v.configMap.name))
        problem(r, `volume ${v.name}: ConfigMap ${v.configMap.name} does not render`);
      if (
        v.secret &&
        !v.secret.optional &&
        !find("Secret", v.secret.secretName) &&
        !external.has(v.secret.secretName)
      )
        problem(r, `volume ${v.name}: Secret ${v.secret.secretName} does not render`);
    }
    if (s.securityContext?.runAsNonRoot !== true) problem(r, "pod securityContext.runAsNonRoot is not true");
    if (s.securityContext?.seccompProfile?.type !== "RuntimeDefault")
      problem(r, "pod securityContext.seccompProfile is not RuntimeDefault");
    for (const c of s.containers) {
      for (const env of c.env ?? []) {
        const secret = env.valueFrom?.secretKeyRef;
        if (secret && !secret.optional && !find("Secret", secret.name) && !external.has(secret.name))
          problem(
            r,
            `container ${c.name} env ${env.name}: Secret ${secret.name} neither renders nor is documented as external`,
          );
        const map = env.valueFrom?.configMapKeyRef;
        if (map && !map.optional && !find("ConfigMap", map.name))
          problem(r, `container ${c.name} env ${env.name}: ConfigMap ${map.name} does not render`);
      }
      for (const m of c.volumeMounts ?? [])
        if (!volumes.has(m.name))
          problem(r, `container ${c.name} mounts volume ${m.name}, which the pod does not declare`);
      const ports = new Set((c.ports ?? []).map((p: any) => p.name));
      for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        const port = c[probe]?.httpGet?.port;
        if (typeof port === "string" && !ports.has(port))
          problem(r, `container ${c.name} ${probe} port ${port} is not a container port`);
      }
      if (c.securityContext?.allowPrivilegeEscalation !== false)
        problem(r, `container ${c.name} allows privilege escalation`);
      if (c.securityContext?.readOnlyRootFilesystem === true) {
        const tmp = (c.volumeMounts ?? []).find((m: any) => m.mountPath === "/tmp");
        if (!tmp || !volumes.get(tmp.name)?.emptyDir)
          problem(r, `container ${c.name} has a read-only root and no writable /tmp (emptyDir)`);
      }
      const gpuLimits = Object.keys(c.resources?.limits ?? {}).filter((k) => k.endsWith("/gpu"));
      for (const resource of gpuLimits) {
        if (Object.keys(s.nodeSelector ?? {}).length === 0 && !s.affinity?.nodeAffinity)
          problem(
            r,
            `container ${c.name} asks for ${resource} but the pod has no nodeSelector or node affinity`,
          );
        if (!(s.tolerations ?? []).some((t: any) => t.key === resource))
          problem(
            r,
            `container ${c.name} asks for ${resource} but the pod does not tolerate the ${resource} taint`,
          );
      }
    }
  }
  return problems;
}

/** Parses `helm template` output into objects, each with the chart file that rendered it. */
export function parseRendered(output: string, chartBase: string): RenderedObject[] {
  const rendered: RenderedObject[] = [];
  for (const doc of parseAllDocuments(output)) {
    const object = doc.toJS() as K8sObject | null;
    if (!object || typeof object !== "object") continue;
    const comments = `${doc.commentBefore ?? ""}\n${(doc.contents as { commentBefore?: string } | null)?.commentBefore ?? ""}`;
    const source = /Source: [^/\s]+\/(\S+)/.exec(comments)?.[1];
    rendered.push({ file: source ? `${chartBase}/${source}` : `${chartBase}/templates`, object });
  }
  return rendered;
}

/** helm with its homes in a private directory, so a run neither reads nor writes the user's helm state. */
async function helm(
  binary: string,
  args: string[],
  home: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_DATA_HOME: join(home, "data"),
  };
  try {
    const { stdout, stderr } = await run(binary, args, { env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== "number") throw new Error(`cannot run ${binary}: ${e.message}`);
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? e.message };
  }
}

/** A chart written from a FileSet into a private directory, and the helm runs made against it. */
export class ChartOnDisk {
  readonly dir: string;
  private readonly work: string;

  constructor(
    files: FileSet,
    readonly base: string,
    readonly helmPath: string,
  ) {
    this.work = mkdtempSync(join(tmpdir(), "stackwright-chart-"));
    this.dir = join(this.work, base.split("/").pop()!);
    for (const [path, content] of Object.entries(files)) {
      if (!path.startsWith(`${base}/`)) continue;
      const target = join(this.dir, path.slice(base.length + 1));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
  }

  /** `helm lint --strict`: every [ERROR] and [WARNING] line is a problem. */
  async lint(): Promise<ValidationProblem[]> {
    const { code, stdout, stderr } = await helm(this.helmPath, ["lint", "--strict", this.dir], this.work);
    const lines = `${stdout}\n${stderr}`.split("\n").filter((l) => /\[(ERROR|WARNING)\]/.test(l));
    if (code !== 0 && lines.length === 0) lines.push(stderr.trim() || stdout.trim());
    return lines.map((line) => ({
      file: this.base,
      message: `helm lint: ${line.replace(this.dir, this.base).trim()}`,
      validator: "helm" as const,
    }));
  }

  /**
   * `helm template` with the chart's values, overridden by `values` where given (a values file, as
   * `helm install -f` reads it). Returns the objects, or the problem helm reported.
   */
  async template(
    release: string,
    namespace: string,
    values?: Record<string, unknown>,
  ): Promise<{ objects: RenderedObject[]; problems: ValidationProblem[] }> {
    const args = ["template", release, this.dir, "--namespace", namespace];
    if (values) {
      const file = join(this.work, `values-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(values));
      args.push("--values", file);
    }
    const { code, stdout, stderr } = await helm(this.helmPath, args, this.work);
    if (code !== 0)
      return {
        objects: [],
        problems: [
          {
            file: this.base,
            message: `helm template: ${stderr.replaceAll(this.dir, this.base).trim()}`,
            validator: "helm",
          },
        ],
      };
    return { objects: parseRendered(stdout, this.base), problems: [] };
  }

  close(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** Chart names in a FileSet (deploy/helm/<name>/Chart.yaml). */
export function chartsIn(files: FileSet): string[] {
  return Object.keys(files)
    .map((path) => /^deploy\/helm\/([^/]+)\/Chart\.yaml$/.exec(path)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/**
 * The Secrets a generated chart reads but leaves to the operator (its values name them): all it
 * reads, less those its ExternalSecrets sync from the cloud's store.
 */
export function externalSecretsOf(values: Record<string, any>): string[] {
  const synced = new Set(
    values.externalSecrets?.enabled
      ? ((values.externalSecrets.secrets ?? []) as Array<{ name: string }>).map((s) => s.name)
      : [],
  );
  return [
    values.serveTokens?.secretName,
    values.onlineStore?.secretName,
    ...((values.batch?.secretEnv ?? []) as Array<{ secretName?: string }>).map((e) => e.secretName),
  ].filter((name): name is string => typeof name === "string" && name !== "" && !synced.has(name));
}

/** Values as helm coalesces a values file over the chart's: maps merge, everything else replaces. */
export function mergeValues(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    const isMap = (v: unknown): v is Record<string, unknown> =>
      !!v && typeof v === "object" && !Array.isArray(v);
    out[key] = isMap(current) && isMap(value) ? mergeValues(current, value) : value;
  }
  return out;
}

/** Render, schema-check and cross-check one chart under one set of values. */
export async function checkChartRendering(
  chart: ChartOnDisk,
  release: string,
  values: Record<string, unknown>,
  overrides?: Record<string, unknown>,
): Promise<{ objects: RenderedObject[]; problems: ValidationProblem[] }> {
  const { objects, problems } = await chart.template(release, release, overrides);
  if (problems.length > 0) return { objects, problems };
  return {
    objects,
    problems: [
      ...(await validateKubernetesObjects(objects)),
      ...crossCheckObjects(objects, {
        externalSecrets: externalSecretsOf(mergeValues(values, overrides ?? {})),
      }),
    ],
  };
}

const noticed = new Set<string>();

export async function validateCharts(
  files: FileSet,
  options: ValidateOptions = {},
): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  const charts = chartsIn(files);
  const helmPath = charts.length > 0 ? findTool("helm") : undefined;
  if (charts.length > 0 && !helmPath) {
    const message = `chart validation without rendering: ${missingToolMessage("helm")}`;
    if (!noticed.has(message)) {
      noticed.add(message);
      (options.notice ?? ((m: string) => process.stderr.write(`${m}\n`)))(message);
    }
  }
  for (const name of charts) {
    const base = `deploy/helm/${name}`;
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
    if (chartYaml?.name !== name)
      problems.push({
        file: `${base}/Chart.yaml`,
        message: `name must be the directory name ${name}`,
        validator: "kubernetes",
      });
    for (const required of [
      "values.yaml",
      "values.schema.json",
      "templates/_helpers.tpl",
      "templates/NOTES.txt",
    ])
      if (!(`${base}/${required}` in files))
        problems.push({ file: base, message: `missing ${required}`, validator: "kubernetes" });
    if (!helmPath || !(`${base}/values.yaml` in files)) continue;
    const values = (parse(String(files[`${base}/values.yaml`])) ?? {}) as Record<string, unknown>;
    const chart = new ChartOnDisk(files, base, helmPath);
    try {
      problems.push(...(await chart.lint()));
      problems.push(...(await checkChartRendering(chart, name, values)).problems);
      // each environment's values file (values-<env>.yaml) renders on top of values.yaml, as deploys install it
      for (const file of Object.keys(files)
        .filter((f) => f.startsWith(`${base}/values-`) && f.endsWith(".yaml"))
        .sort()) {
        const overrides = (parse(String(files[file])) ?? {}) as Record<string, unknown>;
        for (const p of (await checkChartRendering(chart, name, values, overrides)).problems)
          problems.push({ ...p, message: `with ${file.slice(base.length + 1)}: ${p.message}` });
      }
    } finally {
      chart.close();
    }
  }
  return problems;
}
