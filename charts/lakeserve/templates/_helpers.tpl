{{/* Names, labels and the few values every template needs. */}}

{{- define "lakeserve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lakeserve.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "lakeserve.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "lakeserve.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "lakeserve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lakeserve.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lakeserve.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lakeserve.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "lakeserve.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lakeserve.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false: the name of an existing ServiceAccount in the release namespace" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "lakeserve.image" -}}
{{- $repository := required "image.repository is required: the image built from the repository's Dockerfile, e.g. --set image.repository=registry.example.com/lakeserve" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "lakeserve.credentialsSecret" -}}
{{- if .Values.databricks.defaultWorkspace }}
{{- required "databricks.credentialsSecret is required: the name of an existing Secret in the release namespace with DATABRICKS_HOST and DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET), or set databricks.defaultWorkspace=false to use only Workspace/ClusterWorkspace objects" .Values.databricks.credentialsSecret }}
{{- end }}
{{- end }}

{{/* The Secrets of the release namespace the operator reads, as JSON: [] means any of them. */}}
{{- define "lakeserve.ownSecrets" -}}
{{- $names := list }}
{{- if .Values.databricks.defaultWorkspace }}
{{- $names = append $names (include "lakeserve.credentialsSecret" .) }}
{{- end }}
{{- if .Values.workspaces.cluster }}
{{- if not .Values.workspaces.clusterSecrets }}
{{- $names = list "*" }}
{{- else }}
{{- $names = concat $names .Values.workspaces.clusterSecrets }}
{{- end }}
{{- end }}
{{- toJson (uniq $names) }}
{{- end }}

{{- define "lakeserve.peeringName" -}}
{{- default (include "lakeserve.fullname" .) .Values.ha.peeringName }}
{{- end }}

{{/*
Shards: sharding.shards Deployments, each owning the objects labelled lakeserve.dev/shard=<index>.
With one shard, names and labels are what they were without sharding.
*/}}
{{- define "lakeserve.shards" -}}
{{- $shards := int .Values.sharding.shards }}
{{- if lt $shards 1 }}
{{- fail (printf "sharding.shards is %v; it takes 1 (one Deployment) or more" .Values.sharding.shards) }}
{{- end }}
{{- $shards }}
{{- end }}

{{/* (list root index): the Deployment's name */}}
{{- define "lakeserve.shardName" -}}
{{- $root := index . 0 }}
{{- if gt (include "lakeserve.shards" $root | int) 1 }}
{{- printf "%s-shard-%d" (include "lakeserve.fullname" $root | trunc 55 | trimSuffix "-") (index . 1) }}
{{- else }}
{{- include "lakeserve.fullname" $root }}
{{- end }}
{{- end }}

{{/* (list root index): each shard's replicas peer among themselves only */}}
{{- define "lakeserve.shardPeeringName" -}}
{{- $root := index . 0 }}
{{- if gt (include "lakeserve.shards" $root | int) 1 }}
{{- printf "%s-shard-%d" (include "lakeserve.peeringName" $root | trunc 55 | trimSuffix "-") (index . 1) }}
{{- else }}
{{- include "lakeserve.peeringName" $root }}
{{- end }}
{{- end }}

{{/* The peering names of all shards, quoted and comma-separated (for RBAC resourceNames) */}}
{{- define "lakeserve.peeringNames" -}}
{{- $names := list }}
{{- range $shard := until (include "lakeserve.shards" . | int) }}
{{- $names = append $names (include "lakeserve.shardPeeringName" (list $ $shard) | quote) }}
{{- end }}
{{- join ", " $names }}
{{- end }}

{{/* (list shards index): the pod label that keeps the shards' Deployments apart */}}
{{- define "lakeserve.shardLabel" -}}
{{- if gt (index . 0) 1 }}
lakeserve.dev/shard: {{ index . 1 | quote }}
{{- end }}
{{- end }}

{{/*
The watched namespaces, validated: exact names only. The chart creates a Role in each, so a
glob such as "team-*" cannot work (the operator itself accepts globs when run by hand).
*/}}
{{- define "lakeserve.watchNamespaces" -}}
{{- range .Values.watchNamespaces }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .) }}
{{- fail (printf "watchNamespaces: %q is not a namespace name; the chart needs exact names (it creates a Role in each), not globs" .) }}
{{- end }}
{{- end }}
{{- toJson .Values.watchNamespaces }}
{{- end }}

{{/*
The liveness endpoint: the Dockerfile's CMD, repeated because the chart's args replace the CMD.
A unit test keeps the two identical; the probes use its port.
*/}}
{{- define "lakeserve.livenessURL" -}}
http://0.0.0.0:8080/healthz
{{- end }}
{{- define "lakeserve.healthPort" -}}
8080
{{- end }}

{{/* Rules on the namespaced lakeserve kinds: what kopf and the operator's own calls use. */}}
{{- define "lakeserve.rules.objects" -}}
# kopf lists and watches the objects, and patches them (finalizer, handler progress annotations);
# the engine reads the objects an object depends on and the Workspace it names (get).
- apiGroups: [lakeserve.dev]
  resources: [servingendpoints, onlinetables, featurefunctions, featurespecs, workspaces]
  verbs: [get, list, watch, patch]
# The engine writes status (observedGeneration, conditions, observed facts) through /status.
- apiGroups: [lakeserve.dev]
  resources: [servingendpoints/status, onlinetables/status, featurefunctions/status,
              featurespecs/status, workspaces/status]
  verbs: [patch]
# kopf posts core/v1 Events (not events.k8s.io) for every Databricks write and failure.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- if .Values.workspaces.namespaced }}
# A Workspace's credentials Secret, read by name from the Workspace's own namespace (get only:
# never listed or watched).
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- end }}
{{- end }}

{{/* Rules on ClusterWorkspaces and what their allowedNamespaces read: always cluster-wide. */}}
{{- define "lakeserve.rules.clusterWorkspaces" -}}
# kopf lists and watches ClusterWorkspaces (whether or not this installation serves them).
- apiGroups: [lakeserve.dev]
  resources: [clusterworkspaces]
  verbs: [{{ if .Values.workspaces.cluster }}get, {{ end }}list, watch{{ if .Values.workspaces.cluster }}, patch{{ end }}]
{{- if .Values.workspaces.cluster }}
# Their status (Ready, the workspace id and identity).
- apiGroups: [lakeserve.dev]
  resources: [clusterworkspaces/status]
  verbs: [patch]
# A namespace's labels decide whether a ClusterWorkspace admits its objects (get by name).
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get]
{{- end }}
{{- end }}
