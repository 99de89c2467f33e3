{{/*
The pod spec every workload runs, hardened alike: non-root, seccomp RuntimeDefault, read-only root
with a writable /tmp, no service-account token, and GPU scheduling (limit, nodeSelector, tolerations)
when gpu.enabled. Called with (dict "root" $ "component" "serve"|"score"). Where engine.kind names an
LLM engine, the serving container is the engine's own image and flags (values engine), reading the
checkpoint an init container copies from the data bucket (or a claim on the team's own cluster).
*/}}
{{- define "stackwright.podSpec" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $longRunning := ne .component "score" -}}
{{- $engine := and $longRunning (ne $v.engine.kind "onnx-core") -}}
serviceAccountName: {{ include "stackwright.serviceAccountName" $root }}
automountServiceAccountToken: false
{{- if not $longRunning }}
restartPolicy: Never
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- if and $longRunning $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml $v.topologySpreadConstraints | nindent 2 }}
{{- end }}
{{- $nodeSelector := deepCopy $v.nodeSelector -}}
{{- $tolerations := $v.tolerations -}}
{{- if $v.gpu.enabled -}}
{{- $nodeSelector = merge $nodeSelector $v.gpu.nodeSelector -}}
{{- $tolerations = concat $tolerations $v.gpu.tolerations -}}
{{- end }}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if and $engine $v.engine.weights.sync.image }}
initContainers:
  # copies the published checkpoint ({{ $v.engine.weights.source }}) under the pod's workload identity
  - name: weights
    image: {{ $v.engine.weights.sync.image | quote }}
    imagePullPolicy: IfNotPresent
    command: {{ toJson $v.engine.weights.sync.command }}
    env:
      - name: HOME
        value: /tmp
    resources:
      requests:
        cpu: 500m
        memory: 512Mi
      limits:
        memory: 2Gi
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
    volumeMounts:
      - name: weights
        mountPath: {{ $v.engine.weights.mountPath }}
      - name: tmp
        mountPath: /tmp
{{- end }}
containers:
  - name: {{ .component }}
    {{- if $engine }}
    image: {{ printf "%s:%s" $v.engine.image.repository $v.engine.image.tag | quote }}
    imagePullPolicy: IfNotPresent
    args: {{ toJson $v.engine.args }}
    {{- else }}
    image: {{ include "stackwright.image" $root | quote }}
    imagePullPolicy: {{ $v.image.pullPolicy }}
    args: {{ include "stackwright.args" (dict "root" $root "component" .component) }}
    {{- end }}
    {{- if $longRunning }}
    ports:
      - name: http
        containerPort: {{ $v.containerPort }}
        protocol: TCP
      {{- if $v.grpcPort }}
      - name: grpc
        containerPort: {{ $v.grpcPort }}
        protocol: TCP
      {{- end }}
    {{- end }}
    env:
      {{- if $engine }}
      # the engine writes its caches (compiled kernels, CUDA graphs) under a writable home
      - name: HOME
        value: /tmp
      - name: HF_HUB_OFFLINE
        value: "1"
      {{- range $v.engine.env }}
      - name: {{ .name }}
        value: {{ .value | quote }}
      {{- end }}
      {{- if $v.engine.apiKeyEnv }}
      - name: {{ $v.engine.apiKeyEnv }}
        valueFrom:
          secretKeyRef:
            name: {{ $v.serveTokens.secretName }}
            key: token
            optional: true
      {{- end }}
      {{- else if and $longRunning (eq $v.mode "realtime") }}
      - name: STACKWRIGHT_ADMIN_TOKEN
        valueFrom:
          secretKeyRef:
            name: {{ $v.serveTokens.secretName }}
            key: admin-token
            optional: true
      - name: STACKWRIGHT_TOKEN
        valueFrom:
          secretKeyRef:
            name: {{ $v.serveTokens.secretName }}
            key: token
            optional: true
      {{- end }}
      {{- if $v.onlineStore.enabled }}
      - name: {{ $v.onlineStore.env }}
        valueFrom:
          secretKeyRef:
            name: {{ $v.onlineStore.secretName }}
            key: {{ $v.onlineStore.key }}
      {{- end }}
      {{- if not $longRunning }}
      - name: SHARD_COUNT
        value: {{ $v.batch.parallelism | quote }}
      {{- range $v.batch.secretEnv }}
      - name: {{ .name }}
        valueFrom:
          secretKeyRef:
            name: {{ .secretName }}
            key: {{ .key }}
      {{- end }}
      {{- end }}
    {{- if $longRunning }}
    livenessProbe:
      httpGet:
        path: {{ $v.healthPaths.live }}
        port: http
      periodSeconds: 10
      failureThreshold: 3
    readinessProbe:
      httpGet:
        path: {{ $v.healthPaths.ready }}
        port: http
      periodSeconds: 5
      failureThreshold: 2
    # {{ if $engine }}the engine opens its port only once the checkpoint is loaded (engine.startupSeconds, assumed){{ else }}the serving core is ready once its models are loaded{{ end }}
    startupProbe:
      httpGet:
        path: {{ $v.healthPaths.ready }}
        port: http
      {{- if $engine }}
      periodSeconds: 10
      failureThreshold: {{ div (add $v.engine.startupSeconds 9) 10 }}
      {{- else }}
      periodSeconds: 5
      failureThreshold: 60
      {{- end }}
    {{- end }}
    resources:
      requests:
        {{- toYaml $v.resources.requests | nindent 8 }}
      limits:
        {{- toYaml $v.resources.limits | nindent 8 }}
        {{- if $v.gpu.enabled }}
        {{ $v.gpu.resourceName }}: {{ $v.gpu.count }}
        {{- end }}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
    volumeMounts:
      {{- if $engine }}
      - name: weights
        mountPath: {{ $v.engine.weights.mountPath }}
        readOnly: true
      {{- if $v.engine.sharedMemory }}
      - name: shm
        mountPath: /dev/shm
      {{- end }}
      {{- else }}
      - name: config
        mountPath: {{ printf "%s/serve.yaml" $v.platformDir }}
        subPath: serve.yaml
        readOnly: true
      {{- end }}
      - name: tmp
        mountPath: /tmp
volumes:
  {{- if $engine }}
  - name: weights
    {{- if $v.engine.weights.existingClaim }}
    persistentVolumeClaim:
      claimName: {{ $v.engine.weights.existingClaim }}
      readOnly: true
    {{- else }}
    emptyDir:
      sizeLimit: {{ $v.engine.weights.sizeLimit }}
    {{- end }}
  {{- if $v.engine.sharedMemory }}
  - name: shm
    emptyDir:
      medium: Memory
      sizeLimit: {{ $v.engine.sharedMemory }}
  {{- end }}
  {{- else }}
  - name: config
    configMap:
      name: {{ include "stackwright.fullname" $root }}-config
  {{- end }}
  - name: tmp
    emptyDir: {}
{{- end -}}

{{- define "stackwright.podTemplate" -}}
metadata:
  labels:
    {{- include "stackwright.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- if ne .Values.engine.kind "onnx-core" }}
    # each release rolls the pods, which copy the checkpoint published under models/ again
    stackwright.dev/release: {{ .Values.image.tag | quote }}
    {{- else }}
    checksum/config: {{ toYaml .Values.serveConfig | sha256sum }}
    {{- end }}
spec:
  {{- include "stackwright.podSpec" (dict "root" . "component" "serve") | nindent 2 }}
{{- end -}}
