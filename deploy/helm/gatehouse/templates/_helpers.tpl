{{/* Chart name. */}}
{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, unless the release name already contains the chart name. */}}
{{- define "gatehouse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "gatehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gatehouse.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gatehouse.secretName" -}}
{{- default (include "gatehouse.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{- define "gatehouse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The container port, from GATEHOUSE_ADDR (":9000" -> 9000). */}}
{{- define "gatehouse.port" -}}
{{- regexFind "[0-9]+$" .Values.config.addr | default "9000" }}
{{- end }}

{{/* Non-secret environment (cmd/gatehouse/config.go names), as KEY: "value" lines. */}}
{{- define "gatehouse.configEnv" -}}
GATEHOUSE_ENV: {{ .Values.config.env | quote }}
GATEHOUSE_ADDR: {{ .Values.config.addr | quote }}
GATEHOUSE_BASE_DOMAIN: {{ .Values.config.baseDomain | quote }}
GATEHOUSE_PUBLIC_URL: {{ .Values.config.publicURL | quote }}
GATEHOUSE_TRACES: {{ .Values.config.traces | quote }}
GATEHOUSE_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
GATEHOUSE_REDIS_PREFIX: {{ .Values.config.redisPrefix | quote }}
GATEHOUSE_NO_MIGRATE: {{ .Values.migration.enabled | quote }}
{{- with .Values.config.trustedProxies }}
GATEHOUSE_TRUSTED_PROXIES: {{ . | quote }}
{{- end }}
{{- with .Values.config.metricsTenants }}
GATEHOUSE_METRICS_TENANTS: {{ . | quote }}
{{- end }}
GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE: {{ .Values.config.webhooksAllowPrivate | quote }}
GATEHOUSE_AUDIT_PLATFORM_RETENTION_DAYS: {{ .Values.config.auditPlatformRetentionDays | quote }}
GATEHOUSE_SHUTDOWN_DELAY: {{ .Values.config.shutdownDelay | quote }}
{{- end }}
