package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The tests named TestAPIServer* run against a real kube-apiserver and etcd
// started by envtest. scripts/test.sh runs them in a second pass, once the
// background build of the control plane (scripts/infra/k8s-up.sh) is done.

// controlPlaneAssets returns the folder holding etcd, kube-apiserver and
// kubectl, or skips the test saying why it cannot have one:
//
//  1. KUBEBUILDER_ASSETS, when set, is used as is;
//  2. with SLUICE_REAL_INFRA=1, scripts/infra/k8s-up.sh provides it (building
//     kube-apiserver on first use, or waiting for the build in progress);
//  3. otherwise a folder an earlier run built is used if there is one.
func controlPlaneAssets(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	script, err := k8sUpScript()
	if err != nil {
		tb.Skipf("no Kubernetes control plane: %v", err)
	}
	if os.Getenv("SLUICE_REAL_INFRA") != "1" {
		// A previous build may be in the cache; use it without building.
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "SLUICE_K8S_ONLY_CACHED=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			tb.Skipf("no Kubernetes control plane built yet (set SLUICE_REAL_INFRA=1 to build one with scripts/infra/k8s-up.sh, or KUBEBUILDER_ASSETS): %s", strings.TrimSpace(string(out)))
		}
		return parseAssets(tb, string(out))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		// The script's code for "cannot be provided on this machine".
		tb.Skipf("no Kubernetes control plane: %s", strings.TrimSpace(string(out)))
	}
	if err != nil {
		tb.Fatalf("scripts/infra/k8s-up.sh: %v\n%s", err, out)
	}
	return parseAssets(tb, string(out))
}

var assetsLine = regexp.MustCompile(`(?m)^k8s assets in (\S+) `)

func parseAssets(tb testing.TB, out string) string {
	tb.Helper()
	m := assetsLine.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("scripts/infra/k8s-up.sh printed no 'k8s assets in' line:\n%s", out)
	}
	return m[1]
}

// k8sUpScript finds scripts/infra/k8s-up.sh from this source file.
func k8sUpScript() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the test source")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "scripts", "infra", "k8s-up.sh")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("scripts/infra/k8s-up.sh not found: %w", err)
	}
	return p, nil
}

// startAPIServer starts etcd and kube-apiserver on loopback and returns an
// admin client config; both stop when the test ends.
func startAPIServer(tb testing.TB) *rest.Config {
	tb.Helper()
	env := &envtest.Environment{
		BinaryAssetsDirectory:    controlPlaneAssets(tb),
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
	return cfg
}

// writeKubeconfig writes cfg as a kubeconfig file, so that the watcher gets
// its client through NewClient as the shipper does.
func writeKubeconfig(tb testing.TB, cfg *rest.Config) string {
	tb.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["envtest"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken,
	}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "envtest"}
	kc.CurrentContext = "envtest"
	p := filepath.Join(tb.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, p); err != nil {
		tb.Fatal(err)
	}
	return p
}

func apiPod(ns, name, node string, mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	return p
}

// apiEventually polls cond every 50 ms for up to 20 s.
func apiEventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after 20s waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAPIServerWatcher runs the watcher against a real API server, whose
// field selector, watch and protobuf encoding the fake clientset lacks: the
// node-scoped informer sees only its node's pods; labels, sluice.io/*
// annotations, the owner and the image reach the metadata; a deleted pod's
// metadata stays for the grace period; a namespace label change arrives.
func TestAPIServerWatcher(t *testing.T) {
	cfg := startAPIServer(t)
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	ns, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "shop", Labels: map[string]string{"team": "payments"},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	controller := true
	web, err := admin.CoreV1().Pods("shop").Create(ctx, apiPod("shop", "web-7d9f8c-x2x4z", "node-a", func(p *corev1.Pod) {
		p.Labels = map[string]string{"app": "web", "pod-template-hash": "7d9f8c"}
		p.Annotations = map[string]string{
			"sluice.io/parser": "nginx", "sluice.io/exclude-sidecar": "true", "example.com/dropped": "x",
		}
		p.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8c", UID: "5b0c1a52-0000-4000-8000-000000000001", Controller: &controller,
		}}
		p.Spec.Containers = []corev1.Container{
			{Name: "web", Image: "nginx:1.27"},
			{Name: "sidecar", Image: "envoyproxy/envoy:v1.31"},
		}
	}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No kubelet runs here; write the status a kubelet would.
	web.Status.ContainerStatuses = []corev1.ContainerStatus{
		{Name: "web", Image: "docker.io/library/nginx:1.27", ImageID: "sha256:1", ContainerID: "containerd://" + idWeb},
		{Name: "sidecar", Image: "docker.io/envoyproxy/envoy:v1.31", ImageID: "sha256:2", ContainerID: "containerd://" + idAgent},
	}
	if web, err = admin.CoreV1().Pods("shop").UpdateStatus(ctx, web, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	other, err := admin.CoreV1().Pods("shop").Create(ctx, apiPod("shop", "db-0", "node-b", func(p *corev1.Pod) {
		p.Labels = map[string]string{"app": "db"}
	}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	kc, err := NewClient(writeKubeconfig(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	const grace = time.Hour
	w := NewWatcher(WatcherConfig{Node: "node-a", DeletedGrace: grace, SyncTimeout: 30 * time.Second}, kc, nil)
	// A clock the test moves, so the grace period is checked without
	// waiting for it.
	var skew atomic.Int64
	w.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	if !w.Start(ctx) {
		t.Fatal("watcher did not sync with the API server")
	}

	if keys := w.podInformer.GetStore().ListKeys(); len(keys) != 1 || keys[0] != "shop/"+web.Name {
		t.Fatalf("node-a's informer holds %v, want only shop/%s (db-0 is on node-b)", keys, web.Name)
	}
	webPath := fmt.Sprintf("/var/log/pods/shop_%s_%s/web/0.log", web.Name, web.UID)
	m, _ := FromPath(webPath)
	k, hint, exclude := w.Lookup(webPath, m)
	checks := []struct {
		what      string
		got, want any
	}{
		{"labels", fmt.Sprint(k.Labels), fmt.Sprint(map[string]string{"app": "web", "pod-template-hash": "7d9f8c"})},
		{"annotations", fmt.Sprint(k.Annotations), fmt.Sprint(map[string]string{"sluice.io/exclude-sidecar": "true", "sluice.io/parser": "nginx"})},
		{"namespace labels", k.NamespaceLabels["team"], "payments"},
		{"owner", k.OwnerKind + "/" + k.OwnerName, "Deployment/web"},
		{"image", k.Image, "docker.io/library/nginx:1.27"},
		{"container id", k.ContainerId, idWeb},
		{"node", k.Node, "node-a"},
		{"pod uid", k.PodUid, string(web.UID)},
		{"parser hint", hint, "nginx"},
		{"excluded", exclude, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("web %s = %v, want %v", c.what, c.got, c.want)
		}
	}
	sidecarPath := fmt.Sprintf("/var/log/containers/%s_shop_sidecar-%s.log", web.Name, idAgent)
	m, _ = FromPath(sidecarPath)
	if k, _, exclude := w.Lookup(sidecarPath, m); !exclude || k.Image != "docker.io/envoyproxy/envoy:v1.31" {
		t.Errorf("sidecar: excluded %v image %q, want excluded and the status image", exclude, k.Image)
	}

	// A pod on node-b is never sent to node-a's shipper: its files (which
	// node-a would not have anyway) get file-name metadata only.
	otherPath := fmt.Sprintf("/var/log/pods/shop_db-0_%s/app/0.log", other.UID)
	m, _ = FromPath(otherPath)
	if k, _, _ := w.Lookup(otherPath, m); k.Labels != nil || k.Node != "node-a" {
		t.Errorf("node-b pod seen by node-a's watcher: labels %v node %q", k.Labels, k.Node)
	}

	// A pod scheduled later arrives through the watch.
	late, err := admin.CoreV1().Pods("shop").Create(ctx, apiPod("shop", "late", "node-a", func(p *corev1.Pod) {
		p.Labels = map[string]string{"app": "late"}
	}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	latePath := fmt.Sprintf("/var/log/pods/shop_late_%s/app/0.log", late.UID)
	m, _ = FromPath(latePath)
	apiEventually(t, "the new pod's labels", func() bool {
		k, _, _ := w.Lookup(latePath, m)
		return k.Labels["app"] == "late" && k.Image == "registry.example/app:1"
	})

	// The namespace's labels change: the next lookup carries the new ones.
	ns.Labels["team"] = "checkout"
	if _, err := admin.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	m, _ = FromPath(webPath)
	apiEventually(t, "the namespace label change", func() bool {
		k, _, _ := w.Lookup(webPath, m)
		return k.NamespaceLabels["team"] == "checkout"
	})

	// The pod is deleted (no kubelet holds it: it goes at once). Its last
	// lines, still being read, keep its metadata for the grace period.
	if err := admin.CoreV1().Pods("shop").Delete(ctx, web.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	apiEventually(t, "the deletion to reach the watcher", func() bool { return w.deleted.len() == 1 })
	if _, err := w.pods.Pods("shop").Get(web.Name); err == nil {
		t.Fatal("the deleted pod is still in the informer")
	}
	k, hint, _ = w.Lookup(webPath, m)
	if k.Labels["app"] != "web" || k.OwnerName != "web" || hint != "nginx" {
		t.Errorf("deleted pod within the grace: labels %v owner %q hint %q, want its metadata", k.Labels, k.OwnerName, hint)
	}
	skew.Store(int64(grace + time.Second))
	if k, _, _ = w.Lookup(webPath, m); k.Labels != nil {
		t.Errorf("deleted pod after the grace: labels %v, want none", k.Labels)
	}
}
