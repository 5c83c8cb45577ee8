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
