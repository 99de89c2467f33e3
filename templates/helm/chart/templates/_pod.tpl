{{- define "stackwright.podTemplate" -}}
metadata:
  labels:
    {{- include "stackwright.selectorLabels" . | nindent 4 }}
  annotations:
    checksum/config: {{ toYaml .Values.serveConfig | sha256sum }}
spec:
  serviceAccountName: {{ include "stackwright.serviceAccountName" . }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    fsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: serve
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: {{ toJson .Values.args }}
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      {{- with .Values.envFromSecrets }}
      env:
        {{- range . }}
        - name: {{ .name }}
          valueFrom:
            secretKeyRef:
              name: {{ .secretName }}
              key: {{ .key }}
              optional: {{ .optional }}
        {{- end }}
      {{- end }}
      livenessProbe:
        httpGet:
          path: {{ .Values.probes.live }}
          port: http
        periodSeconds: 10
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: {{ .Values.probes.ready }}
          port: http
        periodSeconds: 5
        failureThreshold: 2
      startupProbe:
        httpGet:
          path: {{ .Values.probes.ready }}
          port: http
        periodSeconds: 5
        failureThreshold: 60
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: config
          mountPath: {{ printf "%s/serve.yaml" .Values.platformDir }}
          subPath: serve.yaml
          readOnly: true
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: config
      configMap:
        name: {{ include "stackwright.fullname" . }}-config
    - name: tmp
      emptyDir: {}
{{- end -}}
