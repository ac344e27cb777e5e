{{/* Names, labels and shared pod pieces for the Sluice chart. */}}

{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sluice.fullname" -}}
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

{{/* Component resource name: <fullname>-<component>. Call with (dict "root" $ "component" "shipper"). */}}
{{- define "sluice.componentName" -}}
{{- printf "%s-%s" (include "sluice.fullname" .root | trunc 52 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "sluice.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: stable for the life of a release (never the version). */}}
{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Full labels on every object. */}}
{{- define "sluice.labels" -}}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: sluice
helm.sh/chart: {{ include "sluice.chart" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "sluice.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .component (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{- define "sluice.serviceAccountName" -}}
{{- include "sluice.componentName" . -}}
{{- end -}}

{{/*
Container security context. Every container: read-only root filesystem, no
privilege escalation, no capabilities, RuntimeDefault seccomp. The shipper
runs as uid 0 (see the shipper Dockerfile and docs/deploy.md): the files it
reads under /var/log/pods are root-owned 0640, and uid 0 reads them through
the owner bits without any capability, while a non-root uid would need
CAP_DAC_READ_SEARCH, which Kubernetes cannot grant to a non-root process
once privilege escalation is disabled.
*/}}
{{- define "sluice.containerSecurityContext" -}}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- if eq .component "shipper" }}
runAsUser: 0
runAsGroup: 0
runAsNonRoot: false
{{- else }}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
{{- end }}
{{- end -}}

{{- define "sluice.podSecurityContext" -}}
seccompProfile:
  type: RuntimeDefault
{{- if eq .component "shipper" }}
runAsUser: 0
runAsGroup: 0
runAsNonRoot: false
{{- else }}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
{{- end }}
{{- end -}}

{{/* Admin and metrics container ports plus gRPC probes. */}}
{{- define "sluice.portsAndProbes" -}}
ports:
  - name: admin
    containerPort: 9090
    protocol: TCP
  - name: metrics
    containerPort: 9091
    protocol: TCP
livenessProbe:
  grpc:
    port: 9090
  initialDelaySeconds: {{ .root.Values.probes.liveness.initialDelaySeconds }}
  periodSeconds: {{ .root.Values.probes.liveness.periodSeconds }}
  timeoutSeconds: {{ .root.Values.probes.liveness.timeoutSeconds }}
  failureThreshold: {{ .root.Values.probes.liveness.failureThreshold }}
startupProbe:
  grpc:
    port: 9090
  periodSeconds: {{ .root.Values.probes.startup.periodSeconds }}
  timeoutSeconds: {{ .root.Values.probes.startup.timeoutSeconds }}
  failureThreshold: {{ .root.Values.probes.startup.failureThreshold }}
readinessProbe:
  grpc:
    port: 9090
  initialDelaySeconds: {{ .root.Values.probes.readiness.initialDelaySeconds }}
  periodSeconds: {{ .root.Values.probes.readiness.periodSeconds }}
  timeoutSeconds: {{ .root.Values.probes.readiness.timeoutSeconds }}
  failureThreshold: {{ .root.Values.probes.readiness.failureThreshold }}
{{- end -}}

{{/* Environment shared by all services: Kafka brokers and credentials. */}}
{{- define "sluice.kafkaEnv" -}}
{{- $v := .root.Values -}}
- name: SLUICE_KAFKA_BROKERS
  value: {{ join "," $v.kafka.brokers | quote }}
{{- if $v.kafka.sasl.mechanism }}
- name: SLUICE_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.existingSecret is required with kafka.sasl.mechanism" $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.usernameKey }}
- name: SLUICE_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.passwordKey }}
{{- end }}
{{- end -}}

{{/* Read-only volumes with Kafka TLS material and the Elasticsearch CA. */}}
{{- define "sluice.secretVolumes" -}}
{{- $v := .root.Values -}}
{{- if and $v.kafka.tls.enabled $v.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ $v.kafka.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if $v.adminAuth.existingSecret }}
- name: admin-token
  secret:
    secretName: {{ $v.adminAuth.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if and (eq .component "indexer") $v.elasticsearch.tls.caSecret }}
- name: es-ca
  secret:
    secretName: {{ $v.elasticsearch.tls.caSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "sluice.secretVolumeMounts" -}}
{{- $v := .root.Values -}}
{{- if and $v.kafka.tls.enabled $v.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/sluice/kafka-tls
  readOnly: true
{{- end }}
{{- if $v.adminAuth.existingSecret }}
- name: admin-token
  mountPath: /etc/sluice/admin-token
  readOnly: true
{{- end }}
{{- if and (eq .component "indexer") $v.elasticsearch.tls.caSecret }}
- name: es-ca
  mountPath: /etc/sluice/es-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/*
The service configuration file. files/<svc>.yaml verbatim, or with
config.<svc>.override (and the settings the chart derives from kafka.* and
elasticsearch.*) merged over it, or config.<svc>.raw. Before merging,
${VAR:-default} references are swapped for plain placeholders so the YAML
parser sees ordinary strings, then put back after rendering. (The services
expand them in parsed values; a list key such as kafka.brokers also takes
one comma-separated string, so brokers: ${SLUICE_KAFKA_BROKERS} carries a
whole list. "[${VAR}]" flow lists in an override are kept whole.)
*/}}
{{- define "sluice.config" -}}
{{- $root := .root -}}
{{- $svc := .component -}}
{{- $v := $root.Values -}}
{{- $cfg := index $v.config $svc -}}
{{- if $cfg.raw -}}
{{ $cfg.raw }}
{{- else -}}
{{- $raw := $root.Files.Get (printf "files/%s.yaml" $svc) -}}
{{- $refs := dict -}}
{{- $auto := dict -}}
{{- $kafka := dict -}}
{{- if $v.kafka.tls.enabled -}}
{{- $tls := dict "enabled" true -}}
{{- if $v.kafka.tls.existingSecret -}}
{{- if $v.kafka.tls.caKey }}{{ $_ := set $tls "ca_file" (printf "/etc/sluice/kafka-tls/%s" $v.kafka.tls.caKey) }}{{ end -}}
{{- if $v.kafka.tls.certKey }}{{ $_ := set $tls "cert_file" (printf "/etc/sluice/kafka-tls/%s" $v.kafka.tls.certKey) }}{{ end -}}
{{- if $v.kafka.tls.keyKey }}{{ $_ := set $tls "key_file" (printf "/etc/sluice/kafka-tls/%s" $v.kafka.tls.keyKey) }}{{ end -}}
{{- end -}}
{{- if $v.kafka.tls.insecureSkipVerify }}{{ $_ := set $tls "insecure_skip_verify" true }}{{ end -}}
{{- $_ := set $kafka "tls" $tls -}}
{{- end -}}
{{- if $v.kafka.sasl.mechanism -}}
{{- $_ := set $refs "SLUICE_SECRETREF_kafka_user_X" "'${SLUICE_KAFKA_SASL_USERNAME}'" -}}
{{- $_ := set $refs "SLUICE_SECRETREF_kafka_pass_X" "'${SLUICE_KAFKA_SASL_PASSWORD}'" -}}
{{- $_ := set $kafka "sasl" (dict "mechanism" $v.kafka.sasl.mechanism "username" "SLUICE_SECRETREF_kafka_user_X" "password" "SLUICE_SECRETREF_kafka_pass_X") -}}
{{- end -}}
{{- if $kafka }}{{ $_ := set $auto "kafka" $kafka }}{{ end -}}
{{- $admin := dict -}}
{{- if $v.adminAuth.existingSecret -}}
{{- $_ := set $admin "token_file" (printf "/etc/sluice/admin-token/%s" $v.adminAuth.tokenKey) -}}
{{- end -}}
{{- if $v.service.pprof }}{{ $_ := set $admin "pprof" true }}{{ end -}}
{{- if $admin }}{{ $_ := set $auto "admin" $admin }}{{ end -}}
{{- if eq $svc "indexer" -}}
{{- $es := dict -}}
{{- if eq $v.elasticsearch.auth.type "basic" -}}
{{- $_ := set $refs "SLUICE_SECRETREF_es_user_X" "'${SLUICE_ES_USERNAME}'" -}}
{{- $_ := set $refs "SLUICE_SECRETREF_es_pass_X" "'${SLUICE_ES_PASSWORD}'" -}}
{{- $_ := set $es "username" "SLUICE_SECRETREF_es_user_X" -}}
{{- $_ := set $es "password" "SLUICE_SECRETREF_es_pass_X" -}}
{{- else if eq $v.elasticsearch.auth.type "apiKey" -}}
{{- $_ := set $refs "SLUICE_SECRETREF_es_apikey_X" "'${SLUICE_ES_API_KEY}'" -}}
{{- $_ := set $es "api_key" "SLUICE_SECRETREF_es_apikey_X" -}}
{{- end -}}
{{- if $v.elasticsearch.tls.caSecret -}}
{{- $_ := set $es "ca_file" (printf "/etc/sluice/es-ca/%s" $v.elasticsearch.tls.caKey) -}}
{{- end -}}
{{- if $es }}{{ $_ := set $auto "elasticsearch" $es }}{{ end -}}
{{- end -}}
{{- if or $auto $cfg.override -}}
{{- range $i, $m := regexFindAll `\[[ \t]*\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}[ \t]*\]` $raw -1 -}}
{{- $key := printf "SLUICE_ENVLIST_%d_X" $i -}}
{{- $_ := set $refs $key $m -}}
{{- $raw = replace $m $key $raw -}}
{{- end -}}
{{- range $i, $m := regexFindAll `\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}` $raw -1 -}}
{{- $key := printf "SLUICE_ENVREF_%d_X" $i -}}
{{- $_ := set $refs $key $m -}}
{{- $raw = replace $m $key $raw -}}
{{- end -}}
{{- $base := fromYaml $raw -}}
{{- if hasKey $base "Error" -}}
{{- fail (printf "files/%s.yaml: %s" $svc $base.Error) -}}
{{- end -}}
{{- $merged := mergeOverwrite $base $auto (deepCopy $cfg.override) -}}
{{- $out := toYaml $merged -}}
{{- range $k, $ref := $refs -}}
{{- $out = replace $k $ref $out -}}
{{- end -}}
# files/{{ $svc }}.yaml with the chart's settings and config.{{ $svc }}.override merged in.
{{ $out }}
{{- else -}}
{{ $raw }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* NetworkPolicy peer list from a {namespaceSelector, podSelector, cidrs} block. */}}
{{- define "sluice.peers" -}}
{{- $peers := list -}}
{{- $peer := dict -}}
{{- with get . "namespaceSelector" }}{{ $_ := set $peer "namespaceSelector" . }}{{ end -}}
{{- with get . "podSelector" }}{{ $_ := set $peer "podSelector" . }}{{ end -}}
{{- if $peer }}{{ $peers = append $peers $peer }}{{ end -}}
{{- range (get . "cidrs") }}{{ $peers = append $peers (dict "ipBlock" (dict "cidr" .)) }}{{ end -}}
{{- if $peers }}{{ toYaml $peers }}{{ end -}}
{{- end -}}

{{/* Egress rule: to the peers on the ports, or the ports anywhere when no peer is set. */}}
{{- define "sluice.egressRule" -}}
- ports:
  {{- range .ports }}
    - protocol: TCP
      port: {{ . }}
  {{- end }}
  {{- $peers := include "sluice.peers" . }}
  {{- if $peers }}
  to:
    {{- $peers | nindent 4 }}
  {{- end }}
{{- end -}}

{{/*
Environment of a service container (and of its validate init container):
what its configuration file's ${VAR} references read.
*/}}
{{- define "sluice.serviceEnv" -}}
{{- $v := .root.Values -}}
{{- $c := index $v .component -}}
{{- if eq .component "shipper" }}
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: SLUICE_STATE_DIR
  value: /var/lib/sluice
- name: SLUICE_KUBERNETES
  value: "true"
{{- else }}
{{- /* The consumer group's static member id: a restarted replica resumes its partitions at once. */}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{ include "sluice.kafkaEnv" . }}
{{- if eq .component "indexer" }}
- name: ES_URL
  value: {{ join "," $v.elasticsearch.urls | quote }}
- name: SLUICE_ES_FLAVOR
  value: {{ $v.elasticsearch.flavor | quote }}
{{- $auth := $v.elasticsearch.auth }}
{{- if eq $auth.type "basic" }}
- name: SLUICE_ES_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "elasticsearch.auth.existingSecret is required with auth.type basic" $auth.existingSecret }}
      key: {{ $auth.usernameKey }}
- name: SLUICE_ES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $auth.existingSecret }}
      key: {{ $auth.passwordKey }}
{{- else if eq $auth.type "apiKey" }}
- name: SLUICE_ES_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "elasticsearch.auth.existingSecret is required with auth.type apiKey" $auth.existingSecret }}
      key: {{ $auth.apiKeyKey }}
{{- end }}
{{- end }}
{{- with $c.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The init container that runs `<service> validate` on the rendered
configuration with the container's environment: a bad override fails the
rollout with every problem listed (kubectl logs <pod> -c validate-config)
instead of a crash loop of the service.
*/}}
{{- define "sluice.validateInitContainer" -}}
{{- if .root.Values.configValidation.enabled }}
- name: validate-config
  image: {{ include "sluice.image" . }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  args: ["validate", "-config", "/etc/sluice/{{ .component }}.yaml"]
  env:
    {{- include "sluice.serviceEnv" . | nindent 4 }}
  resources:
    {{- toYaml .root.Values.configValidation.resources | nindent 4 }}
  securityContext:
    {{- include "sluice.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/sluice/{{ .component }}.yaml
      subPath: {{ .component }}.yaml
      readOnly: true
    {{- with include "sluice.secretVolumeMounts" . | trim }}{{ . | nindent 4 }}{{ end }}
{{- end }}
{{- end -}}
