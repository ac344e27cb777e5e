package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sluice-io/sluice/libs/kafkatest"
)

// The TestAPIServer* tests judge the chart with a real kube-apiserver (and
// etcd) started by envtest; scripts/test.sh runs them in a second pass, once
// the control plane's binaries are built (scripts/infra/k8s-up.sh).

// controlPlaneAssets returns the folder with etcd, kube-apiserver and
// kubectl, or skips the test saying why there is none: KUBEBUILDER_ASSETS
// when set; with SLUICE_REAL_INFRA=1 whatever scripts/infra/k8s-up.sh
// provides (building it on first use); otherwise a build already cached.
func controlPlaneAssets(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	script := filepath.Join(repoRoot(tb), "scripts", "infra", "k8s-up.sh")
	if _, err := os.Stat(script); err != nil {
		tb.Skipf("no Kubernetes control plane: %v", err)
	}
	real := os.Getenv("SLUICE_REAL_INFRA") == "1"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	if !real {
		cmd.Env = append(os.Environ(), "SLUICE_K8S_ONLY_CACHED=1")
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err != nil && !real:
		tb.Skipf("no Kubernetes control plane built yet (set SLUICE_REAL_INFRA=1 to build one with scripts/infra/k8s-up.sh, or KUBEBUILDER_ASSETS): %s", strings.TrimSpace(string(out)))
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		tb.Skipf("no Kubernetes control plane: %s", strings.TrimSpace(string(out)))
	case err != nil:
		tb.Fatalf("scripts/infra/k8s-up.sh: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^k8s assets in (\S+) `).FindStringSubmatch(string(out))
	if m == nil {
		tb.Fatalf("scripts/infra/k8s-up.sh printed no 'k8s assets in' line:\n%s", out)
	}
	return m[1]
}

// monitoringCRDs stand in for the Prometheus Operator's CRDs, so that the
// chart's monitoring.coreos.com objects can be applied. Their schema keeps
// unknown fields: the API server judges these objects' metadata only (the
// typed decode in render_test.go checks their spec).
func monitoringCRDs() []*apiextensionsv1.CustomResourceDefinition {
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, kind := range []string{"ServiceMonitor", "PodMonitor", "PrometheusRule"} {
		plural := strings.ToLower(kind) + "s"
		preserve := true
		out = append(out, &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: plural + ".monitoring.coreos.com"},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: "monitoring.coreos.com",
				Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
				Scope: apiextensionsv1.NamespaceScoped,
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: "v1", Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object", XPreserveUnknownFields: &preserve,
					}},
				}},
			},
		})
	}
	return out
}

// startAPIServer starts etcd and kube-apiserver on loopback, with the
// monitoring CRDs installed and the release namespace created, and returns
// an admin client config. Both stop when the test ends.
func startAPIServer(tb testing.TB) *rest.Config {
	tb.Helper()
	env := &envtest.Environment{
		BinaryAssetsDirectory:    controlPlaneAssets(tb),
		CRDs:                     monitoringCRDs(),
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	start := time.Now()
	cfg, err := env.Start()
	if err != nil {
		tb.Fatalf("envtest: starting etcd and kube-apiserver: %v", err)
	}
	tb.Logf("etcd + kube-apiserver up at %s in %v", cfg.Host, time.Since(start).Round(time.Millisecond))
	tb.Cleanup(func() {
		if err := env.Stop(); err != nil {
			tb.Errorf("envtest: stopping the control plane: %v", err)
		}
	})
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: releaseNS},
	}, metav1.CreateOptions{}); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// applier applies rendered manifests with server-side apply.
type applier struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newApplier(tb testing.TB, cfg *rest.Config) *applier {
	tb.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &applier{
		dyn:    dynamic.NewForConfigOrDie(cfg),
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
	}
}

// apply server-side-applies m (only validated and admitted when dryRun).
func (a *applier) apply(ctx context.Context, m manifest, dryRun bool) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(m.Obj)
	if err != nil {
		return err
	}
	// Empty creationTimestamp and status are artefacts of the typed decode.
	if md, ok := u["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	delete(u, "status")
	body, err := json.Marshal(u)
	if err != nil {
		return err
	}
	gv, err := schema.ParseGroupVersion(fmt.Sprint(u["apiVersion"]))
	if err != nil {
		return err
	}
	mapping, err := a.mapper.RESTMapping(gv.WithKind(m.Kind).GroupKind(), gv.Version)
	if err != nil {
		return fmt.Errorf("the API server does not serve %s %s: %w", gv, m.Kind, err)
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := releaseNS
		if md, ok := u["metadata"].(map[string]any); ok && md["namespace"] != nil {
			ns = fmt.Sprint(md["namespace"])
		}
		ri = a.dyn.Resource(mapping.Resource).Namespace(ns)
	}
	opts := metav1.PatchOptions{FieldManager: "sluice-chart-test", Force: new(bool), FieldValidation: "Strict"}
	*opts.Force = true
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Patch(ctx, m.Name, types.ApplyPatchType, body, opts)
	return err
}

// TestAPIServerDryRun sends every object the chart renders, for the
// defaults and every ci/ values file, to the API server as a server-side
// dry-run apply: its own validation and defaulting judge the DaemonSet,
// Deployments, probes, PDBs, HPAs and NetworkPolicies.
func TestAPIServerDryRun(t *testing.T) {
	cfg := startAPIServer(t)
	a := newApplier(t, cfg)
	ctx := context.Background()
	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, valuesFile(t, tc.file))
			kinds := map[string]int{}
			for _, m := range r.Manifests {
				if err := a.apply(ctx, m, true); err != nil {
					t.Errorf("%s %s (%s): rejected by the API server: %v", m.Kind, m.Name, m.Source, err)
					continue
				}
				kinds[m.Kind]++
			}
			names := make([]string, 0, len(kinds))
			for k, n := range kinds {
				names = append(names, fmt.Sprintf("%s×%d", k, n))
			}
			sort.Strings(names)
			t.Logf("%d objects accepted: %s", len(r.Manifests), strings.Join(names, " "))
		})
	}
}

// TestAPIServerRBAC applies the chart's ServiceAccounts and RBAC and asks the
// API server what each account may do: the shipper may get, list and watch
// pods and namespaces and nothing else; the parser and indexer may do
// nothing. Then the shipper runs with a token issued for its account (a
// TokenRequest) and still enriches its records with the pod's labels.
func TestAPIServerRBAC(t *testing.T) {
	cfg := startAPIServer(t)
	a := newApplier(t, cfg)
	admin := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	r := mustRender(t, valuesFile(t, ""))
	for _, m := range r.Manifests {
		switch m.Kind {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			if err := a.apply(ctx, m, false); err != nil {
				t.Fatalf("applying %s %s: %v", m.Kind, m.Name, err)
			}
		}
	}
	accounts := map[string]string{}
	for _, w := range workloads(r) {
		accounts[w.Component] = w.Template.Spec.ServiceAccountName
	}
	for _, c := range []string{"shipper", "parser", "indexer"} {
		if accounts[c] == "" {
			t.Fatalf("no workload for %s in the default render", c)
		}
	}

	type check struct {
		verb, group, resource, sub, ns string
	}
	allowedForShipper := map[check]bool{}
	for _, res := range []string{"pods", "namespaces"} {
		for _, verb := range []string{"get", "list", "watch"} {
			allowedForShipper[check{verb, "", res, "", ""}] = true
			if res == "pods" {
				allowedForShipper[check{verb, "", res, "", "shop"}] = true
			}
		}
	}
	var checks []check
	for c := range allowedForShipper {
		checks = append(checks, c)
	}
	checks = append(checks,
		check{"get", "", "secrets", "", releaseNS}, check{"list", "", "secrets", "", ""},
		check{"get", "", "configmaps", "", releaseNS}, check{"list", "", "configmaps", "", ""},
		check{"get", "", "nodes", "", ""}, check{"list", "", "nodes", "", ""},
		check{"get", "", "pods", "log", "shop"},
		check{"create", "", "pods", "exec", "shop"},
		check{"create", "", "pods", "", "shop"}, check{"delete", "", "pods", "", "shop"},
		check{"update", "", "pods", "", "shop"}, check{"patch", "", "pods", "", "shop"},
		check{"deletecollection", "", "pods", "", "shop"},
		check{"create", "", "namespaces", "", ""}, check{"delete", "", "namespaces", "", ""},
		check{"update", "", "namespaces", "", ""},
		check{"create", "", "serviceaccounts", "token", releaseNS},
		check{"list", "apps", "deployments", "", ""}, check{"list", "", "events", "", ""},
		check{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""},
	)
	for _, component := range []string{"shipper", "parser", "indexer"} {
		user := "system:serviceaccount:" + releaseNS + ":" + accounts[component]
		for _, c := range checks {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   user,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNS, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: c.ns, Verb: c.verb, Group: c.group, Resource: c.resource, Subresource: c.sub,
				},
			}}
			got, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := component == "shipper" && allowedForShipper[c]
			if got.Status.Allowed != want {
				t.Errorf("%s may %s %s/%s%s in %q: allowed=%v, want %v (%s)", component, c.verb, c.group, c.resource,
					map[bool]string{true: "/" + c.sub}[c.sub != ""], c.ns, got.Status.Allowed, want, got.Status.Reason)
			}
		}
	}

	// "Nothing else": the rules the API server reports for each account,
	// less those of an account the chart binds nothing to (what every
	// authenticated service account has: self reviews, discovery, cluster
	// trust bundles).
	rulesOf := func(account string) []string {
		imp := rest.CopyConfig(cfg)
		imp.Impersonate = rest.ImpersonationConfig{
			UserName: "system:serviceaccount:" + releaseNS + ":" + account,
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNS, "system:authenticated"},
		}
		ssrr, err := kubernetes.NewForConfigOrDie(imp).AuthorizationV1().SelfSubjectRulesReviews().Create(ctx,
			&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: releaseNS}},
			metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, rr := range ssrr.Status.ResourceRules {
			v, res, g := slices.Clone(rr.Verbs), slices.Clone(rr.Resources), slices.Clone(rr.APIGroups)
			sort.Strings(v)
			sort.Strings(res)
			sort.Strings(g)
			rules = append(rules, fmt.Sprintf("%q %v %v", g, res, v))
		}
		return rules
	}
	baseline := rulesOf("an-account-with-no-bindings")
	for _, component := range []string{"shipper", "parser", "indexer"} {
		var extra []string
		for _, r := range rulesOf(accounts[component]) {
			if !slices.Contains(baseline, r) {
				extra = append(extra, r)
			}
		}
		want := []string(nil)
		if component == "shipper" {
			want = []string{`[""] [namespaces pods] [get list watch]`}
		}
		if !slices.Equal(extra, want) {
			t.Errorf("%s's rules in %s beyond any account's: %q, want %q", component, releaseNS, extra, want)
		}
	}

	runShipperWithToken(ctx, t, cfg, admin, accounts["shipper"])
}

// runShipperWithToken runs the shipper with the API server credentials a
// pod of its DaemonSet would have: a token issued for its ServiceAccount by
// TokenRequest, nothing more. A line of a pod on its node must reach Kafka
// with the pod's labels and sluice.io/* annotation, and its namespace's
// labels, which only the watcher can have got.
func runShipperWithToken(ctx context.Context, t *testing.T, cfg *rest.Config, admin kubernetes.Interface, account string) {
	t.Helper()
	expiry := int64(600)
	tr, err := admin.CoreV1().ServiceAccounts(releaseNS).CreateToken(ctx, account, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s: %v", account, err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["shipper"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["shipper"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "shipper"}
	kc.CurrentContext = "shipper"
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	// The token authenticates as the account and nothing more.
	whoami, err := kubernetes.NewForConfigOrDie(&rest.Config{
		Host: cfg.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: cfg.CAData},
	}).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:serviceaccount:" + releaseNS + ":" + account; whoami.Status.UserInfo.Username != want {
		t.Fatalf("the token authenticates as %q, want %q", whoami.Status.UserInfo.Username, want)
	}

	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "shop", Labels: map[string]string{"team": "team-from-namespace"},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := admin.CoreV1().Pods("shop").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-0", Namespace: "shop",
			Labels:      map[string]string{"app": "label-from-the-api-server"},
			Annotations: map[string]string{"sluice.io/parser": "annotation-from-the-api-server"},
		},
		Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	const topic = "logs.raw"
	emb, err := kafkatest.StartEmbedded(1, "", 1, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	logDir := filepath.Join(dir, "pods", fmt.Sprintf("shop_web-0_%s", pod.UID), "web")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The shipper binary, configured with the documented keys, as the
	// DaemonSet runs it.
	bin := filepath.Join(dir, "shipper")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sluice-io/sluice/services/shipper/cmd/shipper")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the shipper: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "shipper.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `node: node-a
kafka:
  brokers: %q
  topic: %s
tail:
  include: [%q]
  roots: [%q]
  poll_interval: 50ms
state:
  path: %q
admin:
  listen: ""
  metrics_listen: ""
kubernetes:
  enabled: true
  kubeconfig: %q
`, strings.Join(emb.Brokers(), ","), topic, filepath.Join(dir, "pods", "*", "*", "*.log"), dir,
		filepath.Join(dir, "state.json"), kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	sh := exec.Command(bin, "-config", conf)
	sh.Stdout, sh.Stderr = logs, logs
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sh.Process.Signal(os.Interrupt) //nolint:errcheck // it may have exited
		sh.Wait()                       //nolint:errcheck // its exit status is not the point
	}()

	line := `{"log":"GET /checkout 200\n","stream":"stdout","time":"2026-12-04T10:00:00.000000000Z"}` + "\n"
	if err := os.WriteFile(filepath.Join(logDir, "0.log"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(emb.Brokers()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, pcancel := context.WithTimeout(ctx, 60*time.Second)
	defer pcancel()
	var value []byte
	for value == nil && pctx.Err() == nil {
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) { value = r.Value })
	}
	if value == nil {
		t.Fatalf("no record from the shipper within 60s; its log:\n%s", logs.String())
	}
	for _, want := range []string{"label-from-the-api-server", "annotation-from-the-api-server", "team-from-namespace", "GET /checkout 200"} {
		if !bytes.Contains(value, []byte(want)) {
			t.Errorf("the shipper's record lacks %q (metadata the watcher reads with the account's token); its log:\n%s", want, logs.String())
		}
	}
}

// lockedBuffer collects the shipper's log lines, written from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
