{{- define "stackwright.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stackwright.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "stackwright.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "stackwright.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stackwright
{{- end -}}

{{- define "stackwright.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stackwright.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "stackwright.serviceAccountName" -}}
{{- default (include "stackwright.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* A long-running workload (Deployment or Rollout) exists in every mode but batch. */}}
{{- define "stackwright.hasWorkload" -}}
{{- if ne .Values.mode "batch" }}true{{ end -}}
{{- end -}}

{{- define "stackwright.workloadApiVersion" -}}
{{- if or .Values.canary.enabled .Values.blueGreen.enabled }}argoproj.io/v1alpha1{{ else }}apps/v1{{ end -}}
{{- end -}}

{{- define "stackwright.workloadKind" -}}
{{- if or .Values.canary.enabled .Values.blueGreen.enabled }}Rollout{{ else }}Deployment{{ end -}}
{{- end -}}

{{/* The image: the CUDA build (same repository, tag + gpu.image.tagSuffix) on GPU nodes. */}}
{{- define "stackwright.image" -}}
{{- if .Values.gpu.enabled -}}
{{- printf "%s:%s%s" (default .Values.image.repository .Values.gpu.image.repository) .Values.image.tag .Values.gpu.image.tagSuffix -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}

{{- define "stackwright.device" -}}
{{- if .Values.gpu.enabled }}{{ .Values.gpu.device }}{{ else }}{{ .Values.device }}{{ end -}}
{{- end -}}
