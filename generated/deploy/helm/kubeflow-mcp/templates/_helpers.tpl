{{/* Copied by `npm run gen` from generator/templates/helm/templates/_helpers.tpl. Do not edit here. */}}
{{- define "kubeflow-mcp.name" -}}
{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubeflow-mcp.selector" -}}
app.kubernetes.io/name: kubeflow-mcp
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kubeflow-mcp.labels" -}}
{{ include "kubeflow-mcp.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- /*
The policy file's text. `policy` is a mapping in the values, or the file's own text when given
with `--set-file policy=team-policy.yaml`: that is kept as written (comments too), once it parses
as a YAML mapping, so the server never starts on a policy it would refuse.
*/ -}}
{{- define "kubeflow-mcp.policy" -}}
{{- $policy := .Values.policy -}}
{{- if kindIs "string" $policy -}}
{{- $parsed := fromYaml $policy -}}
{{- if hasKey $parsed "Error" -}}
{{- fail (printf "policy: the file must hold a YAML mapping (%s)" (get $parsed "Error")) -}}
{{- end -}}
{{- $policy | trimSuffix "\n" -}}
{{- else if kindIs "map" $policy -}}
{{- toYaml $policy -}}
{{- else -}}
{{- fail (printf "policy: a mapping, or a file's text with --set-file policy=<file>; got a %s" (kindOf $policy)) -}}
{{- end -}}
{{- end }}

{{- /*
How many replicas the release may run: more than one with the autoscaler or `replicas` > 1,
which both need stateless mode (a 2025-era session lives in the replica that opened it).
*/ -}}
{{- define "kubeflow-mcp.replicated" -}}
{{- $auto := .Values.autoscaling | default dict -}}
{{- if $auto.enabled -}}
{{- if not .Values.stateless -}}
{{- fail "autoscaling.enabled needs stateless=true: a 2025-era session lives in the replica that opened it" -}}
{{- end -}}
{{- if or (lt (int $auto.minReplicas) 1) (gt (int $auto.minReplicas) (int $auto.maxReplicas)) -}}
{{- fail (printf "autoscaling: minReplicas (%v) must be at least 1 and at most maxReplicas (%v)" $auto.minReplicas $auto.maxReplicas) -}}
{{- end -}}
true
{{- else if gt (int .Values.replicas) 1 -}}
{{- if not .Values.stateless -}}
{{- fail (printf "replicas=%v needs stateless=true: a 2025-era session lives in the replica that opened it" .Values.replicas) -}}
{{- end -}}
true
{{- else if lt (int .Values.replicas) 1 -}}
{{- fail (printf "replicas must be at least 1, not %v" .Values.replicas) -}}
{{- end -}}
{{- end }}
