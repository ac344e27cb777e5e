package deploy

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/distribution/reference"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	libconfig "github.com/sluice-io/sluice/libs/config"
	indexerconfig "github.com/sluice-io/sluice/services/indexer/config"
	parserconfig "github.com/sluice-io/sluice/services/parser/config"
	shipperconfig "github.com/sluice-io/sluice/services/shipper/config"
)

// chartCases are the values every invariant is checked against: the
// defaults and every example in ci/ (TestChartCasesCoverCI keeps the list
// complete).
var chartCases = []struct {
	name, file string
}{
	{"default", ""},
	{"minimal", "ci/minimal-values.yaml"},
	{"production", "ci/production-values.yaml"},
	{"opensearch", "ci/opensearch-values.yaml"},
}

func TestChartCasesCoverCI(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir(t), "ci", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no ci/*.yaml values files")
	}
	for _, f := range files {
		rel := "ci/" + filepath.Base(f)
		if !slices.ContainsFunc(chartCases, func(c struct{ name, file string }) bool { return c.file == rel }) {
			t.Errorf("%s is not in chartCases", rel)
		}
	}
}

// TestChart renders the chart for each case and checks every invariant.
func TestChart(t *testing.T) {
	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, valuesFile(t, tc.file))
			checks := []struct {
				name string
				fn   func(testing.TB, *release)
			}{
				{"inventory", checkInventory},
				{"rbac", checkRBAC},
				{"service-accounts", checkServiceAccounts},
				{"pod-security", checkPodSecurity},
				{"host-mounts", checkHostMounts},
				{"probes-and-resources", checkProbesAndResources},
				{"labels", checkLabels},
				{"selectors", checkSelectors},
				{"autoscaling", checkAutoscaling},
				{"network-policy", checkNetworkPolicies},
				{"images", checkImages},
				{"service-config", checkServiceConfigs},
				{"notes", checkNotes},
			}
			for _, c := range checks {
				t.Run(c.name, func(t *testing.T) { c.fn(t, r) })
			}
			if tc.file == "" {
				t.Run("config-verbatim", func(t *testing.T) { checkConfigVerbatim(t, r) })
			}
		})
	}
}

// value reads a rendered value by dotted path ("kafka.brokers").
func value(tb testing.TB, r *release, path string) any {
	tb.Helper()
	v, err := r.Values.PathValue("Values." + path)
	if err != nil {
		tb.Fatalf("value %s: %v", path, err)
	}
	return v
}

func valueBool(tb testing.TB, r *release, path string) bool {
	b, _ := value(tb, r, path).(bool)
	return b
}

func valueString(tb testing.TB, r *release, path string) string {
	s, _ := value(tb, r, path).(string)
	return s
}

func valueStrings(tb testing.TB, r *release, path string) []string {
	var out []string
	for _, x := range value(tb, r, path).([]any) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func valueInt(tb testing.TB, r *release, path string) int32 {
	var n int32
	if _, err := fmt.Sscan(fmt.Sprint(value(tb, r, path)), &n); err != nil {
		tb.Fatalf("value %s: %v", path, err)
	}
	return n
}

func valueInts(tb testing.TB, r *release, path string) []int32 {
	var out []int32
	for _, x := range value(tb, r, path).([]any) {
		var n int32
		fmt.Sscan(fmt.Sprint(x), &n)
		out = append(out, n)
	}
	return out
}

// workload is a DaemonSet or Deployment.
type workload struct {
	Kind, Name, Component string
	Selector              *metav1.LabelSelector
	Template              corev1.PodTemplateSpec
	Replicas              *int32
}

func workloads(r *release) []workload {
	var out []workload
	for _, d := range objects[appsv1.DaemonSet](r) {
		out = append(out, workload{"DaemonSet", d.Name, d.Labels["app.kubernetes.io/component"], d.Spec.Selector, d.Spec.Template, nil})
	}
	for _, d := range objects[appsv1.Deployment](r) {
		out = append(out, workload{"Deployment", d.Name, d.Labels["app.kubernetes.io/component"], d.Spec.Selector, d.Spec.Template, d.Spec.Replicas})
	}
	return out
}

func workloadFor(tb testing.TB, r *release, component string) workload {
	tb.Helper()
	for _, w := range workloads(r) {
		if w.Component == component {
			return w
		}
	}
	tb.Fatalf("no workload for component %q", component)
	return workload{}
}

func allContainers(spec corev1.PodSpec) []corev1.Container {
	return append(slices.Clone(spec.InitContainers), spec.Containers...)
}

func selectorOf(tb testing.TB, ls *metav1.LabelSelector) labels.Selector {
	tb.Helper()
	if ls == nil {
		tb.Fatal("nil label selector")
	}
	s, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		tb.Fatalf("label selector: %v", err)
	}
	if s.Empty() {
		tb.Fatal("empty label selector selects everything")
	}
	return s
}

// checkInventory: the expected objects exist, one set per component.
func checkInventory(tb testing.TB, r *release) {
	ws := workloads(r)
	got := map[string]string{}
	for _, w := range ws {
		got[w.Component] = w.Kind
	}
	want := map[string]string{"shipper": "DaemonSet", "parser": "Deployment", "indexer": "Deployment"}
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("workloads = %v, want %v", got, want)
	}
	count := map[string]int{}
	for _, m := range r.Manifests {
		count[m.Kind]++
	}
	configMaps := 3 // one configuration per service
	if valueBool(tb, r, "monitoring.grafanaDashboard.enabled") {
		configMaps++ // the dashboard
	}
	for kind, n := range map[string]int{"ConfigMap": configMaps, "Service": 3, "ServiceAccount": 3} {
		if count[kind] != n {
			tb.Errorf("%d %s objects, want %d", count[kind], kind, n)
		}
	}
	seen := map[string]bool{}
	for _, m := range r.Manifests {
		key := m.Kind + "/" + m.Name
		if seen[key] {
			tb.Errorf("duplicate object %s", key)
		}
		seen[key] = true
	}
	if valueBool(tb, r, "serviceMonitor.enabled") != (count["ServiceMonitor"] == 3) {
		tb.Errorf("serviceMonitor.enabled=%v but %d ServiceMonitors", valueBool(tb, r, "serviceMonitor.enabled"), count["ServiceMonitor"])
	}
}

// checkRBAC: the only permissions are get/list/watch on core pods and
// namespaces, bound to the shipper's ServiceAccount alone.
func checkRBAC(tb testing.TB, r *release) {
	roles := objects[rbacv1.ClusterRole](r)
	bindings := objects[rbacv1.ClusterRoleBinding](r)
	if len(roles) != 1 || len(bindings) != 1 {
		tb.Fatalf("%d ClusterRoles and %d ClusterRoleBindings, want 1 and 1", len(roles), len(bindings))
	}
	norm := func(rules []rbacv1.PolicyRule) map[string][]string {
		out := map[string][]string{}
		for _, rule := range rules {
			if len(rule.NonResourceURLs) > 0 || len(rule.ResourceNames) > 0 {
				tb.Errorf("unexpected rule fields: %+v", rule)
			}
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					key := g + "/" + res
					out[key] = append(out[key], rule.Verbs...)
					sort.Strings(out[key])
				}
			}
		}
		return out
	}
	want := map[string][]string{"/pods": {"get", "list", "watch"}, "/namespaces": {"get", "list", "watch"}}
	if got := norm(roles[0].Rules); !reflect.DeepEqual(got, want) {
		tb.Errorf("ClusterRole rules = %v, want exactly %v", got, want)
	}
	b := bindings[0]
	if b.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: roles[0].Name}) {
		tb.Errorf("binding roleRef = %+v", b.RoleRef)
	}
	shipper := workloadFor(tb, r, "shipper")
	wantSubj := []rbacv1.Subject{{Kind: "ServiceAccount", Name: shipper.Template.Spec.ServiceAccountName, Namespace: releaseNS}}
	if !reflect.DeepEqual(b.Subjects, wantSubj) {
		tb.Errorf("binding subjects = %+v, want %+v", b.Subjects, wantSubj)
	}
}

// checkServiceAccounts: each workload has its own ServiceAccount; only the
// shipper's mounts an API token.
func checkServiceAccounts(tb testing.TB, r *release) {
	sas := map[string]*corev1.ServiceAccount{}
	for _, sa := range objects[corev1.ServiceAccount](r) {
		sas[sa.Name] = sa
	}
	used := map[string]bool{}
	for _, w := range workloads(r) {
		name := w.Template.Spec.ServiceAccountName
		sa, ok := sas[name]
		if !ok {
			tb.Errorf("%s uses ServiceAccount %q, which the chart does not create", w.Name, name)
			continue
		}
		if used[name] {
			tb.Errorf("ServiceAccount %q shared by several workloads", name)
		}
		used[name] = true
		wantToken := w.Component == "shipper"
		pod := w.Template.Spec.AutomountServiceAccountToken
		if pod == nil || *pod != wantToken {
			tb.Errorf("%s: pod automountServiceAccountToken = %v, want %v", w.Name, deref(pod), wantToken)
		}
		if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken != wantToken {
			tb.Errorf("ServiceAccount %s: automountServiceAccountToken = %v, want %v", name, deref(sa.AutomountServiceAccountToken), wantToken)
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "<unset>"
	}
	return *p
}

// checkPodSecurity: no privileged container, no privilege escalation, every
// capability dropped, RuntimeDefault seccomp, read-only root filesystem,
// non-root except the shipper (uid 0 by design, documented).
func checkPodSecurity(tb testing.TB, r *release) {
	for _, w := range workloads(r) {
		spec := w.Template.Spec
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			tb.Errorf("%s: host namespaces in use", w.Name)
		}
		psc := spec.SecurityContext
		if psc == nil {
			tb.Errorf("%s: no pod securityContext", w.Name)
			psc = &corev1.PodSecurityContext{}
		}
		if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			tb.Errorf("%s: pod seccompProfile = %+v, want RuntimeDefault", w.Name, psc.SeccompProfile)
		}
		for _, c := range allContainers(spec) {
			where := w.Name + "/" + c.Name
			sc := c.SecurityContext
			if sc == nil {
				tb.Errorf("%s: no securityContext", where)
				continue
			}
			if sc.Privileged != nil && *sc.Privileged {
				tb.Errorf("%s: privileged", where)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				tb.Errorf("%s: allowPrivilegeEscalation = %v, want false", where, deref(sc.AllowPrivilegeEscalation))
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				tb.Errorf("%s: readOnlyRootFilesystem = %v, want true", where, deref(sc.ReadOnlyRootFilesystem))
			}
			if sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
				tb.Errorf("%s: capabilities = %+v, want drop [ALL] and no add", where, sc.Capabilities)
			}
			if sc.SeccompProfile != nil && sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				tb.Errorf("%s: seccompProfile = %+v", where, sc.SeccompProfile)
			}
			if sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
				tb.Errorf("%s: procMount %v", where, *sc.ProcMount)
			}
			nonRoot := firstBool(sc.RunAsNonRoot, psc.RunAsNonRoot)
			uid := firstInt(sc.RunAsUser, psc.RunAsUser)
			if w.Component == "shipper" {
				// uid 0 without capabilities: reads root-owned 0640 log
				// files through the owner bits (see the Dockerfile).
				if uid == nil || *uid != 0 {
					tb.Errorf("%s: runAsUser = %v, want explicit 0", where, deref(uid))
				}
				continue
			}
			if nonRoot == nil || !*nonRoot {
				tb.Errorf("%s: runAsNonRoot = %v, want true", where, deref(nonRoot))
			}
			if uid == nil || *uid == 0 {
				tb.Errorf("%s: runAsUser = %v, want a non-zero uid", where, deref(uid))
			}
		}
	}
}

func firstBool(ps ...*bool) *bool {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

func firstInt(ps ...*int64) *int64 {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

const stateDir = "/var/lib/sluice"

// checkHostMounts: only the shipper touches the host; the log directories
// and every other host path are mounted read-only, the checkpoint directory
// being the single writable exception.
func checkHostMounts(tb testing.TB, r *release) {
	for _, w := range workloads(r) {
		spec := w.Template.Spec
		hostVols := map[string]string{}
		for _, v := range spec.Volumes {
			if v.HostPath != nil {
				hostVols[v.Name] = v.HostPath.Path
			}
		}
		if w.Component != "shipper" {
			if len(hostVols) > 0 {
				tb.Errorf("%s: hostPath volumes %v", w.Name, hostVols)
			}
			continue
		}
		mounted := map[string]string{}
		for _, c := range allContainers(spec) {
			for _, m := range c.VolumeMounts {
				path, ok := hostVols[m.Name]
				if !ok {
					continue
				}
				if m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone {
					tb.Errorf("%s: host mount %s has propagation %s", w.Name, m.MountPath, *m.MountPropagation)
				}
				if m.MountPath == stateDir && m.Name == "state" {
					if strings.HasPrefix(path, "/var/log") || path == "/" {
						tb.Errorf("%s: state hostPath %q overlaps the log directories", w.Name, path)
					}
					continue
				}
				if !m.ReadOnly {
					tb.Errorf("%s: hostPath %s mounted read-write at %s", w.Name, path, m.MountPath)
				}
				mounted[m.MountPath] = path
			}
		}
		for _, p := range []string{"/var/log/pods", "/var/log/containers"} {
			if mounted[p] != p {
				tb.Errorf("%s: %s is not mounted read-only from the host's %s (mounts: %v)", w.Name, p, p, mounted)
			}
		}
		stateType := valueString(tb, r, "shipper.state.type")
		var state *corev1.Volume
		for i := range spec.Volumes {
			if spec.Volumes[i].Name == "state" {
				state = &spec.Volumes[i]
			}
		}
		switch {
		case state == nil:
			tb.Errorf("%s: no state volume", w.Name)
		case stateType == "hostPath" && (state.HostPath == nil || state.HostPath.Path != valueString(tb, r, "shipper.state.hostPath")):
			tb.Errorf("%s: state volume %+v, want hostPath %s", w.Name, state.VolumeSource, valueString(tb, r, "shipper.state.hostPath"))
		case stateType == "emptyDir" && state.EmptyDir == nil:
			tb.Errorf("%s: state volume %+v, want emptyDir", w.Name, state.VolumeSource)
		}
		env := containerEnv(tb, spec.Containers[0])
		if env["NODE_NAME"] != fakeNodeName {
			tb.Errorf("%s: NODE_NAME does not come from spec.nodeName", w.Name)
		}
	}
}

// checkProbesAndResources: gRPC liveness and readiness on the admin port,
// the admin and metrics ports declared, requests and a memory limit set.
func checkProbesAndResources(tb testing.TB, r *release) {
	for _, w := range workloads(r) {
		for _, c := range w.Template.Spec.Containers {
			where := w.Name + "/" + c.Name
			for kind, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if p == nil || p.GRPC == nil || p.GRPC.Port != 9090 {
					tb.Errorf("%s: %s probe = %+v, want grpc on 9090", where, kind, p)
				}
			}
			ports := map[string]int32{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			if !reflect.DeepEqual(ports, map[string]int32{"admin": 9090, "metrics": 9091}) {
				tb.Errorf("%s: ports %v, want admin 9090 and metrics 9091", where, ports)
			}
			req, lim := c.Resources.Requests, c.Resources.Limits
			if req.Cpu().IsZero() || req.Memory().IsZero() {
				tb.Errorf("%s: requests %v, want cpu and memory", where, req)
			}
			if lim.Memory().IsZero() {
				tb.Errorf("%s: limits %v, want a memory limit", where, lim)
			}
			if !lim.Memory().IsZero() && lim.Memory().Cmp(*req.Memory()) < 0 {
				tb.Errorf("%s: memory limit below request", where)
			}
		}
	}
}

var requiredLabels = []string{
	"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
	"app.kubernetes.io/version", "app.kubernetes.io/managed-by",
}

// checkLabels: every object carries the standard labels with valid values
// and a valid name.
func checkLabels(tb testing.TB, r *release) {
	for _, m := range r.Manifests {
		var meta metav1.Object
		if o, ok := m.Obj.(metav1.Object); ok {
			meta = o
		} else if sm, ok := m.Obj.(*serviceMonitor); ok {
			meta = &sm.ObjectMeta
		}
		where := m.Kind + "/" + m.Name
		for _, msg := range validation.IsDNS1123Subdomain(meta.GetName()) {
			tb.Errorf("%s: name: %s", where, msg)
		}
		if ns := meta.GetNamespace(); m.Kind != "ClusterRole" && m.Kind != "ClusterRoleBinding" && ns != releaseNS {
			tb.Errorf("%s: namespace %q, want %q", where, ns, releaseNS)
		}
		lbl := meta.GetLabels()
		for _, k := range requiredLabels {
			if lbl[k] == "" {
				tb.Errorf("%s: label %s missing", where, k)
			}
		}
		for k, v := range lbl {
			for _, msg := range validation.IsQualifiedName(k) {
				tb.Errorf("%s: label key %q: %s", where, k, msg)
			}
			for _, msg := range validation.IsValidLabelValue(v) {
				tb.Errorf("%s: label %s=%q: %s", where, k, v, msg)
			}
		}
		if lbl["app.kubernetes.io/instance"] != releaseName || lbl["app.kubernetes.io/managed-by"] != "Helm" ||
			lbl["app.kubernetes.io/name"] != "sluice" || !(slices.Contains(components, lbl["app.kubernetes.io/component"]) || lbl["app.kubernetes.io/component"] == "monitoring") {
			tb.Errorf("%s: labels %v", where, lbl)
		}
	}
}

// stableSelectorKeys are the only labels a selector may use: selectors are
// immutable, so one naming the version would break every upgrade.
var stableSelectorKeys = []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}

// checkSelectors: workload selectors match their pod templates and use
// stable labels; Services, PDBs, NetworkPolicies and ServiceMonitors select
// exactly the component they are for; named ports exist.
func checkSelectors(tb testing.TB, r *release) {
	ws := workloads(r)
	// matching returns the workloads whose pods sel selects.
	matching := func(sel labels.Selector) []workload {
		var out []workload
		for _, w := range ws {
			if sel.Matches(labels.Set(w.Template.Labels)) {
				out = append(out, w)
			}
		}
		return out
	}
	for _, w := range ws {
		sel := selectorOf(tb, w.Selector)
		if !sel.Matches(labels.Set(w.Template.Labels)) {
			tb.Errorf("%s: selector %v does not match its pod labels %v", w.Name, sel, w.Template.Labels)
		}
		for k := range w.Selector.MatchLabels {
			if !slices.Contains(stableSelectorKeys, k) {
				tb.Errorf("%s: selector uses unstable label %s", w.Name, k)
			}
		}
		if len(w.Selector.MatchExpressions) > 0 {
			tb.Errorf("%s: selector has matchExpressions", w.Name)
		}
		if got := matching(sel); len(got) != 1 {
			tb.Errorf("%s: selector matches %d workloads' pods", w.Name, len(got))
		}
		if w.Template.Labels["app.kubernetes.io/component"] != w.Component {
			tb.Errorf("%s: pod component label %q, object label %q", w.Name, w.Template.Labels["app.kubernetes.io/component"], w.Component)
		}
	}
	services := map[string]*corev1.Service{}
	for _, s := range objects[corev1.Service](r) {
		services[s.Name] = s
		if len(s.Spec.Selector) == 0 {
			tb.Errorf("Service %s: no selector", s.Name)
			continue
		}
		got := matching(labels.SelectorFromSet(s.Spec.Selector))
		if len(got) != 1 || got[0].Component != s.Labels["app.kubernetes.io/component"] {
			tb.Errorf("Service %s selects %d workloads, want exactly its component's", s.Name, len(got))
			continue
		}
		ports := map[string]bool{}
		for _, c := range got[0].Template.Spec.Containers {
			for _, p := range c.Ports {
				ports[p.Name] = true
			}
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.StrVal == "" || !ports[p.TargetPort.StrVal] {
				tb.Errorf("Service %s port %s: targetPort %v is not a named port of the pods", s.Name, p.Name, p.TargetPort.String())
			}
		}
	}
	for _, pdb := range objects[policyv1.PodDisruptionBudget](r) {
		got := matching(selectorOf(tb, pdb.Spec.Selector))
		if len(got) != 1 || got[0].Kind != "Deployment" {
			tb.Errorf("PDB %s selects %d workloads, want one Deployment", pdb.Name, len(got))
		}
		if (pdb.Spec.MinAvailable == nil) == (pdb.Spec.MaxUnavailable == nil) {
			tb.Errorf("PDB %s: set exactly one of minAvailable and maxUnavailable", pdb.Name)
		}
	}
	for _, np := range objects[networkingv1.NetworkPolicy](r) {
		got := matching(selectorOf(tb, &np.Spec.PodSelector))
		if len(got) != 1 || got[0].Component != np.Labels["app.kubernetes.io/component"] {
			tb.Errorf("NetworkPolicy %s selects %d workloads, want exactly its component's", np.Name, len(got))
		}
	}
	for _, sm := range objects[serviceMonitor](r) {
		sel := selectorOf(tb, &sm.Spec.Selector)
		var hit []*corev1.Service
		for _, s := range services {
			if sel.Matches(labels.Set(s.Labels)) {
				hit = append(hit, s)
			}
		}
		if len(hit) != 1 {
			tb.Errorf("ServiceMonitor %s selects %d Services, want 1", sm.Name, len(hit))
			continue
		}
		if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{releaseNS}) {
			tb.Errorf("ServiceMonitor %s: namespaceSelector %+v", sm.Name, sm.Spec.NamespaceSelector)
		}
		for _, ep := range sm.Spec.Endpoints {
			if !slices.ContainsFunc(hit[0].Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
				tb.Errorf("ServiceMonitor %s: port %q not on Service %s", sm.Name, ep.Port, hit[0].Name)
			}
		}
	}
	// Volumes name objects that exist (ConfigMaps) or that the values name (Secrets).
	cms := map[string]bool{}
	for _, cm := range objects[corev1.ConfigMap](r) {
		cms[cm.Name] = true
	}
	secrets := map[string]bool{}
	for _, p := range []string{"kafka.tls.existingSecret", "elasticsearch.tls.caSecret", "adminAuth.existingSecret"} {
		if s := valueString(tb, r, p); s != "" {
			secrets[s] = true
		}
	}
	for _, w := range ws {
		for _, v := range w.Template.Spec.Volumes {
			if v.ConfigMap != nil && !cms[v.ConfigMap.Name] {
				tb.Errorf("%s: volume %s names ConfigMap %q, which the chart does not create", w.Name, v.Name, v.ConfigMap.Name)
			}
			if v.Secret != nil && !secrets[v.Secret.SecretName] {
				tb.Errorf("%s: volume %s names Secret %q, not from the values", w.Name, v.Name, v.Secret.SecretName)
			}
		}
	}
}

// checkAutoscaling: HPAs target existing Deployments, which then leave
// replicas to the HPA; the lag metric appears only when asked for.
func checkAutoscaling(tb testing.TB, r *release) {
	hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
	for _, h := range objects[autoscalingv2.HorizontalPodAutoscaler](r) {
		hpas[h.Spec.ScaleTargetRef.Name] = h
	}
	for _, c := range []string{"parser", "indexer"} {
		w := workloadFor(tb, r, c)
		h, has := hpas[w.Name]
		if want := valueBool(tb, r, c+".autoscaling.enabled"); has != want {
			tb.Errorf("%s: HPA present = %v, autoscaling.enabled = %v", c, has, want)
			continue
		}
		if !has {
			if w.Replicas == nil || *w.Replicas != valueInt(tb, r, c+".replicas") {
				tb.Errorf("%s: replicas = %v without autoscaling", c, deref(w.Replicas))
			}
			continue
		}
		delete(hpas, w.Name)
		if w.Replicas != nil {
			tb.Errorf("%s: Deployment sets replicas although an HPA owns them", c)
		}
		if h.Spec.ScaleTargetRef != (autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: w.Name}) {
			tb.Errorf("%s: scaleTargetRef %+v", c, h.Spec.ScaleTargetRef)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			tb.Errorf("%s: replicas %v..%d", c, deref(h.Spec.MinReplicas), h.Spec.MaxReplicas)
		}
		types := map[autoscalingv2.MetricSourceType]int{}
		for _, m := range h.Spec.Metrics {
			types[m.Type]++
			if m.Type == autoscalingv2.ResourceMetricSourceType && (m.Resource == nil || m.Resource.Name != corev1.ResourceCPU || m.Resource.Target.AverageUtilization == nil) {
				tb.Errorf("%s: resource metric %+v", c, m.Resource)
			}
			if m.Type == autoscalingv2.ExternalMetricSourceType && (m.External == nil || m.External.Target.AverageValue == nil || m.External.Metric.Name == "") {
				tb.Errorf("%s: external metric %+v", c, m.External)
			}
		}
		wantExternal := 0
		if valueBool(tb, r, c+".autoscaling.kafkaLag.enabled") {
			wantExternal = 1
		}
		if types[autoscalingv2.ResourceMetricSourceType] != 1 || types[autoscalingv2.ExternalMetricSourceType] != wantExternal {
			tb.Errorf("%s: metrics %v, want 1 CPU and %d external", c, types, wantExternal)
		}
	}
	for name := range hpas {
		tb.Errorf("HPA targets %s, which is not a parser or indexer Deployment", name)
	}
}

// checkNetworkPolicies: ingress only to the admin and metrics ports from
// configured peers; egress only to DNS, Kafka, and the API server (shipper)
// or the search engine (indexer), every rule port-restricted.
func checkNetworkPolicies(tb testing.TB, r *release) {
	nps := objects[networkingv1.NetworkPolicy](r)
	if !valueBool(tb, r, "networkPolicy.enabled") {
		if len(nps) != 0 {
			tb.Errorf("%d NetworkPolicies with networkPolicy.enabled=false", len(nps))
		}
		return
	}
	if len(nps) != len(workloads(r)) {
		tb.Fatalf("%d NetworkPolicies for %d workloads", len(nps), len(workloads(r)))
	}
	dns := valueInts(tb, r, "networkPolicy.dns.ports")
	kafka := valueInts(tb, r, "networkPolicy.kafka.ports")
	allowed := map[string][]int32{
		"shipper": slices.Concat(dns, kafka, valueInts(tb, r, "networkPolicy.apiServer.ports")),
		"parser":  slices.Concat(dns, kafka),
		"indexer": slices.Concat(dns, kafka, valueInts(tb, r, "networkPolicy.elasticsearch.ports")),
	}
	for _, np := range nps {
		c := np.Labels["app.kubernetes.io/component"]
		if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
			tb.Errorf("%s: policyTypes %v", np.Name, np.Spec.PolicyTypes)
		}
		for _, in := range np.Spec.Ingress {
			if len(in.From) == 0 {
				tb.Errorf("%s: ingress rule open to every source: %+v", np.Name, in)
			}
			for _, p := range in.Ports {
				if p.Port == nil || (p.Port.StrVal != "admin" && p.Port.StrVal != "metrics") {
					tb.Errorf("%s: ingress to port %v, want admin or metrics only", np.Name, p.Port)
				}
			}
			if len(in.Ports) == 0 {
				tb.Errorf("%s: ingress rule for every port", np.Name)
			}
			for _, peer := range in.From {
				if peer.IPBlock == nil && peer.NamespaceSelector == nil && peer.PodSelector == nil {
					tb.Errorf("%s: empty ingress peer", np.Name)
				}
			}
		}
		ports := map[int32]bool{}
		for _, e := range np.Spec.Egress {
			if len(e.Ports) == 0 {
				tb.Errorf("%s: egress rule to every port: %+v", np.Name, e)
			}
			for _, p := range e.Ports {
				if p.Port == nil || p.Port.IntVal == 0 {
					tb.Errorf("%s: egress port %v, want a number", np.Name, p.Port)
					continue
				}
				ports[p.Port.IntVal] = true
				if !slices.Contains(allowed[c], p.Port.IntVal) {
					tb.Errorf("%s: egress to port %d, allowed %v", np.Name, p.Port.IntVal, allowed[c])
				}
			}
		}
		for _, p := range slices.Concat(dns, kafka) {
			if !ports[p] {
				tb.Errorf("%s: no egress to port %d (DNS/Kafka)", np.Name, p)
			}
		}
	}
}

// checkImages: every image has an explicit tag that is not "latest".
func checkImages(tb testing.TB, r *release) {
	for _, w := range workloads(r) {
		for _, c := range allContainers(w.Template.Spec) {
			checkImageRef(tb, w.Name+"/"+c.Name, c.Image)
		}
	}
}

func checkImageRef(tb testing.TB, where, image string) {
	tb.Helper()
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		tb.Errorf("%s: image %q: %v", where, image, err)
		return
	}
	if _, ok := ref.(reference.Digested); ok {
		return
	}
	tagged, ok := ref.(reference.Tagged)
	if !ok || tagged.Tag() == "" {
		tb.Errorf("%s: image %q has no tag", where, image)
	} else if tagged.Tag() == "latest" {
		tb.Errorf("%s: image %q uses latest", where, image)
	}
}

const fakeNodeName = "node-1"

// fakeSecret is what a secretKeyRef resolves to in the tests.
// fakePodName stands for the downward API's metadata.name.
const fakePodName = "sluice-pod-0"

func fakeSecret(name, key string) string { return "secret:" + name + "/" + key }

// containerEnv resolves a container's environment the way the kubelet
// would, with fake values for Secrets and the node name.
func containerEnv(tb testing.TB, c corev1.Container) map[string]string {
	tb.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = fakeSecret(e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName":
			env[e.Name] = fakeNodeName
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = fakePodName
		default:
			tb.Errorf("%s: env %s from unexpected source %+v", c.Name, e.Name, e.ValueFrom)
		}
	}
	return env
}

// renderedConfig is a component's config as its pod sees it.
type renderedConfig struct {
	Doc       []byte
	Env       map[string]string
	Container corev1.Container
	Workload  workload
}

func componentConfig(tb testing.TB, r *release, component string) renderedConfig {
	tb.Helper()
	w := workloadFor(tb, r, component)
	c := w.Template.Spec.Containers[0]
	key := component + ".yaml"
	path := "/etc/sluice/" + key
	if !slices.Contains(c.Args, path) {
		tb.Errorf("%s: args %v do not name %s", w.Name, c.Args, path)
	}
	var cmName string
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		if !m.ReadOnly || m.SubPath != key {
			tb.Errorf("%s: config mount %+v, want read-only subPath %s", w.Name, m, key)
		}
		for _, v := range w.Template.Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				cmName = v.ConfigMap.Name
			}
		}
	}
	for _, cm := range objects[corev1.ConfigMap](r) {
		if cm.Name == cmName {
			doc, ok := cm.Data[key]
			if !ok {
				tb.Fatalf("ConfigMap %s has no key %s", cm.Name, key)
			}
			return renderedConfig{Doc: []byte(doc), Env: containerEnv(tb, c), Container: c, Workload: w}
		}
	}
	tb.Fatalf("%s: no ConfigMap mounted at %s", w.Name, path)
	return renderedConfig{}
}

// loadRendered runs the service's own config loader on a rendered config.
func loadRendered(tb testing.TB, component string, rc renderedConfig) (any, error) {
	tb.Helper()
	file := writeTemp(tb, component+".yaml", rc.Doc)
	return loadServiceConfig(tb, component, file, rc.Doc, rc.Env)
}

// checkServiceConfigs: each ConfigMap, with the pod's environment, passes
// the service's own config.Load/Validate and says what the values say.
func checkServiceConfigs(tb testing.TB, r *release) {
	brokers := valueStrings(tb, r, "kafka.brokers")
	for _, component := range components {
		rc := componentConfig(tb, r, component)
		cfg, err := loadRendered(tb, component, rc)
		if err != nil {
			tb.Errorf("%s config does not load: %v\n%s", component, err, rc.Doc)
			continue
		}
		var kafka libconfig.Kafka
		var admin libconfig.Admin
		var files []string
		switch c := cfg.(type) {
		case shipperconfig.Config:
			kafka, admin = c.Kafka.Kafka, c.Admin
			if c.Node != fakeNodeName {
				tb.Errorf("shipper node = %q, want the pod's node name", c.Node)
			}
			if !c.Kubernetes.Enabled {
				tb.Errorf("shipper kubernetes.enabled = false in the chart")
			}
			if !strings.HasPrefix(c.State.Path, stateDir+"/") {
				tb.Errorf("shipper state.path %q is not in the state volume %s", c.State.Path, stateDir)
			}
		case parserconfig.Config:
			kafka, admin = c.Kafka.Kafka, c.Admin
		case indexerconfig.Config:
			kafka, admin = c.Kafka.Kafka, c.Admin
			es := c.Elasticsearch
			if want := valueStrings(tb, r, "elasticsearch.urls"); !slices.Equal(es.URLs, want) {
				tb.Errorf("indexer urls = %v, want %v", es.URLs, want)
			}
			if want := valueString(tb, r, "elasticsearch.flavor"); es.Flavor != want {
				tb.Errorf("indexer flavor = %q, want %q", es.Flavor, want)
			}
			secret := valueString(tb, r, "elasticsearch.auth.existingSecret")
			switch valueString(tb, r, "elasticsearch.auth.type") {
			case "none":
				if es.Username != "" || es.Password != "" || es.APIKey != "" {
					tb.Errorf("indexer has credentials with auth.type none")
				}
			case "basic":
				if es.Username != fakeSecret(secret, valueString(tb, r, "elasticsearch.auth.usernameKey")) ||
					es.Password != fakeSecret(secret, valueString(tb, r, "elasticsearch.auth.passwordKey")) {
					tb.Errorf("indexer basic auth = %q/%q, not from Secret %s", es.Username, es.Password, secret)
				}
			case "apiKey":
				if es.APIKey != fakeSecret(secret, valueString(tb, r, "elasticsearch.auth.apiKeyKey")) {
					tb.Errorf("indexer api_key = %q, not from Secret %s", es.APIKey, secret)
				}
			}
			if (es.CAFile != "") != (valueString(tb, r, "elasticsearch.tls.caSecret") != "") {
				tb.Errorf("indexer ca_file = %q with tls.caSecret %q", es.CAFile, valueString(tb, r, "elasticsearch.tls.caSecret"))
			}
			files = append(files, es.CAFile)
		}
		if !slices.Equal(kafka.Brokers, brokers) {
			tb.Errorf("%s brokers = %v, want %v", component, kafka.Brokers, brokers)
		}
		if kafka.TLS.Enabled != valueBool(tb, r, "kafka.tls.enabled") {
			tb.Errorf("%s kafka.tls.enabled = %v", component, kafka.TLS.Enabled)
		}
		if mech := valueString(tb, r, "kafka.sasl.mechanism"); kafka.SASL.Mechanism != mech {
			tb.Errorf("%s kafka.sasl.mechanism = %q, want %q", component, kafka.SASL.Mechanism, mech)
		} else if mech != "" {
			secret := valueString(tb, r, "kafka.sasl.existingSecret")
			if kafka.SASL.Username != fakeSecret(secret, valueString(tb, r, "kafka.sasl.usernameKey")) ||
				kafka.SASL.Password != fakeSecret(secret, valueString(tb, r, "kafka.sasl.passwordKey")) {
				tb.Errorf("%s SASL credentials %q/%q are not from Secret %s", component, kafka.SASL.Username, kafka.SASL.Password, secret)
			}
		}
		if (admin.TokenFile != "") != (valueString(tb, r, "adminAuth.existingSecret") != "") {
			tb.Errorf("%s admin.token_file = %q with adminAuth.existingSecret %q", component, admin.TokenFile, valueString(tb, r, "adminAuth.existingSecret"))
		}
		if admin.Listen != ":9090" || admin.MetricsListen != ":9091" {
			tb.Errorf("%s admin listens on %q/%q; the probes, Services and NetworkPolicies expect :9090/:9091", component, admin.Listen, admin.MetricsListen)
		}
		files = append(files, kafka.TLS.CAFile, kafka.TLS.CertFile, kafka.TLS.KeyFile, admin.TokenFile)
		// Every file the config names is on a read-only Secret mount.
		for _, f := range files {
			if f != "" && !onSecretMount(rc, f) {
				tb.Errorf("%s: config names %s, which no read-only Secret volume provides", component, f)
			}
		}
		if strings.Contains(string(rc.Doc), "secret:") {
			tb.Errorf("%s: a credential value ended up in the ConfigMap", component)
		}
	}
}

func onSecretMount(rc renderedConfig, file string) bool {
	for _, m := range rc.Container.VolumeMounts {
		if !m.ReadOnly || !strings.HasPrefix(file, m.MountPath+"/") {
			continue
		}
		for _, v := range rc.Workload.Template.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return true
			}
		}
	}
	return false
}

// checkConfigVerbatim: with default values each ConfigMap is the shared
// file byte for byte, the one docker-compose.yml mounts.
func checkConfigVerbatim(tb testing.TB, r *release) {
	for _, component := range components {
		rc := componentConfig(tb, r, component)
		want := readFile(tb, configFiles[component])
		if strings.TrimRight(string(rc.Doc), "\n") != strings.TrimRight(string(want), "\n") {
			tb.Errorf("%s ConfigMap differs from %s:\n%s", component, configFiles[component], rc.Doc)
		}
	}
}

func checkNotes(tb testing.TB, r *release) {
	for _, want := range []string{releaseName, releaseNS, "sluicectl"} {
		if !strings.Contains(r.Notes, want) {
			tb.Errorf("NOTES.txt does not mention %q:\n%s", want, r.Notes)
		}
	}
}
