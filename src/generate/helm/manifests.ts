/**
 * What the chart renders with its default values, built in code for validation: helm is not packaged
 * on the machines this project builds on, so the generated CI runs `helm lint` and
 * `helm template | kubeconform` for the real rendering, while here every object the chart emits for
 * the default values is checked against the Kubernetes schemas (kubernetes-models). Keep in step with
 * templates/helm/chart/templates/*.yaml.
 */
import type { FileSet } from "../../fileset/index.js";
import { INITIAL_CHART_VERSION } from "./index.js";

type Obj = Record<string, unknown>;

export function renderDefaultManifests(chartName: string, values: Obj, release = "release"): Obj[] {
  const v = values as {
    mode: string;
    platformDir: string;
    replicaCount: number;
    image: { repository: string; tag: string; pullPolicy: string };
    args: string[];
    probes: { live: string; ready: string };
    service: { type: string; port: number };
    resources: Obj;
    nodeSelector: Obj;
    tolerations: Obj[];
    topologySpreadConstraints: Obj[];
    envFromSecrets: Array<{ name: string; secretName: string; key: string; optional: boolean }>;
    autoscaling: {
      enabled: boolean;
      kind: string;
      minReplicas: number;
      maxReplicas: number;
      targetCPUUtilizationPercentage: number;
      kedaTriggers: Obj[];
    };
    podDisruptionBudget: { minAvailable: number };
    networkPolicy: { enabled: boolean; allowFrom: Obj[]; egressTo: Obj[] };
    serviceMonitor: { enabled: boolean; interval: string };
    canary: { enabled: boolean; steps: number[]; stepMinutes: number };
    batch: {
      schedule: string;
      parallelism: number;
      maxRetries: number;
      deadlineSeconds: number;
      input: string;
      output: string;
    };
    serveConfig: Obj;
  };
  const fullname = (release.includes(chartName) ? release : `${release}-${chartName}`)
    .slice(0, 63)
    .replace(/-$/, "");
  const selector = { "app.kubernetes.io/name": chartName, "app.kubernetes.io/instance": release };
  const labels = {
    ...selector,
    "helm.sh/chart": `${chartName}-${INITIAL_CHART_VERSION}`,
    "app.kubernetes.io/version": INITIAL_CHART_VERSION,
    "app.kubernetes.io/managed-by": "Helm",
    "app.kubernetes.io/part-of": "stackwright",
  };
  const meta = (name: string) => ({ name, labels });
  const env = v.envFromSecrets.map((e) => ({
    name: e.name,
    valueFrom: { secretKeyRef: { name: e.secretName, key: e.key, optional: e.optional } },
  }));
  const podTemplate = {
    metadata: { labels: selector, annotations: { "checksum/config": "0" } },
    spec: {
      serviceAccountName: fullname,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroup: 10001,
        seccompProfile: { type: "RuntimeDefault" },
      },
      ...(v.topologySpreadConstraints.length
        ? { topologySpreadConstraints: v.topologySpreadConstraints }
        : {}),
      ...(Object.keys(v.nodeSelector).length ? { nodeSelector: v.nodeSelector } : {}),
      ...(v.tolerations.length ? { tolerations: v.tolerations } : {}),
      containers: [
        {
          name: "serve",
          image: `${v.image.repository}:${v.image.tag}`,
          imagePullPolicy: v.image.pullPolicy,
          args: v.args,
          ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
          ...(env.length ? { env } : {}),
          livenessProbe: {
            httpGet: { path: v.probes.live, port: "http" },
            periodSeconds: 10,
            failureThreshold: 3,
          },
          readinessProbe: {
            httpGet: { path: v.probes.ready, port: "http" },
            periodSeconds: 5,
            failureThreshold: 2,
          },
          startupProbe: {
            httpGet: { path: v.probes.ready, port: "http" },
            periodSeconds: 5,
            failureThreshold: 60,
          },
          resources: v.resources,
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
          volumeMounts: [
            {
              name: "config",
              mountPath: `${v.platformDir}/serve.yaml`,
              subPath: "serve.yaml",
              readOnly: true,
            },
            { name: "tmp", mountPath: "/tmp" },
          ],
        },
      ],
      volumes: [
        { name: "config", configMap: { name: `${fullname}-config` } },
        { name: "tmp", emptyDir: {} },
      ],
    },
  };
  const out: Obj[] = [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: meta(fullname),
      automountServiceAccountToken: false,
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(`${fullname}-config`),
      data: { "serve.yaml": JSON.stringify(v.serveConfig) },
    },
  ];
  const batch = v.mode === "batch";
  if (!batch && !v.canary.enabled) {
    out.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(fullname),
      spec: {
        ...(v.autoscaling.enabled ? {} : { replicas: v.replicaCount }),
        revisionHistoryLimit: 5,
        selector: { matchLabels: selector },
        template: podTemplate,
      },
    });
  }
  if (!batch) {
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(fullname),
      spec: {
        type: v.service.type,
        ports: [{ port: v.service.port, targetPort: "http", protocol: "TCP", name: "http" }],
        selector,
      },
    });
  }
  const target = v.canary.enabled
    ? { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: fullname }
    : { apiVersion: "apps/v1", kind: "Deployment", name: fullname };
  if (v.autoscaling.enabled && v.autoscaling.kind === "hpa") {
    out.push({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta(fullname),
      spec: {
        scaleTargetRef: target,
        minReplicas: v.autoscaling.minReplicas,
        maxReplicas: v.autoscaling.maxReplicas,
        metrics: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: {
                type: "Utilization",
                averageUtilization: v.autoscaling.targetCPUUtilizationPercentage,
              },
            },
          },
        ],
      },
    });
  }
  if (v.autoscaling.enabled && v.autoscaling.kind === "keda") {
    out.push({
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: meta(fullname),
      spec: {
        scaleTargetRef: target,
        minReplicaCount: v.autoscaling.minReplicas,
        maxReplicaCount: v.autoscaling.maxReplicas,
        triggers: v.autoscaling.kedaTriggers,
      },
    });
  }
  if (!batch && v.podDisruptionBudget.minAvailable > 0) {
    out.push({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(fullname),
      spec: { minAvailable: v.podDisruptionBudget.minAvailable, selector: { matchLabels: selector } },
    });
  }
  if (v.networkPolicy.enabled) {
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(fullname),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: v.networkPolicy.allowFrom, ports: [{ port: 8080, protocol: "TCP" }] }],
        egress: [
          {
            to: [{ namespaceSelector: {} }],
            ports: [
              { port: 53, protocol: "UDP" },
              { port: 53, protocol: "TCP" },
            ],
          },
          ...(v.networkPolicy.egressTo.length ? [{ to: v.networkPolicy.egressTo }] : []),
        ],
      },
    });
  }
  if (v.serviceMonitor.enabled && !batch) {
    out.push({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: meta(fullname),
      spec: {
        selector: { matchLabels: selector },
        endpoints: [{ port: "http", path: "/metrics", interval: v.serviceMonitor.interval }],
      },
    });
  }
  if (v.canary.enabled && !batch) {
    out.push({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: meta(fullname),
      spec: {
        ...(v.autoscaling.enabled ? {} : { replicas: v.replicaCount }),
        selector: { matchLabels: selector },
        template: podTemplate,
        strategy: {
          canary: {
            analysis: { templates: [{ templateName: `${fullname}-gates` }] },
            steps: v.canary.steps.flatMap((w) => [
              { setWeight: w },
              { pause: { duration: `${v.canary.stepMinutes}m` } },
            ]),
          },
        },
      },
    });
    out.push({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AnalysisTemplate",
      metadata: meta(`${fullname}-gates`),
      spec: { metrics: [{ name: "error-rate" }, { name: "p99-latency" }] },
    });
  }
  if (batch) {
    out.push({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta(`${fullname}-score`),
      spec: {
        schedule: v.batch.schedule,
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            parallelism: v.batch.parallelism,
            completions: v.batch.parallelism,
            completionMode: "Indexed",
            backoffLimit: v.batch.maxRetries,
            activeDeadlineSeconds: v.batch.deadlineSeconds,
            template: {
              metadata: { labels: selector },
              spec: {
                restartPolicy: "Never",
                serviceAccountName: fullname,
                securityContext: { runAsNonRoot: true, runAsUser: 10001 },
                containers: [
                  {
                    name: "score",
                    image: `${v.image.repository}:${v.image.tag}`,
                    args: [
                      "score",
                      "--config",
                      `${v.platformDir}/serve.yaml`,
                      "--input",
                      v.batch.input,
                      "--output",
                      v.batch.output,
                    ],
                    env: [{ name: "SHARD_COUNT", value: String(v.batch.parallelism) }],
                    resources: v.resources,
                    securityContext: {
                      allowPrivilegeEscalation: false,
                      readOnlyRootFilesystem: true,
                      capabilities: { drop: ["ALL"] },
                    },
                    volumeMounts: [
                      {
                        name: "config",
                        mountPath: `${v.platformDir}/serve.yaml`,
                        subPath: "serve.yaml",
                        readOnly: true,
                      },
                    ],
                  },
                ],
                volumes: [{ name: "config", configMap: { name: `${fullname}-config` } }],
              },
            },
          },
        },
      },
    });
  }
  return out;
}

/** Chart directories in a FileSet: deploy/helm/<name>/values.yaml present. */
export function chartsIn(files: FileSet): string[] {
  return Object.keys(files)
    .filter((p) => /^deploy\/helm\/[^/]+\/values\.yaml$/.test(p))
    .map((p) => p.split("/")[2]);
}
