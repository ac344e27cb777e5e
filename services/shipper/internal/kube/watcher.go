package kube

import (
	"context"
	"log/slog"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

// Pod annotations the watcher interprets. Every sluice.io/* annotation is
// also copied into the record.
const (
	AnnotationPrefix  = "sluice.io/"
	AnnotationParser  = "sluice.io/parser"  // parse rule hint; sluice.io/parser-<container> wins
	AnnotationExclude = "sluice.io/exclude" // "true": do not ship; sluice.io/exclude-<container> wins
	// AnnotationWeight on a namespace is its share of the shipper's read
	// budget when Kafka is slower than the node's logs (an integer 1-1000;
	// default 1).
	AnnotationWeight = "sluice.io/weight"
)

// Defaults of WatcherConfig's zero values.
const (
	DefaultDeletedGrace = 5 * time.Minute
	DefaultDeletedMax   = 10_000
	DefaultSyncTimeout  = 10 * time.Second
)

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	// Node is the node whose pods are watched (required): the watch is scoped
	// to spec.nodeName=Node, so no pod of another node is ever sent here.
	Node string
	// Kubeconfig is a kubeconfig path; empty means the in-cluster config.
	// Only NewClient reads it.
	Kubeconfig string
	// Annotations lists extra pod annotations to copy into records: exact
	// names, or a prefix ending in "*" ("example.com/*"). sluice.io/* are
	// always copied. Annotations not listed are dropped as the pod arrives,
	// so they cost no memory.
	Annotations []string
	// DeletedGrace is how long a deleted pod's metadata is kept, so that the
	// lines still being read from its files after the deletion get it too.
	// Zero means DefaultDeletedGrace.
	DeletedGrace time.Duration
	// DeletedMax bounds the number of deleted pods kept; the oldest deletion
	// is dropped first. Zero means DefaultDeletedMax.
	DeletedMax int
	// ResyncPeriod is the informers' resync period; zero means none (events
	// keep the caches current; a resync only replays them).
	ResyncPeriod time.Duration
	// SyncTimeout bounds how long Start waits for the first list before it
	// returns. Zero means DefaultSyncTimeout.
	SyncTimeout time.Duration
}

// Watcher is the API-server-backed metadata source: it keeps a local copy of
// the pods of one node and of the namespaces, and answers Lookup from it
// without a request per file.
//
// Why it is shaped this way:
//
//   - The pod watch is scoped to this node (field selector spec.nodeName),
//     so the memory of each shipper and the watch traffic the API server sends
//     it are O(pods on the node), not O(pods in the cluster); a DaemonSet of
//     N shippers costs the API server N small watches. Namespaces are watched
//     cluster-wide for their labels: there are few, and they seldom change.
//   - Pods are stripped as they arrive (informer transform): only names,
//     labels, the copied annotations, owners, and container names, images
//     and ids are kept; managedFields, specs and conditions are not.
//   - Deleted pods stay in a bounded grace cache for DeletedGrace: the
//     shipper is often still reading a pod's last lines when the pod is
//     deleted, and those lines should carry the same metadata as the rest.
//   - The API server is never on the shipping path: until the informers have
//     synced (or while the API server is unreachable) Lookup answers at once
//     with the metadata of the kubelet's file names, and it enriches as soon
//     as the pods are known. Start waits for the first sync at most
//     SyncTimeout.
type Watcher struct {
	cfg   WatcherConfig
	log   *slog.Logger
	now   func() time.Time
	annot annotationFilter

	podInformer, nsInformer cache.SharedIndexInformer
	pods                    listersv1.PodLister
	namespaces              listersv1.NamespaceLister

	deleted *graceCache
}

// NewWatcher builds a watcher of cfg.Node's pods through c. Lookup may be
// called right away: it falls back to file-name metadata until Start has
// been called and the pods have been listed.
func NewWatcher(cfg WatcherConfig, c Client, log *slog.Logger) *Watcher {
	if cfg.DeletedGrace <= 0 {
		cfg.DeletedGrace = DefaultDeletedGrace
	}
	if cfg.DeletedMax <= 0 {
		cfg.DeletedMax = DefaultDeletedMax
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = DefaultSyncTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{
		cfg:   cfg,
		log:   log,
		now:   time.Now,
		annot: newAnnotationFilter(cfg.Annotations),
	}
	w.deleted = newGraceCache(cfg.DeletedMax)

	// Only the pods are scoped to the node.
	onNode := fields.OneTermEqualSelector("spec.nodeName", cfg.Node).String()
	byNamespace := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	w.podInformer = cache.NewSharedIndexInformer(
		c.Pods(onNode),
		&corev1.Pod{}, cfg.ResyncPeriod, byNamespace)
	w.pods = listersv1.NewPodLister(w.podInformer.GetIndexer())
	w.nsInformer = cache.NewSharedIndexInformer(
		c.Namespaces(),
		&corev1.Namespace{}, cfg.ResyncPeriod, cache.Indexers{})
	w.namespaces = listersv1.NewNamespaceLister(w.nsInformer.GetIndexer())

	// These fail only on an informer that has started; these have not.
	_ = w.podInformer.SetTransform(w.stripPod)
	_ = w.nsInformer.SetTransform(stripNamespace)
	_ = w.podInformer.SetWatchErrorHandlerWithContext(w.watchError("pods"))
	_ = w.nsInformer.SetWatchErrorHandlerWithContext(w.watchError("namespaces"))
	_, _ = w.podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: w.onDelete})
	return w
}

// Start starts the informers, which run until ctx ends, and waits for their
// first list at most SyncTimeout (or until ctx ends). It reports whether they
// synced; when they did not, Lookup answers from file names until they do,
// in the background.
func (w *Watcher) Start(ctx context.Context) bool {
	if w.cfg.Node == "" {
		w.log.Error("kubernetes metadata: no node name; pods are not watched and metadata comes from file names")
		return false
	}
	go w.podInformer.RunWithContext(ctx)
	go w.nsInformer.RunWithContext(ctx)

	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, w.cfg.SyncTimeout)
	defer cancel()
	if cache.WaitForCacheSync(wctx.Done(), w.podInformer.HasSynced, w.nsInformer.HasSynced) {
		w.log.Info("kubernetes metadata synced", "node", w.cfg.Node,
			"pods", len(w.podInformer.GetStore().ListKeys()), "took", time.Since(start).Round(time.Millisecond))
		return true
	}
	w.log.Warn("kubernetes metadata not synced yet; using file-name metadata until it is",
		"node", w.cfg.Node, "waited", time.Since(start).Round(time.Millisecond))
	return false
}

// HasSynced reports whether the pods and namespaces have been listed once.
func (w *Watcher) HasSynced() bool {
	return w.podInformer.HasSynced() && w.nsInformer.HasSynced()
}

// Lookup returns the metadata of the container log file at path, whose
// kubelet file name gave m, with the pod's parser hint and whether the pod
// (or this container) asked not to be shipped. A pod the watcher does not
// know gets the file-name metadata, with the node set.
//
// The pod is found by namespace and name, then told apart from an earlier
// pod of the same name (a StatefulSet's, say) by the uid in
// /var/log/pods/<ns>_<pod>_<uid>/ paths, or by the container id in
// /var/log/containers/ paths. A uid that matches no pod known, live or
// recently deleted, gives the file-name metadata: better no labels than
// another pod's.
func (w *Watcher) Lookup(path string, m Meta) (*logsv1.Kubernetes, string, bool) {
	k := &logsv1.Kubernetes{
		Namespace: m.Namespace, Pod: m.Pod, PodUid: m.PodUID,
		Container: m.Container, ContainerId: m.ContainerID, Node: w.cfg.Node,
	}
	if m.Namespace == "" || m.Pod == "" {
		return k, "", false
	}
	pod := w.find(m)
	if pod == nil {
		return k, "", false
	}

	k.PodUid = string(pod.UID)
	if pod.Spec.NodeName != "" {
		k.Node = pod.Spec.NodeName
	}
	k.Labels = maps.Clone(pod.Labels)
	for name, v := range pod.Annotations {
		if w.annot.copy(name) {
			if k.Annotations == nil {
				k.Annotations = map[string]string{}
			}
			k.Annotations[name] = v
		}
	}
	if ns, err := w.namespaces.Get(m.Namespace); err == nil {
		k.NamespaceLabels = maps.Clone(ns.Labels)
	}
	k.OwnerKind, k.OwnerName = owner(pod)

	spec, status := findContainer(pod, m.Container)
	k.Image = image(spec, status)
	if k.ContainerId == "" && status != nil {
		k.ContainerId = containerIDFor(path, status)
	}

	hint := pod.Annotations[AnnotationParser]
	if v, ok := pod.Annotations[AnnotationParser+"-"+m.Container]; ok && m.Container != "" {
		hint = v
	}
	exclude := isTrue(pod.Annotations[AnnotationExclude])
	if v, ok := pod.Annotations[AnnotationExclude+"-"+m.Container]; ok && m.Container != "" {
		exclude = isTrue(v)
	}
	return k, hint, exclude
}

// find returns the pod m's file belongs to: live or recently deleted.
func (w *Watcher) find(m Meta) *corev1.Pod {
	live, err := w.pods.Pods(m.Namespace).Get(m.Pod)
	if err != nil {
		live = nil
	}
	gone := w.deleted.get(m.Namespace, m.Pod, w.now()) // newest first
	if m.PodUID != "" {
		if live != nil && string(live.UID) == m.PodUID {
			return live
		}
		for _, p := range gone {
			if string(p.UID) == m.PodUID {
				return p
			}
		}
		return nil
	}
	if m.ContainerID != "" {
		if live != nil && hasContainerID(live, m.ContainerID) {
			return live
		}
		for _, p := range gone {
			if hasContainerID(p, m.ContainerID) {
				return p
			}
		}
		// The status may lag a container that has just started.
	}
	if live != nil {
		return live
	}
	if len(gone) > 0 {
		return gone[0]
	}
	return nil
}

func (w *Watcher) onDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	w.deleted.add(pod, w.now(), w.cfg.DeletedGrace)
}

func (w *Watcher) watchError(resource string) cache.WatchErrorHandlerWithContext {
	return func(_ context.Context, _ *cache.Reflector, err error) {
		w.log.Warn("kubernetes watch failed; retrying", "resource", resource, "node", w.cfg.Node, "err", err)
	}
}

// stripPod keeps only what Lookup reads. It is idempotent, as informer
// transforms must be: a stripped pod strips to itself.
func (w *Watcher) stripPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            pod.Name,
			Namespace:       pod.Namespace,
			UID:             pod.UID,
			ResourceVersion: pod.ResourceVersion,
			Labels:          pod.Labels,
		},
		Spec: corev1.PodSpec{NodeName: pod.Spec.NodeName},
	}
	for name, v := range pod.Annotations {
		if w.annot.copy(name) {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[name] = v
		}
	}
	for _, r := range pod.OwnerReferences {
		out.OwnerReferences = append(out.OwnerReferences, metav1.OwnerReference{Kind: r.Kind, Name: r.Name, Controller: r.Controller})
	}
	for _, c := range pod.Spec.InitContainers {
		out.Spec.InitContainers = append(out.Spec.InitContainers, corev1.Container{Name: c.Name, Image: c.Image})
	}
	for _, c := range pod.Spec.Containers {
		out.Spec.Containers = append(out.Spec.Containers, corev1.Container{Name: c.Name, Image: c.Image})
	}
	for _, c := range pod.Spec.EphemeralContainers {
		out.Spec.EphemeralContainers = append(out.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: c.Name, Image: c.Image},
		})
	}
	out.Status.InitContainerStatuses = stripStatuses(pod.Status.InitContainerStatuses)
	out.Status.ContainerStatuses = stripStatuses(pod.Status.ContainerStatuses)
	out.Status.EphemeralContainerStatuses = stripStatuses(pod.Status.EphemeralContainerStatuses)
	return out, nil
}

func stripStatuses(in []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(in))
	for i, s := range in {
		out[i] = corev1.ContainerStatus{Name: s.Name, Image: s.Image, ContainerID: s.ContainerID, RestartCount: s.RestartCount}
		if t := s.LastTerminationState.Terminated; t != nil && t.ContainerID != "" {
			out[i].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ContainerID: t.ContainerID}
		}
	}
	return out
}

func stripNamespace(obj any) (any, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return obj, nil
	}
	out := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns.Name, UID: ns.UID, ResourceVersion: ns.ResourceVersion, Labels: ns.Labels,
	}}
	if w, ok := ns.Annotations[AnnotationWeight]; ok {
		out.Annotations = map[string]string{AnnotationWeight: w}
	}
	return out, nil
}

// NamespaceWeight returns the namespace's sluice.io/weight annotation, when
// it is set to an integer in [1, 1000].
func (w *Watcher) NamespaceWeight(namespace string) (int, bool) {
	ns, err := w.namespaces.Get(namespace)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(ns.Annotations[AnnotationWeight]))
	if err != nil || n < 1 || n > 1000 {
		return 0, false
	}
	return n, true
}

// annotationFilter decides which pod annotations are kept and copied.
type annotationFilter struct {
	exact    map[string]bool
	prefixes []string
}

func newAnnotationFilter(names []string) annotationFilter {
	f := annotationFilter{exact: map[string]bool{}}
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok {
			f.prefixes = append(f.prefixes, p)
		} else if n != "" {
			f.exact[n] = true
		}
	}
	return f
}

// copy reports whether the annotation is kept and goes into records. The
// annotations the watcher interprets are sluice.io/* and so always kept.
func (f annotationFilter) copy(name string) bool {
	if strings.HasPrefix(name, AnnotationPrefix) || f.exact[name] {
		return true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// owner returns the pod's controller, resolving a Deployment's ReplicaSet to
// the Deployment by the naming convention <deployment>-<pod-template-hash>.
func owner(pod *corev1.Pod) (kind, name string) {
	refs := pod.OwnerReferences
	if len(refs) == 0 {
		return "", ""
	}
	ref := refs[0]
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			ref = r
			break
		}
	}
	if ref.Kind == "ReplicaSet" {
		if h := pod.Labels["pod-template-hash"]; h != "" {
			if d, ok := strings.CutSuffix(ref.Name, "-"+h); ok && d != "" {
				return "Deployment", d
			}
		}
	}
	return ref.Kind, ref.Name
}

// findContainer returns the spec and status of the named container, among
// the regular, init and ephemeral containers.
func findContainer(pod *corev1.Pod, name string) (spec *corev1.Container, status *corev1.ContainerStatus) {
	if name == "" {
		return nil, nil
	}
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if spec == nil && list[i].Name == name {
				spec = &list[i]
			}
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		if spec == nil && pod.Spec.EphemeralContainers[i].Name == name {
			c := corev1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
			spec = &c
		}
	}
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return spec, &list[i]
			}
		}
	}
	return spec, nil
}

// image prefers the image the runtime reports running, and falls back to the
// spec's while the status is not there yet or names a bare image id.
func image(spec *corev1.Container, status *corev1.ContainerStatus) string {
	if status != nil && status.Image != "" && !strings.HasPrefix(status.Image, "sha256:") {
		return status.Image
	}
	if spec != nil && spec.Image != "" {
		return spec.Image
	}
	if status != nil {
		return status.Image
	}
	return ""
}

// containerIDFor returns the id of the container that wrote path, a
// /var/log/pods/.../<container>/<restart>.log file: the current container
// for the current restart count, the previous one for the one before, and
// "" when the file is older than that (its id is no longer known).
func containerIDFor(path string, s *corev1.ContainerStatus) string {
	current := trimRuntime(s.ContainerID)
	n, ok := restartOf(path)
	if !ok || n == int(s.RestartCount) {
		return current
	}
	if n == int(s.RestartCount)-1 && s.LastTerminationState.Terminated != nil {
		return trimRuntime(s.LastTerminationState.Terminated.ContainerID)
	}
	return ""
}

// restartOf parses the restart count of a kubelet pod log file name:
// <n>.log, <n>.log.<timestamp>, <n>.log.<timestamp>.gz.
func restartOf(path string) (int, bool) {
	base := filepath.Base(path)
	i := strings.Index(base, ".log")
	if i <= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(base[:i])
	return n, err == nil && n >= 0
}

// trimRuntime strips the runtime scheme of a status container id:
// containerd://, docker://, cri-o:// and any other.
func trimRuntime(id string) string {
	if _, after, ok := strings.Cut(id, "://"); ok {
		return after
	}
	return id
}

func hasContainerID(pod *corev1.Pod, id string) bool {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for _, s := range list {
			if trimRuntime(s.ContainerID) == id {
				return true
			}
			if t := s.LastTerminationState.Terminated; t != nil && trimRuntime(t.ContainerID) == id {
				return true
			}
		}
	}
	return false
}

func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// graceCache keeps deleted pods for a while, bounded in count: when full,
// the oldest deletion goes first.
type graceCache struct {
	mu     sync.Mutex
	max    int
	byName map[string][]*graceEntry // namespace/name → entries, oldest first
	fifo   []*graceEntry            // deletion order; fifo[head:] are live
	head   int
	n      int
}

type graceEntry struct {
	key     string
	pod     *corev1.Pod
	expires time.Time
	dropped bool
}

func newGraceCache(max int) *graceCache {
	return &graceCache{max: max, byName: map[string][]*graceEntry{}}
}

func (g *graceCache) add(pod *corev1.Pod, now time.Time, grace time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expireLocked(now)
	key := pod.Namespace + "/" + pod.Name
	// A pod deleted twice (a tombstone after a relist) replaces its entry.
	for _, e := range g.byName[key] {
		if e.pod.UID == pod.UID {
			g.dropLocked(e)
		}
	}
	for g.n >= g.max {
		g.advanceLocked()
		g.dropLocked(g.fifo[g.head])
	}
	e := &graceEntry{key: key, pod: pod, expires: now.Add(grace)}
	g.fifo = append(g.fifo, e)
	g.byName[key] = append(g.byName[key], e)
	g.n++
}

// get returns the pods of that name deleted less than the grace period ago,
// the most recently deleted first.
func (g *graceCache) get(namespace, name string, now time.Time) []*corev1.Pod {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expireLocked(now)
	es := g.byName[namespace+"/"+name]
	if len(es) == 0 {
		return nil
	}
	out := make([]*corev1.Pod, 0, len(es))
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].pod)
	}
	return out
}

func (g *graceCache) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// expireLocked drops the entries whose grace has passed. Entries expire in
// deletion order, as they all have the same grace.
func (g *graceCache) expireLocked(now time.Time) {
	for {
		g.advanceLocked()
		if g.head == len(g.fifo) || now.Before(g.fifo[g.head].expires) {
			return
		}
		g.dropLocked(g.fifo[g.head])
	}
}

// advanceLocked moves head past dropped entries and compacts the queue.
func (g *graceCache) advanceLocked() {
	for g.head < len(g.fifo) && g.fifo[g.head].dropped {
		g.fifo[g.head] = nil
		g.head++
	}
	if g.head > 1024 && g.head*2 > len(g.fifo) {
		g.fifo = append([]*graceEntry(nil), g.fifo[g.head:]...)
		g.head = 0
	}
}

func (g *graceCache) dropLocked(e *graceEntry) {
	if e.dropped {
		return
	}
	e.dropped = true
	g.n--
	es := g.byName[e.key]
	for i, x := range es {
		if x == e {
			es = append(es[:i], es[i+1:]...)
			break
		}
	}
	if len(es) == 0 {
		delete(g.byName, e.key)
	} else {
		g.byName[e.key] = es
	}
}
