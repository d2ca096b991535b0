{{/*
Expand the name of the chart.
*/}}
{{- define "aviary.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "aviary.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "aviary.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels: the Deployment's selector, the Service's, the monitors' and the PDB's.
*/}}
{{- define "aviary.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aviary.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Common labels of every object. helm.sh/chart and app.kubernetes.io/managed-by are
Helm's: the kustomize base (deploy/kustomize) is this chart's render without them.
*/}}
{{- define "aviary.labels" -}}
helm.sh/chart: {{ include "aviary.chart" . }}
{{ include "aviary.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
Create the name of the service account to use
*/}}
{{- define "aviary.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
    {{ default (include "aviary.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
    {{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{/*
The API group of the Canaries, MetricTemplates and AlertProviders the controller
serves (its -api-group) and the CRDs are installed in.
*/}}
{{- define "aviary.apiGroup" -}}
{{- .Values.apiGroup -}}
{{- end -}}

{{/*
The container port of /metrics, /healthz and /readyz (the controller's -port).
*/}}
{{- define "aviary.port" -}}
8080
{{- end -}}
