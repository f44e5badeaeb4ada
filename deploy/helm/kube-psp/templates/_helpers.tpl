{{/* The name of every object: the release name, or kube-psp. */}}
{{- define "kube-psp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kube-psp.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kube-psp.labels" -}}
{{ include "kube-psp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kube-psp.tlsSecret" -}}
{{- if eq .Values.certificates.source "secret" -}}
{{- required "certificates.secretName is required with certificates.source=secret" .Values.certificates.secretName -}}
{{- else -}}
{{- include "kube-psp.fullname" . }}-tls
{{- end -}}
{{- end -}}

{{- define "kube-psp.serviceHost" -}}
{{- include "kube-psp.fullname" . }}.{{ .Release.Namespace }}.svc
{{- end -}}

{{/*
kube-psp.certificates generates a CA and a serving certificate once and
keeps them: on upgrade the existing Secret's are reused, so the caBundle
of the webhook configurations stays valid. Returns a dict (ca, cert, key).
*/}}
{{- define "kube-psp.generatedCertificates" -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "kube-psp.tlsSecret" .) -}}
{{- if and $secret (index $secret.data "ca.crt") -}}
ca: {{ index $secret.data "ca.crt" }}
cert: {{ index $secret.data "tls.crt" }}
key: {{ index $secret.data "tls.key" }}
{{- else -}}
{{- $days := int .Values.certificates.validityDays -}}
{{- $ca := genCA "kube-psp-ca" $days -}}
{{- $host := include "kube-psp.serviceHost" . -}}
{{- $cert := genSignedCert $host nil (list $host (include "kube-psp.fullname" .) (printf "%s.%s" (include "kube-psp.fullname" .) .Release.Namespace)) $days $ca -}}
ca: {{ $ca.Cert | b64enc }}
cert: {{ $cert.Cert | b64enc }}
key: {{ $cert.Key | b64enc }}
{{- end -}}
{{- end -}}

{{/* The caBundle of the webhook configurations. */}}
{{- define "kube-psp.caBundle" -}}
{{- if eq .Values.certificates.source "generate" -}}
{{- (include "kube-psp.generatedCertificates" . | fromYaml).ca -}}
{{- else if eq .Values.certificates.source "secret" -}}
{{- required "certificates.caBundle is required with certificates.source=secret" .Values.certificates.caBundle -}}
{{- end -}}
{{- end -}}

{{/* Pods of the release's namespace and of webhook.exemptNamespaces are skipped. */}}
{{- define "kube-psp.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values: {{ prepend .Values.webhook.exemptNamespaces .Release.Namespace | uniq | toJson }}
{{- end -}}

{{/* Parts of the webhook configurations (webhooks.yaml). */}}
{{- define "kube-psp.clientConfig" -}}
clientConfig:
  service:
    name: {{ include "kube-psp.fullname" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: 443
  {{- if .caBundle }}
  caBundle: {{ .caBundle }}
  {{- end }}
{{- end }}
{{- define "kube-psp.annotations" -}}
labels: {{- include "kube-psp.labels" .root | nindent 2 }}
{{- if eq .root.Values.certificates.source "cert-manager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ .root.Release.Namespace }}/{{ include "kube-psp.fullname" .root }}
{{- end }}
{{- end }}
{{- define "kube-psp.podRules" -}}
rules:
- apiGroups: [""]
  apiVersions: [v1]
  operations: [CREATE, UPDATE]
  resources: [pods, pods/ephemeralcontainers]
  scope: Namespaced
failurePolicy: {{ .root.Values.webhook.failurePolicy }}
sideEffects: None
admissionReviewVersions: [v1]
timeoutSeconds: {{ .root.Values.webhook.timeoutSeconds }}
{{ include "kube-psp.namespaceSelector" .root }}
{{- end }}
