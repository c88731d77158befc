{{/* Labels every object carries. */}}
{{- define "skiff.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "skiff.selectorLabels" . }}
app.kubernetes.io/part-of: skiff
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The agent's pods. The same as manifests/install.yaml, so that moving from
the plain manifests to the chart keeps the Deployment's immutable selector.
*/}}
{{- define "skiff.selectorLabels" -}}
app.kubernetes.io/name: skiff
app.kubernetes.io/component: agent
{{- end }}

{{- define "skiff.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default "skiff-agent" .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end }}
