package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// TestValidateInitContainer: every workload validates its configuration
// with the service's own binary and the container's environment before
// the service starts, and the service has a startup probe long enough for
// the indexer's wait for the search engine (setup_timeout, 2 minutes).
func TestValidateInitContainer(t *testing.T) {
	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, valuesFile(t, tc.file))
			for _, w := range workloads(r) {
				spec := w.Template.Spec
				i := slices.IndexFunc(spec.InitContainers, func(c corev1.Container) bool { return c.Name == "validate-config" })
				if i < 0 {
					t.Errorf("%s: no validate-config init container", w.Name)
					continue
				}
				init, main := spec.InitContainers[i], spec.Containers[0]
				want := []string{"validate", "-config", "/etc/sluice/" + w.Component + ".yaml"}
				if !slices.Equal(init.Args, want) || init.Image != main.Image {
					t.Errorf("%s: init args %v image %s, want %v with %s", w.Name, init.Args, init.Image, want, main.Image)
				}
				if !slices.Equal(envNames(init.Env), envNames(main.Env)) {
					t.Errorf("%s: init env %v differs from the service's %v", w.Name, envNames(init.Env), envNames(main.Env))
				}
				p := main.StartupProbe
				if p == nil || p.GRPC == nil || p.GRPC.Port != 9090 {
					t.Errorf("%s: startup probe %+v, want grpc on 9090", w.Name, p)
				} else if budget := p.PeriodSeconds * p.FailureThreshold; budget <= 120 {
					t.Errorf("%s: startup probe allows %ds, not more than the indexer's 120s setup_timeout", w.Name, budget)
				}
			}
		})
	}
	r := mustRender(t, valuesYAML(t, "configValidation: {enabled: false}"))
	for _, w := range workloads(r) {
		if len(w.Template.Spec.InitContainers) != 0 {
			t.Errorf("%s: init containers with configValidation.enabled=false", w.Name)
		}
	}
}

func envNames(env []corev1.EnvVar) []string {
	out := make([]string, len(env))
	for i, e := range env {
		out[i] = e.Name
	}
	return out
}

// TestNetworkPolicyDefaults: the defaults let the indexer reach Elastic
// Cloud (443) and any namespace's Prometheus scrape the metrics port.
func TestNetworkPolicyDefaults(t *testing.T) {
	r := mustRender(t, map[string]any{})
	for _, np := range objects[networkingv1.NetworkPolicy](r) {
		c := np.Labels["app.kubernetes.io/component"]
		var egress []int32
		for _, e := range np.Spec.Egress {
			for _, p := range e.Ports {
				egress = append(egress, p.Port.IntVal)
			}
		}
		if c == "indexer" && (!slices.Contains(egress, 443) || !slices.Contains(egress, 9200)) {
			t.Errorf("%s: egress ports %v, want 443 and 9200 for the search engine", np.Name, egress)
		}
		scrape := false
		for _, in := range np.Spec.Ingress {
			if len(in.Ports) == 0 || in.Ports[0].Port.StrVal != "metrics" {
				continue
			}
			for _, peer := range in.From {
				ns := peer.NamespaceSelector
				if ns != nil && len(ns.MatchLabels) == 0 && len(ns.MatchExpressions) == 1 &&
					ns.MatchExpressions[0].Operator == "Exists" && peer.PodSelector != nil &&
					peer.PodSelector.MatchLabels["app.kubernetes.io/name"] == "prometheus" {
					scrape = true
				}
			}
		}
		if !scrape {
			t.Errorf("%s: metrics port not open to Prometheus pods in every namespace: %+v", np.Name, np.Spec.Ingress)
		}
	}
}

// TestMonitoringObjects: the dashboard ConfigMap carries the sidecar label
// and the dashboard file; the PrometheusRule carries the rules file's
// groups.
func TestMonitoringObjects(t *testing.T) {
	r := mustRender(t, valuesFile(t, "ci/production-values.yaml"))
	dash, err := os.ReadFile(filepath.Join("monitoring", "sluice-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cm := range objects[corev1.ConfigMap](r) {
		if d, ok := cm.Data["sluice-dashboard.json"]; ok {
			found = true
			if cm.Labels["grafana_dashboard"] != "1" {
				t.Errorf("%s: labels %v lack grafana_dashboard=1", cm.Name, cm.Labels)
			}
			if d+"\n" != string(dash) && d != string(dash) {
				t.Errorf("%s: dashboard differs from deploy/monitoring/sluice-dashboard.json", cm.Name)
			}
		}
	}
	if !found {
		t.Error("no dashboard ConfigMap with monitoring.grafanaDashboard.enabled")
	}
	rules, err := os.ReadFile(filepath.Join("monitoring", "sluice-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []map[string]any `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(rules, &file); err != nil {
		t.Fatal(err)
	}
	prs := objects[prometheusRule](r)
	if len(prs) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(prs))
	}
	if got, want := len(prs[0].Spec.Groups), len(file.Groups); got != want {
		t.Fatalf("PrometheusRule has %d groups, the rules file %d", got, want)
	}
	for i, g := range prs[0].Spec.Groups {
		if len(g.Rules) != len(file.Groups[i].Rules) {
			t.Errorf("group %s: %d rules, file %d", g.Name, len(g.Rules), len(file.Groups[i].Rules))
		}
		for _, rule := range g.Rules {
			if rule.Expr == "" || rule.Annotations["summary"] == "" {
				t.Errorf("group %s: rule %s without expr or summary", g.Name, rule.Alert)
			}
		}
	}
	if prs[0].Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("PrometheusRule labels %v lack the values' release label", prs[0].Labels)
	}
}
