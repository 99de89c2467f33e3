{{/*
The pod spec every workload runs, hardened alike: non-root, seccomp RuntimeDefault, read-only root
with a writable /tmp, no service-account token, and GPU scheduling (limit, nodeSelector, tolerations)
when gpu.enabled. Called with (dict "root" $ "component" "serve"|"score").
*/}}
{{- define "stackwright.podSpec" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $longRunning := ne .component "score" -}}
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
containers:
  - name: {{ .component }}
    image: {{ include "stackwright.image" $root | quote }}
    imagePullPolicy: {{ $v.image.pullPolicy }}
    args: {{ include "stackwright.args" (dict "root" $root "component" .component) }}
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
      {{- if and $longRunning (eq $v.mode "realtime") }}
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
    {{- $live := ternary "/healthz" "/v2/health/live" (eq $v.mode "streaming") }}
    {{- $ready := ternary "/healthz" "/v2/health/ready" (eq $v.mode "streaming") }}
    livenessProbe:
      httpGet:
        path: {{ $live }}
        port: http
      periodSeconds: 10
      failureThreshold: 3
    readinessProbe:
      httpGet:
        path: {{ $ready }}
        port: http
      periodSeconds: 5
      failureThreshold: 2
    startupProbe:
      httpGet:
        path: {{ $ready }}
        port: http
      periodSeconds: 5
      failureThreshold: 60
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
      - name: config
        mountPath: {{ printf "%s/serve.yaml" $v.platformDir }}
        subPath: serve.yaml
        readOnly: true
      - name: tmp
        mountPath: /tmp
volumes:
  - name: config
    configMap:
      name: {{ include "stackwright.fullname" $root }}-config
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
    checksum/config: {{ toYaml .Values.serveConfig | sha256sum }}
spec:
  {{- include "stackwright.podSpec" (dict "root" . "component" "serve") | nindent 2 }}
{{- end -}}
