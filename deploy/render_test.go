package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

const (
	releaseName = "sluice"
	releaseNS   = "logging"
)

// repoRoot is the repository root: tests run in deploy/.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Dir(wd)
}

func chartDir(tb testing.TB) string {
	return filepath.Join(repoRoot(tb), "deploy", "helm", "sluice")
}

var (
	chartOnce sync.Once
	chartVal  *chart.Chart
	chartErr  error
)

func loadChart(tb testing.TB) *chart.Chart {
	tb.Helper()
	chartOnce.Do(func() { chartVal, chartErr = loader.Load(chartDir(tb)) })
	if chartErr != nil {
		tb.Fatalf("load chart: %v", chartErr)
	}
	return chartVal
}

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor the
// chart renders; decoding strictly into it catches misspelt fields.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// prometheusRule is the part of monitoring.coreos.com/v1 PrometheusRule the
// chart renders (monitoring_test.go parses the rules themselves).
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert,omitempty"`
				Record      string            `json:"record,omitempty"`
				Expr        string            `json:"expr"`
				For         string            `json:"for,omitempty"`
				Labels      map[string]string `json:"labels,omitempty"`
				Annotations map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// kinds maps apiVersion/kind to the typed object a manifest decodes into. A
// kind missing here fails the test: every rendered object is checked.
var kinds = map[string]func() any{
	"v1/ConfigMap":                                    func() any { return &corev1.ConfigMap{} },
	"v1/Service":                                      func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                               func() any { return &corev1.ServiceAccount{} },
	"apps/v1/DaemonSet":                               func() any { return &appsv1.DaemonSet{} },
	"apps/v1/Deployment":                              func() any { return &appsv1.Deployment{} },
	"autoscaling/v2/HorizontalPodAutoscaler":          func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":                   func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":              func() any { return &networkingv1.NetworkPolicy{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":        func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
	"monitoring.coreos.com/v1/ServiceMonitor":         func() any { return &serviceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule":         func() any { return &prometheusRule{} },
}

// manifest is one rendered object, strictly decoded.
type manifest struct {
	Source string // template file
	Kind   string
	Name   string
	Obj    any
}

// release is a rendered chart.
type release struct {
	Values    chartutil.Values
	Manifests []manifest
	Notes     string
}

// objects returns the rendered objects of type T.
func objects[T any](r *release) []*T {
	var out []*T
	for _, m := range r.Manifests {
		if o, ok := m.Obj.(*T); ok {
			out = append(out, o)
		}
	}
	return out
}

// valuesFile reads a values file of the chart (ci/*.yaml).
func valuesFile(tb testing.TB, name string) map[string]any {
	tb.Helper()
	if name == "" {
		return map[string]any{}
	}
	v, err := chartutil.ReadValuesFile(filepath.Join(chartDir(tb), name))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return v.AsMap()
}

// valuesYAML parses inline YAML values.
func valuesYAML(tb testing.TB, doc string) map[string]any {
	tb.Helper()
	v, err := chartutil.ReadValues([]byte(doc))
	if err != nil {
		tb.Fatalf("values %q: %v", doc, err)
	}
	return v.AsMap()
}

// merge deep-merges src over dst (maps merge, everything else replaces).
func merge(dst, src map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = merge(dm, sm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// render renders the chart as `helm install --dry-run` would: values
// coalesced with the chart defaults, validated against values.schema.json,
// templates rendered in strict mode (a reference to a missing value fails).
func render(tb testing.TB, vals map[string]any) (*release, error) {
	tb.Helper()
	ch := loadChart(tb)
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, chartutil.ReleaseOptions{
		Name: releaseName, Namespace: releaseNS, Revision: 1, IsInstall: true,
	}, chartutil.DefaultCapabilities, false)
	if err != nil {
		return nil, err
	}
	files, err := engine.Engine{Strict: true}.Render(ch, top)
	if err != nil {
		return nil, err
	}
	r := &release{Values: top}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		body := files[name]
		base := filepath.Base(name)
		switch {
		case strings.HasPrefix(base, "_"):
			continue
		case base == "NOTES.txt":
			r.Notes = body
			continue
		}
		ms, err := decodeManifests(name, body)
		if err != nil {
			return nil, err
		}
		r.Manifests = append(r.Manifests, ms...)
	}
	return r, nil
}

// mustRender renders and fails the test on any error.
func mustRender(tb testing.TB, vals map[string]any) *release {
	tb.Helper()
	r, err := render(tb, vals)
	if err != nil {
		tb.Fatalf("render: %v", err)
	}
	return r
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeManifests splits a rendered template into documents and decodes each
// strictly (unknown or duplicate fields are errors) into its typed object.
func decodeManifests(source, body string) ([]manifest, error) {
	var out []manifest
	for i, doc := range docSep.Split(body, -1) {
		if isBlankYAML(doc) {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("%s doc %d: %v\n%s", source, i, err, doc)
		}
		key := tm.APIVersion + "/" + tm.Kind
		mk, ok := kinds[key]
		if !ok {
			return nil, fmt.Errorf("%s doc %d: unexpected kind %q", source, i, key)
		}
		obj := mk()
		if err := decodeStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("%s doc %d (%s): %v\n%s", source, i, key, err, doc)
		}
		name := ""
		if o, ok := obj.(metav1.Object); ok {
			name = o.GetName()
		} else if sm, ok := obj.(*serviceMonitor); ok {
			name = sm.Name
		}
		out = append(out, manifest{Source: source, Kind: tm.Kind, Name: name, Obj: obj})
	}
	return out, nil
}

// decodeStrict decodes a YAML document the way the API server does with
// fieldValidation=Strict: duplicate keys, unknown fields and fields in the
// wrong case (readOnlyRootFileSystem) are all errors.
func decodeStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return fmt.Errorf("strict YAML: %w", err)
	}
	strictErrs, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowUnknownFields)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("strict decode: %v", errors.Join(strictErrs...))
	}
	return nil
}

func isBlankYAML(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// writeTemp writes b to a file in the test's temp dir.
func writeTemp(tb testing.TB, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// readFile reads a repository file.
func readFile(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(tb), rel))
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimPrefix(b, []byte("\ufeff"))
}
