package deploy

import (
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	indexerconfig "github.com/sluice-io/sluice/services/indexer/config"
	parserconfig "github.com/sluice-io/sluice/services/parser/config"
	shipperconfig "github.com/sluice-io/sluice/services/shipper/config"
)

// TestSchemaRejectsBadValues: values.schema.json turns a wrong value into an
// install-time error that names the offending key.
func TestSchemaRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		name, values string
		want         []string // substrings of the error
	}{
		{"replicas as a word", `parser: {replicas: two}`, []string{"/parser/replicas", "integer"}},
		{"unknown top-level key", `replicaCount: 3`, []string{"replicaCount", "not allowed"}},
		{"misspelt nested key", `shipper: {tolerationz: []}`, []string{"/shipper", "tolerationz"}},
		{"broker without port", `kafka: {brokers: [kafka]}`, []string{"/kafka/brokers/0"}},
		{"no brokers", `kafka: {brokers: []}`, []string{"/kafka/brokers"}},
		{"unknown search flavor", `elasticsearch: {flavor: solr}`, []string{"/elasticsearch/flavor"}},
		{"url without scheme", `elasticsearch: {urls: [es:9200]}`, []string{"/elasticsearch/urls/0"}},
		{"sasl without secret", `kafka: {sasl: {mechanism: scram-sha-512}}`, []string{"/kafka/sasl", "existingSecret"}},
		{"unknown sasl mechanism", `kafka: {sasl: {mechanism: gssapi, existingSecret: s}}`, []string{"/kafka/sasl/mechanism"}},
		{"api key without secret", `elasticsearch: {auth: {type: apiKey}}`, []string{"/elasticsearch/auth", "existingSecret"}},
		{"unknown state volume", `shipper: {state: {type: pvc}}`, []string{"/shipper/state/type"}},
		{"relative host path", `shipper: {hostPaths: {pods: var/log/pods}}`, []string{"/shipper/hostPaths/pods"}},
		{"port out of range", `service: {adminPort: 70000}`, []string{"/service/adminPort"}},
		{"negative replicas", `indexer: {replicas: -1}`, []string{"/indexer/replicas"}},
		{"cpu target over 100", `parser: {autoscaling: {targetCPUUtilizationPercentage: 150}}`, []string{"/parser/autoscaling/targetCPUUtilizationPercentage"}},
		{"bad pull policy", `image: {pullPolicy: Sometimes}`, []string{"/image/pullPolicy"}},
		{"config override not a map", `config: {parser: {override: "log: debug"}}`, []string{"/config/parser/override"}},
		{"bad cidr", `networkPolicy: {apiServer: {cidrs: [10.0.0.1]}}`, []string{"/networkPolicy/apiServer/cidrs/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, valuesYAML(t, tc.values))
			if err == nil {
				t.Fatalf("values %s rendered without error", tc.values)
			}
			msg := err.Error()
			if !strings.Contains(msg, "values don't meet the specifications of the schema") {
				t.Errorf("not a schema error: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestTemplateRejectsInconsistentValues: what the schema cannot express
// fails rendering with a message naming the keys.
func TestTemplateRejectsInconsistentValues(t *testing.T) {
	for _, tc := range []struct {
		name, values, want string
	}{
		{"min above max", `parser: {autoscaling: {minReplicas: 5, maxReplicas: 3}}`, "parser.autoscaling.minReplicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, valuesYAML(t, tc.values))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestConfigOverrides: config.<svc>.override merges over the shared file,
// config.<svc>.raw replaces it, and a bad override is caught by the
// service's own validation, naming the key.
func TestConfigOverrides(t *testing.T) {
	t.Run("override merges", func(t *testing.T) {
		r := mustRender(t, valuesYAML(t, `
kafka: {brokers: [k1:9092, k2:9092, k3:9092]}
config:
  parser:
    override:
      budget: 100ms
      log: {level: debug}
`))
		rc := componentConfig(t, r, "parser")
		cfg, err := loadRendered(t, "parser", rc)
		if err != nil {
			t.Fatalf("%v\n%s", err, rc.Doc)
		}
		c := cfg.(parserconfig.Config)
		if c.Budget.D() != 100*time.Millisecond || c.Log.Level != "debug" || c.Log.Format != "json" {
			t.Errorf("budget %v, log %+v: override not merged", c.Budget.D(), c.Log)
		}
		if len(c.Rules) != 4 || c.Rules[0].Name != "nginx" || c.Kafka.Index != "logs-%{+yyyy.MM.dd}" {
			t.Errorf("file settings lost in the merge: rules %d, index %q", len(c.Rules), c.Kafka.Index)
		}
		// The ${SLUICE_KAFKA_BROKERS} reference survives the merge, so a
		// comma-separated broker list still gives three brokers.
		if len(c.Kafka.Brokers) != 3 {
			t.Errorf("brokers = %v, want 3", c.Kafka.Brokers)
		}
		if !strings.Contains(string(rc.Doc), "brokers: ${SLUICE_KAFKA_BROKERS:-kafka:9092}") {
			t.Errorf("env reference lost:\n%s", rc.Doc)
		}
	})
	t.Run("raw replaces", func(t *testing.T) {
		r := mustRender(t, valuesYAML(t, `
config:
  indexer:
    raw: |
      kafka: {brokers: [kafka:9092]}
      output: file
      file: {path: /tmp/documents.ndjson}
`))
		cfg, err := loadRendered(t, "indexer", componentConfig(t, r, "indexer"))
		if err != nil {
			t.Fatal(err)
		}
		if c := cfg.(indexerconfig.Config); c.Output != "file" || c.File.Path != "/tmp/documents.ndjson" {
			t.Errorf("raw config not used: %+v", c)
		}
	})
	t.Run("bad override fails validation", func(t *testing.T) {
		r := mustRender(t, valuesYAML(t, `config: {shipper: {override: {kafka: {compression: brotli}}}}`))
		_, err := loadRendered(t, "shipper", componentConfig(t, r, "shipper"))
		if err == nil || !strings.Contains(err.Error(), "kafka.compression") {
			t.Fatalf("err = %v, want a kafka.compression error", err)
		}
	})
	t.Run("unknown key fails strict decoding", func(t *testing.T) {
		r := mustRender(t, valuesYAML(t, `config: {shipper: {override: {tail: {globs: [x]}}}}`))
		_, err := loadRendered(t, "shipper", componentConfig(t, r, "shipper"))
		if err == nil || !strings.Contains(err.Error(), "globs") {
			t.Fatalf("err = %v, want an unknown-field error", err)
		}
	})
	t.Run("config change rolls the pods", func(t *testing.T) {
		checksum := func(vals string) string {
			r := mustRender(t, valuesYAML(t, vals))
			for _, d := range objects[appsv1.DaemonSet](r) {
				return d.Spec.Template.Annotations["checksum/config"]
			}
			t.Fatal("no DaemonSet")
			return ""
		}
		a, b := checksum(`{}`), checksum(`config: {shipper: {override: {log: {level: debug}}}}`)
		if a == "" || a == b {
			t.Errorf("checksum/config %q -> %q: a config change would not restart the shipper", a, b)
		}
	})
	t.Run("shipper override keeps env defaults", func(t *testing.T) {
		r := mustRender(t, valuesYAML(t, `config: {shipper: {override: {tail: {exclude: ["/var/log/containers/*_kube-system_*.log"]}}}}`))
		cfg, err := loadRendered(t, "shipper", componentConfig(t, r, "shipper"))
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.(shipperconfig.Config)
		if len(c.Tail.Exclude) != 1 || c.State.Path != "/var/lib/sluice/shipper-state.json" || !c.Kubernetes.Enabled {
			t.Errorf("merged shipper config %+v", c)
		}
	})
}

// TestComponentsCanBeDisabled: the split install docs/deploy.md describes
// (the shipper alone in a privileged namespace, parser and indexer elsewhere)
// renders and stays consistent.
func TestComponentsCanBeDisabled(t *testing.T) {
	for _, tc := range []struct {
		values string
		want   []string
	}{
		{`shipper: {enabled: false}`, []string{"indexer", "parser"}},
		{`{parser: {enabled: false}, indexer: {enabled: false}}`, []string{"shipper"}},
	} {
		t.Run(tc.values, func(t *testing.T) {
			r := mustRender(t, valuesYAML(t, tc.values))
			var got []string
			for _, w := range workloads(r) {
				got = append(got, w.Component)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("workloads %v, want %v", got, tc.want)
			}
			for _, m := range r.Manifests {
				c := ""
				if o, ok := m.Obj.(metav1.Object); ok {
					c = o.GetLabels()["app.kubernetes.io/component"]
				}
				if !slices.Contains(tc.want, c) {
					t.Errorf("%s %s (component %q) rendered for a disabled component", m.Kind, m.Name, c)
				}
			}
			hasShipper := slices.Contains(tc.want, "shipper")
			if n := len(objects[rbacv1.ClusterRole](r)); (n == 1) != hasShipper {
				t.Errorf("%d ClusterRoles with shipper enabled=%v", n, hasShipper)
			}
			checkSelectors(t, r)
			checkPodSecurity(t, r)
			checkNetworkPolicies(t, r)
		})
	}
}

// TestPprofValue: service.pprof turns admin.pprof on in every service's
// configuration, which each service still accepts; by default no file
// mentions it, so profiles stay off.
func TestPprofValue(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values string
		want   bool
	}{
		{"default off", `{}`, false},
		{"on", `service: {pprof: true}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRender(t, valuesYAML(t, tt.values))
			for _, component := range components {
				rc := componentConfig(t, r, component)
				if _, err := loadRendered(t, component, rc); err != nil {
					t.Fatalf("%s: %v\n%s", component, err, rc.Doc)
				}
				if got := strings.Contains(string(rc.Doc), "pprof: true"); got != tt.want {
					t.Errorf("%s: admin.pprof on = %v, want %v:\n%s", component, got, tt.want, rc.Doc)
				}
			}
		})
	}
}
