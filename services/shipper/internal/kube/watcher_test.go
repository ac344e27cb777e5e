package kube

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

const testNode = "node-a"

// Container ids as the kubelet's file names and the pod status carry them.
const (
	idWeb      = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b"
	idWebOld   = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	idAgent    = "aaaaaaaaaaaabbbbbbbbbbbbccccccccccccddddddddddddeeeeeeeeeeeeffff"
	idDB       = "dbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdb"
	idDBMetric = "1111111111111111111111111111111111111111111111111111111111111111"
)

type podOpt func(*corev1.Pod)

func newPod(ns, name, uid string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)},
		Spec:       corev1.PodSpec{NodeName: testNode},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func labels(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for i := 0; i < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func annotations(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		for i := 0; i < len(kv); i += 2 {
			p.Annotations[kv[i]] = kv[i+1]
		}
	}
}

func ownedBy(kind, name string) podOpt {
	return func(p *corev1.Pod) {
		t := true
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: "owner-uid", Controller: &t})
	}
}

// container adds a container with its spec image and, when statusImage or
// id is set, its status.
func container(name, specImage, statusImage, id string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: name, Image: specImage})
		if statusImage != "" || id != "" {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: name, Image: statusImage, ContainerID: id})
		}
	}
}

func restarted(name string, count int32, previousID string) podOpt {
	return func(p *corev1.Pod) {
		for i := range p.Status.ContainerStatuses {
			s := &p.Status.ContainerStatuses[i]
			if s.Name == name {
				s.RestartCount = count
				s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ContainerID: previousID, ExitCode: 1}
			}
		}
	}
}

func newNamespace(name string, kv ...string) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	for i := 0; i < len(kv); i += 2 {
		ns.Labels[kv[i]] = kv[i+1]
	}
	return ns
}

// watchStarted makes the fake clientset signal when the pods watch is set
// up, so events sent after it are not lost (the fake does not replay).
func watchStarted(cs *fake.Clientset) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	cs.PrependWatchReactor("pods", func(a k8stesting.Action) (bool, watch.Interface, error) {
		w, err := cs.Tracker().Watch(a.GetResource(), a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		once.Do(func() { close(ch) })
		return true, w, nil
	})
	return ch
}

// fromClientset gives the watcher a clientset (client-go's fake) as its
// source. The fake cannot serve watch-list requests, and says so.
func fromClientset(cs kubernetes.Interface) Client { return clientset{cs} }

type clientset struct{ cs kubernetes.Interface }

func (c clientset) Pods(fieldSelector string) cache.ListerWatcher {
	pods := c.cs.CoreV1().Pods("")
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = fieldSelector
			return pods.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = fieldSelector
			return pods.Watch(ctx, o)
		},
	}, c.cs)
}

func (c clientset) Namespaces() cache.ListerWatcher {
	ns := c.cs.CoreV1().Namespaces()
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return ns.List(ctx, o) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return ns.Watch(ctx, o) },
	}, c.cs)
}

func startWatcher(t *testing.T, cs *fake.Clientset, cfg WatcherConfig, now func() time.Time) *Watcher {
	t.Helper()
	if cfg.Node == "" {
		cfg.Node = testNode
	}
	w := NewWatcher(cfg, fromClientset(cs), nil)
	if now != nil {
		w.now = now
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if !w.Start(ctx) {
		t.Fatal("informers did not sync")
	}
	return w
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func lookupPath(w *Watcher, path string) (*logsv1.Kubernetes, string, bool) {
	m, _ := FromPath(path)
	return w.Lookup(path, m)
}

func checkK(t *testing.T, got, want *logsv1.Kubernetes) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("metadata\n got: %s\nwant: %s", prototext.Format(got), prototext.Format(want))
	}
}

func TestLookup(t *testing.T) {
	objs := []runtime.Object{
		newNamespace("shop", "team", "payments", "kubernetes.io/metadata.name", "shop"),
		newNamespace("infra", "tier", "platform"),
		newPod("shop", "web-5d8f7c9b4-x2x9q", "uid-web",
			labels("app", "web", "pod-template-hash", "5d8f7c9b4"),
			annotations(
				"sluice.io/parser", "nginx",
				"sluice.io/parser-sidecar", "json",
				"team.example.com/owner", "alice",
				"build", "1234",
				"kubectl.kubernetes.io/last-applied-configuration", "{...}",
				"other.io/dropped", "x",
			),
			ownedBy("ReplicaSet", "web-5d8f7c9b4"),
			container("web", "nginx:1.27", "docker.io/library/nginx:1.27", "containerd://"+idWeb),
			container("sidecar", "ghcr.io/acme/sidecar:2", "", ""),
			restarted("web", 2, "containerd://"+idWebOld),
		),
		newPod("infra", "agent-x7k2p", "uid-agent",
			labels("app", "agent"),
			annotations("sluice.io/exclude", "true", "sluice.io/exclude-keep", "false"),
			ownedBy("DaemonSet", "agent"),
			container("agent", "agent:1", "agent:1", "cri-o://"+idAgent),
			container("keep", "keep:1", "keep:1", "cri-o://"+idAgent[:60]+"0000"),
		),
		newPod("infra", "db-0", "uid-db",
			labels("app", "db", "statefulset.kubernetes.io/pod-name", "db-0"),
			annotations("sluice.io/exclude-metrics", "True", "sluice.io/parser-db", "postgres"),
			ownedBy("StatefulSet", "db"),
			container("db", "postgres:17", "sha256:0f0f0f", "docker://"+idDB),
			container("metrics", "exporter:3", "exporter:3", "docker://"+idDBMetric),
		),
		newPod("infra", "bare", "uid-bare", container("main", "busybox", "busybox:latest", "containerd://"+idWeb[:60]+"ffff")),
		newPod("infra", "rs-abc12", "uid-rs",
			labels("pod-template-hash", "zzz"), ownedBy("ReplicaSet", "rs"), container("c", "c:1", "", "")),
		newPod("infra", "migrate-28211-q8r5t", "uid-job",
			labels("job-name", "migrate-28211"), ownedBy("Job", "migrate-28211"), container("migrate", "m:1", "", "")),
	}
	cs := fake.NewClientset(objs...)
	w := startWatcher(t, cs, WatcherConfig{Annotations: []string{"team.example.com/*", "build"}}, nil)

	web := func(container, id, image string) *logsv1.Kubernetes {
		return &logsv1.Kubernetes{
			Namespace: "shop", Pod: "web-5d8f7c9b4-x2x9q", PodUid: "uid-web", Container: container, ContainerId: id,
			Image: image, Node: testNode,
			Labels: map[string]string{"app": "web", "pod-template-hash": "5d8f7c9b4"},
			Annotations: map[string]string{
				"sluice.io/parser": "nginx", "sluice.io/parser-sidecar": "json",
				"team.example.com/owner": "alice", "build": "1234",
			},
			NamespaceLabels: map[string]string{"team": "payments", "kubernetes.io/metadata.name": "shop"},
			OwnerKind:       "Deployment", OwnerName: "web",
		}
	}
	infra := map[string]string{"tier": "platform"}
	tests := []struct {
		name    string
		path    string
		want    *logsv1.Kubernetes
		hint    string
		exclude bool
	}{
		{
			name: "deployment via replicaset, containers path",
			path: "/var/log/containers/web-5d8f7c9b4-x2x9q_shop_web-" + idWeb + ".log",
			want: web("web", idWeb, "docker.io/library/nginx:1.27"), hint: "nginx",
		},
		{
			name: "pods path with uid: id of the current container from the status",
			path: "/var/log/pods/shop_web-5d8f7c9b4-x2x9q_uid-web/web/2.log",
			want: web("web", idWeb, "docker.io/library/nginx:1.27"), hint: "nginx",
		},
		{
			name: "pods path, rotated file of the previous container",
			path: "/var/log/pods/shop_web-5d8f7c9b4-x2x9q_uid-web/web/1.log.20260102-030405.gz",
			want: web("web", idWebOld, "docker.io/library/nginx:1.27"), hint: "nginx",
		},
		{
			name: "pods path, file older than the previous container: id unknown",
			path: "/var/log/pods/shop_web-5d8f7c9b4-x2x9q_uid-web/web/0.log",
			want: web("web", "", "docker.io/library/nginx:1.27"), hint: "nginx",
		},
		{
			name: "per-container parser wins; no status yet: spec image",
			path: "/var/log/pods/shop_web-5d8f7c9b4-x2x9q_uid-web/sidecar/0.log",
			want: web("sidecar", "", "ghcr.io/acme/sidecar:2"), hint: "json",
		},
		{
			name: "uid mismatch: file-name metadata only",
			path: "/var/log/pods/shop_web-5d8f7c9b4-x2x9q_uid-other/web/0.log",
			want: &logsv1.Kubernetes{Namespace: "shop", Pod: "web-5d8f7c9b4-x2x9q", PodUid: "uid-other", Container: "web", Node: testNode},
		},
		{
			name: "daemonset, pod excluded",
			path: "/var/log/containers/agent-x7k2p_infra_agent-" + idAgent + ".log",
			want: &logsv1.Kubernetes{
				Namespace: "infra", Pod: "agent-x7k2p", PodUid: "uid-agent", Container: "agent", ContainerId: idAgent,
				Image: "agent:1", Node: testNode, Labels: map[string]string{"app": "agent"},
				Annotations:     map[string]string{"sluice.io/exclude": "true", "sluice.io/exclude-keep": "false"},
				NamespaceLabels: infra, OwnerKind: "DaemonSet", OwnerName: "agent",
			},
			exclude: true,
		},
		{
			name: "daemonset, per-container false overrides the pod's exclude",
			path: "/var/log/pods/infra_agent-x7k2p_uid-agent/keep/0.log",
			want: &logsv1.Kubernetes{
				Namespace: "infra", Pod: "agent-x7k2p", PodUid: "uid-agent", Container: "keep", ContainerId: idAgent[:60] + "0000",
				Image: "keep:1", Node: testNode, Labels: map[string]string{"app": "agent"},
				Annotations:     map[string]string{"sluice.io/exclude": "true", "sluice.io/exclude-keep": "false"},
				NamespaceLabels: infra, OwnerKind: "DaemonSet", OwnerName: "agent",
			},
		},
		{
			name: "statefulset; status image is a bare id: spec image; docker:// stripped",
			path: "/var/log/pods/infra_db-0_uid-db/db/0.log",
			want: &logsv1.Kubernetes{
				Namespace: "infra", Pod: "db-0", PodUid: "uid-db", Container: "db", ContainerId: idDB,
				Image: "postgres:17", Node: testNode, Labels: map[string]string{"app": "db", "statefulset.kubernetes.io/pod-name": "db-0"},
				Annotations:     map[string]string{"sluice.io/exclude-metrics": "True", "sluice.io/parser-db": "postgres"},
				NamespaceLabels: infra, OwnerKind: "StatefulSet", OwnerName: "db",
			},
			hint: "postgres",
		},
		{
			name: "statefulset, per-container exclude",
			path: "/var/log/containers/db-0_infra_metrics-" + idDBMetric + ".log",
			want: &logsv1.Kubernetes{
				Namespace: "infra", Pod: "db-0", PodUid: "uid-db", Container: "metrics", ContainerId: idDBMetric,
				Image: "exporter:3", Node: testNode, Labels: map[string]string{"app": "db", "statefulset.kubernetes.io/pod-name": "db-0"},
				Annotations:     map[string]string{"sluice.io/exclude-metrics": "True", "sluice.io/parser-db": "postgres"},
				NamespaceLabels: infra, OwnerKind: "StatefulSet", OwnerName: "db",
			},
			exclude: true,
		},
		{
			name: "bare pod: no owner, no labels",
			path: "/var/log/pods/infra_bare_uid-bare/main/0.log",
			want: &logsv1.Kubernetes{
				Namespace: "infra", Pod: "bare", PodUid: "uid-bare", Container: "main", ContainerId: idWeb[:60] + "ffff",
				Image: "busybox:latest", Node: testNode, NamespaceLabels: infra,
			},
		},
		{
			name: "replicaset whose name does not end in the hash stays a ReplicaSet",
			path: "/var/log/pods/infra_rs-abc12_uid-rs/c/0.log",
			want: &logsv1.Kubernetes{
				Namespace: "infra", Pod: "rs-abc12", PodUid: "uid-rs", Container: "c", Image: "c:1", Node: testNode,
				Labels: map[string]string{"pod-template-hash": "zzz"}, NamespaceLabels: infra, OwnerKind: "ReplicaSet", OwnerName: "rs",
			},
		},
		{
			name: "job",
			path: "/var/log/pods/infra_migrate-28211-q8r5t_uid-job/migrate/0.log",
			want: &logsv1.Kubernetes{
				Namespace: "infra", Pod: "migrate-28211-q8r5t", PodUid: "uid-job", Container: "migrate", Image: "m:1", Node: testNode,
				Labels: map[string]string{"job-name": "migrate-28211"}, NamespaceLabels: infra, OwnerKind: "Job", OwnerName: "migrate-28211",
			},
		},
		{
			name: "unknown pod: file-name metadata with the node",
			path: "/var/log/containers/ghost_shop_app-" + idWeb + ".log",
			want: &logsv1.Kubernetes{Namespace: "shop", Pod: "ghost", Container: "app", ContainerId: idWeb, Node: testNode},
		},
		{
			name: "not a kubelet file",
			path: "/var/log/syslog",
			want: &logsv1.Kubernetes{Node: testNode},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, hint, exclude := lookupPath(w, tt.path)
			checkK(t, got, tt.want)
			if hint != tt.hint || exclude != tt.exclude {
				t.Errorf("hint, exclude = %q, %v; want %q, %v", hint, exclude, tt.hint, tt.exclude)
			}
		})
	}

	t.Run("results do not share maps with the cache", func(t *testing.T) {
		path := "/var/log/pods/shop_web-5d8f7c9b4-x2x9q_uid-web/web/2.log"
		a, _, _ := lookupPath(w, path)
		a.Labels["app"] = "changed"
		a.NamespaceLabels["team"] = "changed"
		b, _, _ := lookupPath(w, path)
		if b.Labels["app"] != "web" || b.NamespaceLabels["team"] != "payments" {
			t.Errorf("a caller's change leaked into the cache: %v %v", b.Labels, b.NamespaceLabels)
		}
	})
}

func TestWatchScopedToNode(t *testing.T) {
	cs := fake.NewClientset(newPod("default", "p", "u"), newNamespace("default"))
	startWatcher(t, cs, WatcherConfig{Node: "ip-10-0-0-7.ec2.internal"}, nil)
	var podLists, podWatches, nsLists int
	for _, a := range cs.Actions() {
		var fs string
		switch a := a.(type) {
		case k8stesting.ListAction:
			fs = a.GetListRestrictions().Fields.String()
		case k8stesting.WatchAction:
			fs = a.GetWatchRestrictions().Fields.String()
		default:
			continue
		}
		switch a.GetResource().Resource {
		case "pods":
			if a.GetNamespace() != "" {
				t.Errorf("pods %s in namespace %q; want all namespaces", a.GetVerb(), a.GetNamespace())
			}
			if want := "spec.nodeName=ip-10-0-0-7.ec2.internal"; fs != want {
				t.Errorf("pods %s field selector %q; want %q", a.GetVerb(), fs, want)
			}
			if a.GetVerb() == "list" {
				podLists++
			} else {
				podWatches++
			}
		case "namespaces":
			if fs != "" {
				t.Errorf("namespaces %s field selector %q; want none", a.GetVerb(), fs)
			}
			if a.GetVerb() == "list" {
				nsLists++
			}
		}
	}
	if podLists == 0 || nsLists == 0 {
		t.Errorf("lists: pods %d, namespaces %d; want both", podLists, nsLists)
	}
	t.Logf("pod lists %d, pod watches %d, namespace lists %d", podLists, podWatches, nsLists)
}

func TestAPIServerUnavailableAtStart(t *testing.T) {
	cs := fake.NewClientset(
		newPod("shop", "cart-0", "uid-cart", labels("app", "cart"), ownedBy("StatefulSet", "cart"), container("cart", "cart:9", "cart:9", "containerd://"+idWeb)),
		newNamespace("shop", "team", "payments"),
	)
	var down atomic.Bool
	down.Store(true)
	var failures atomic.Int32
	cs.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		if down.Load() {
			failures.Add(1)
			return true, nil, errors.New("dial tcp 10.96.0.1:443: connect: connection refused")
		}
		return false, nil, nil
	})

	w := NewWatcher(WatcherConfig{Node: testNode, SyncTimeout: 300 * time.Millisecond}, fromClientset(cs), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	if w.Start(ctx) {
		t.Fatal("Start reported a sync while the API server is down")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Start took %v with the API server down; want about SyncTimeout", took)
	}
	if w.HasSynced() {
		t.Fatal("HasSynced while the API server is down")
	}

	path := "/var/log/pods/shop_cart-0_uid-cart/cart/0.log"
	fallback := &logsv1.Kubernetes{Namespace: "shop", Pod: "cart-0", PodUid: "uid-cart", Container: "cart", Node: testNode}
	t0 := time.Now()
	got, _, _ := lookupPath(w, path)
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("Lookup took %v while the API server is down", took)
	}
	checkK(t, got, fallback)
	if failures.Load() == 0 {
		t.Error("the informers never tried to list")
	}

	down.Store(false) // the API server is back
	eventually(t, "enrichment once the API server answers", func() bool {
		got, _, _ := lookupPath(w, path)
		return got.GetOwnerKind() != ""
	})
	eventually(t, "HasSynced", w.HasSynced)
	got, _, _ = lookupPath(w, path)
	checkK(t, got, &logsv1.Kubernetes{
		Namespace: "shop", Pod: "cart-0", PodUid: "uid-cart", Container: "cart", ContainerId: idWeb, Image: "cart:9",
		Node: testNode, Labels: map[string]string{"app": "cart"}, NamespaceLabels: map[string]string{"team": "payments"},
		OwnerKind: "StatefulSet", OwnerName: "cart",
	})
}

func TestLookupBeforeStart(t *testing.T) {
	w := NewWatcher(WatcherConfig{Node: testNode}, fromClientset(fake.NewClientset(newPod("a", "b", "c"))), nil)
	got, hint, exclude := lookupPath(w, "/var/log/pods/a_b_c/x/0.log")
	checkK(t, got, &logsv1.Kubernetes{Namespace: "a", Pod: "b", PodUid: "c", Container: "x", Node: testNode})
	if hint != "" || exclude {
		t.Errorf("hint, exclude = %q, %v", hint, exclude)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestDeletedPodGrace(t *testing.T) {
	old := newPod("data", "kafka-0", "uid-old", labels("gen", "old"), ownedBy("StatefulSet", "kafka"),
		container("kafka", "kafka:3", "kafka:3", "containerd://"+idWebOld))
	cs := fake.NewClientset(old, newNamespace("data"))
	watching := watchStarted(cs)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	w := startWatcher(t, cs, WatcherConfig{DeletedGrace: 5 * time.Minute}, clock.Now)
	<-watching

	oldByUID := "/var/log/pods/data_kafka-0_uid-old/kafka/0.log"
	oldByID := "/var/log/containers/kafka-0_data_kafka-" + idWebOld + ".log"
	newByUID := "/var/log/pods/data_kafka-0_uid-new/kafka/0.log"
	newByID := "/var/log/containers/kafka-0_data_kafka-" + idWeb + ".log"
	gen := func(path string) string {
		k, _, _ := lookupPath(w, path)
		return k.GetLabels()["gen"]
	}

	ctx := context.Background()
	if err := cs.CoreV1().Pods("data").Delete(ctx, "kafka-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion to reach the grace cache", func() bool { return w.deleted.len() == 1 })
	if g := gen(oldByUID); g != "old" {
		t.Errorf("just deleted: gen %q; want old", g)
	}

	// The StatefulSet recreates the pod under the same name.
	recreated := newPod("data", "kafka-0", "uid-new", labels("gen", "new"), ownedBy("StatefulSet", "kafka"),
		container("kafka", "kafka:3", "kafka:3", "containerd://"+idWeb))
	if _, err := cs.CoreV1().Pods("data").Create(ctx, recreated, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new pod", func() bool { return gen(newByUID) == "new" })

	clock.Add(4 * time.Minute)
	for path, want := range map[string]string{oldByUID: "old", oldByID: "old", newByUID: "new", newByID: "new"} {
		if g := gen(path); g != want {
			t.Errorf("within grace, %s: gen %q; want %q", path, g, want)
		}
	}

	clock.Add(time.Minute + time.Second)
	if k, _, _ := lookupPath(w, oldByUID); k.GetLabels() != nil || k.GetPodUid() != "uid-old" || k.GetOwnerKind() != "" {
		t.Errorf("after grace, old file by uid: %s; want file-name metadata", prototext.Format(k))
	}
	// Without a uid, and the old container gone from every pod known, the
	// live pod of that name is the best guess left.
	if g := gen(oldByID); g != "new" {
		t.Errorf("after grace, old file by container id: gen %q; want new", g)
	}
	if w.deleted.len() != 0 {
		t.Errorf("grace cache holds %d pods after the grace", w.deleted.len())
	}

	// A pod deleted with no successor: its metadata within the grace, the
	// file name's after it.
	if err := cs.CoreV1().Pods("data").Delete(ctx, "kafka-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second deletion", func() bool { return w.deleted.len() == 1 })
	if g := gen(newByID); g != "new" {
		t.Errorf("deleted, within grace: gen %q; want new", g)
	}
	clock.Add(5 * time.Minute)
	if k, _, _ := lookupPath(w, newByID); k.GetLabels() != nil || k.GetContainerId() != idWeb {
		t.Errorf("deleted, after grace: %s; want file-name metadata", prototext.Format(k))
	}
}

func TestGraceCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	g := newGraceCache(3)
	p := func(name, uid string) *corev1.Pod { return newPod("ns", name, uid) }
	uids := func(ps []*corev1.Pod) string {
		var s []string
		for _, p := range ps {
			s = append(s, string(p.UID))
		}
		return strings.Join(s, ",")
	}

	g.add(p("a", "a1"), now, time.Minute)
	g.add(p("a", "a2"), now.Add(time.Second), time.Minute)
	g.add(p("b", "b1"), now.Add(2*time.Second), time.Minute)
	if got := uids(g.get("ns", "a", now)); got != "a2,a1" {
		t.Errorf("a: %q; want newest first a2,a1", got)
	}
	// Full: the oldest deletion goes.
	g.add(p("c", "c1"), now.Add(3*time.Second), time.Minute)
	if got := uids(g.get("ns", "a", now)); got != "a2" || g.len() != 3 {
		t.Errorf("after eviction a: %q, len %d; want a2, 3", got, g.len())
	}
	// The same pod twice (a tombstone after a relist) is one entry.
	g.add(p("b", "b1"), now.Add(4*time.Second), time.Minute)
	if got := uids(g.get("ns", "b", now)); got != "b1" || g.len() != 3 {
		t.Errorf("re-added b: %q, len %d; want b1, 3", got, g.len())
	}
	// Expiry in deletion order.
	if got := uids(g.get("ns", "a", now.Add(61*time.Second))); got != "" {
		t.Errorf("a after its grace: %q", got)
	}
	if got := uids(g.get("ns", "b", now.Add(61*time.Second))); got != "b1" {
		t.Errorf("b within its renewed grace: %q", got)
	}
	if got := uids(g.get("ns", "c", now.Add(63*time.Second))); got != "" || g.len() != 1 {
		t.Errorf("c after its grace: %q, len %d; want only b left", got, g.len())
	}

	// Bounded under churn, and the queue does not grow without bound.
	big := newGraceCache(100)
	for i := range 50_000 {
		big.add(p(fmt.Sprintf("p%d", i%700), fmt.Sprintf("u%d", i)), now.Add(time.Duration(i)*time.Millisecond), time.Hour)
	}
	if big.len() != 100 || len(big.byName) > 100 || len(big.fifo) > 4*1024 {
		t.Errorf("len %d, names %d, queue %d; want 100, <=100, bounded", big.len(), len(big.byName), len(big.fifo))
	}
}

func TestStripPod(t *testing.T) {
	w := NewWatcher(WatcherConfig{Node: testNode, Annotations: []string{"keep.me"}}, fromClientset(fake.NewClientset()), nil)
	pod := newPod("ns", "p", "u",
		labels("app", "x"),
		annotations("keep.me", "1", "sluice.io/parser", "json", "kubectl.kubernetes.io/last-applied-configuration", strings.Repeat("x", 10_000)),
		ownedBy("DaemonSet", "d"),
		container("c", "img:1", "img:1", "containerd://"+idWeb),
	)
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate}}
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "SECRET", Value: "hunter2"}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "v"}}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady}}

	out, err := w.stripPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*corev1.Pod)
	if s.ManagedFields != nil || s.Spec.Volumes != nil || s.Spec.Containers[0].Env != nil || s.Status.Conditions != nil {
		t.Errorf("not stripped: %+v", s)
	}
	if want := map[string]string{"keep.me": "1", "sluice.io/parser": "json"}; !maps.Equal(s.Annotations, want) {
		t.Errorf("annotations %v; want %v", s.Annotations, want)
	}
	if s.Spec.Containers[0].Image != "img:1" || s.Status.ContainerStatuses[0].ContainerID != "containerd://"+idWeb || s.OwnerReferences[0].Name != "d" {
		t.Errorf("lost what Lookup needs: %+v", s)
	}
	again, _ := w.stripPod(s)
	if !reflect.DeepEqual(again, s) {
		t.Error("transform is not idempotent")
	}
	tomb := cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: s}
	if got, _ := w.stripPod(tomb); got != any(tomb) {
		t.Error("non-pod objects must pass through")
	}
}

func TestTrimRuntime(t *testing.T) {
	for in, want := range map[string]string{
		"containerd://abc": "abc", "docker://abc": "abc", "cri-o://abc": "abc", "abc": "abc", "": "",
	} {
		if got := trimRuntime(in); got != want {
			t.Errorf("trimRuntime(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestNewClient(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: t}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := NewClient(kc); err != nil || c == nil {
		t.Fatalf("NewClient(%s) = %v, %v", kc, c, err)
	}
	if _, err := NewClient(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("NewClient of a missing kubeconfig: no error")
	}
}

func TestStartWithoutNode(t *testing.T) {
	cs := fake.NewClientset(newPod("a", "b", "c", labels("x", "y")))
	w := NewWatcher(WatcherConfig{}, fromClientset(cs), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if w.Start(ctx) {
		t.Error("Start without a node reported a sync")
	}
	if n := len(cs.Actions()); n != 0 {
		t.Errorf("%d API calls without a node; want none (no cluster-wide pod watch)", n)
	}
	got, _, _ := lookupPath(w, "/var/log/pods/a_b_c/x/0.log")
	checkK(t, got, &logsv1.Kubernetes{Namespace: "a", Pod: "b", PodUid: "c", Container: "x"})
}
