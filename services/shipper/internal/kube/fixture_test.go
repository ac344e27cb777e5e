package kube

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/sluice-io/sluice/libs/corpus"
)

// fixturePod is a pod of Fluent Bit's kubernetes filter tests and the
// containers its log files name.
type fixturePod struct {
	file       string
	pod        *corev1.Pod
	containers map[string]bool
}

// loadFluentBitPods reads meta/<ns>_<pod>.meta (pod JSON as the API server
// returns it; some are only the metadata, one is a list) and the
// log/<ns>/<ns>_<pod>_<container>.log names. The pods are named after their
// files, as Fluent Bit's tests serve each file for the pod its name says.
func loadFluentBitPods(t *testing.T, dir string) (map[string]*fixturePod, *corev1.Namespace) {
	t.Helper()
	pods := map[string]*fixturePod{}
	metas, err := filepath.Glob(filepath.Join(dir, "meta", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var ns *corev1.Namespace
	for _, f := range metas {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		if strings.HasSuffix(base, ".namespace_meta") {
			ns = &corev1.Namespace{}
			if err := json.Unmarshal(data, ns); err != nil {
				t.Fatalf("%s: %v", base, err)
			}
			continue
		}
		var raw struct {
			corev1.Pod
			Items []corev1.Pod `json:"items"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		pod := raw.Pod.DeepCopy()
		if len(raw.Items) > 0 {
			pod = raw.Items[0].DeepCopy()
		}
		if name, ok := strings.CutSuffix(base, ".meta"); ok {
			nsName, podName, ok := strings.Cut(name, "_")
			if !ok {
				continue
			}
			pod.Namespace, pod.Name = nsName, podName
		} else if pod.Name == "" || pod.Namespace == "" {
			continue
		}
		if pod.UID == "" {
			pod.UID = types.UID("uid-fixture-" + pod.Name)
		}
		pod.Spec.NodeName = testNode
		fp := &fixturePod{file: base, pod: pod, containers: map[string]bool{}}
		for _, c := range pod.Spec.Containers {
			fp.containers[c.Name] = true
		}
		pods[pod.Namespace+"/"+pod.Name] = fp
	}
	logs, err := filepath.Glob(filepath.Join(dir, "log", "*", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range logs {
		parts := strings.SplitN(strings.TrimSuffix(filepath.Base(f), ".log"), "_", 3)
		if len(parts) != 3 {
			continue
		}
		if fp := pods[parts[0]+"/"+parts[1]]; fp != nil {
			fp.containers[parts[2]] = true
		}
	}
	return pods, ns
}

func TestFluentBitFixtures(t *testing.T) {
	dir := corpus.Dir(t, "kubernetes", "fluent-bit-filter-kubernetes")
	pods, ns := loadFluentBitPods(t, dir)
	if len(pods) < 10 {
		t.Fatalf("loaded %d fixture pods; want the corpus's ~35", len(pods))
	}
	objs := []runtime.Object{}
	if ns != nil {
		objs = append(objs, ns)
	}
	for _, fp := range pods {
		objs = append(objs, fp.pod.DeepCopy())
	}
	copied := []string{"fluentbit.io/*", "prometheus.io/*"}
	w := startWatcher(t, fake.NewClientset(objs...), WatcherConfig{Annotations: copied}, nil)

	lookups, enriched := 0, 0
	for _, fp := range pods {
		pod := fp.pod
		for c := range fp.containers {
			path := "/var/log/containers/" + pod.Name + "_" + pod.Namespace + "_" + c + ".log"
			m, ok := FromPath(path)
			if !ok || m.Pod != pod.Name || m.Container != c {
				t.Errorf("%s: FromPath(%q) = %+v", fp.file, path, m)
				continue
			}
			k, hint, exclude := w.Lookup(path, m)
			lookups++
			if k.GetPodUid() == string(pod.UID) {
				enriched++
			} else {
				t.Errorf("%s %s: pod uid %q; want %q (pod not found)", fp.file, c, k.GetPodUid(), pod.UID)
			}
			if !maps.Equal(k.GetLabels(), pod.Labels) {
				t.Errorf("%s %s: labels %v; want %v", fp.file, c, k.GetLabels(), pod.Labels)
			}
			want := map[string]string{}
			for name, v := range pod.Annotations {
				if strings.HasPrefix(name, "fluentbit.io/") || strings.HasPrefix(name, "prometheus.io/") || strings.HasPrefix(name, "sluice.io/") {
					want[name] = v
				}
			}
			if !maps.Equal(k.GetAnnotations(), want) && (len(want) > 0 || len(k.GetAnnotations()) > 0) {
				t.Errorf("%s %s: annotations %v; want %v", fp.file, c, k.GetAnnotations(), want)
			}
			var specImage, statusImage, statusID string
			for _, s := range pod.Spec.Containers {
				if s.Name == c {
					specImage = s.Image
				}
			}
			for _, s := range pod.Status.ContainerStatuses {
				if s.Name == c {
					statusImage, statusID = s.Image, s.ContainerID
				}
			}
			wantImage := statusImage
			if wantImage == "" {
				wantImage = specImage
			}
			if k.GetImage() != wantImage {
				t.Errorf("%s %s: image %q; want %q (spec %q, status %q)", fp.file, c, k.GetImage(), wantImage, specImage, statusImage)
			}
			if _, id, _ := strings.Cut(statusID, "://"); k.GetContainerId() != id {
				t.Errorf("%s %s: container id %q; want %q", fp.file, c, k.GetContainerId(), id)
			}
			if ns != nil && pod.Namespace == ns.Name && !maps.Equal(k.GetNamespaceLabels(), ns.Labels) {
				t.Errorf("%s: namespace labels %v; want %v", fp.file, k.GetNamespaceLabels(), ns.Labels)
			}
			// The fixtures annotate for Fluent Bit, not for Sluice.
			if hint != "" || exclude {
				t.Errorf("%s %s: hint %q exclude %v from fluentbit.io annotations", fp.file, c, hint, exclude)
			}
		}
	}
	t.Logf("%d fixture pods, %d lookups, %d enriched", len(pods), lookups, enriched)

	// What the fixtures say in so many words.
	for _, tt := range []struct {
		pod, container, file, image, id, ownerKind, ownerName string
	}{
		// restartCount 20: 20.log is the running container's, 19.log the
		// one before (lastState), 0.log one whose id is no longer known.
		{"default/kairosdb-914055854-b63vq", "kairosdb", "20.log", "davradocker/docker-kairosdb:1.1.1_9",
			"02d45318f220ad01109d13df31fbbb0668b87fdd06ef6607abfdecf5eba4b311", "Deployment", "kairosdb"},
		{"default/kairosdb-914055854-b63vq", "kairosdb", "19.log", "davradocker/docker-kairosdb:1.1.1_9",
			"5bc9f63b02c09d7726ed3669f734b365f90e077e77a88c4a2f004459772bf912", "Deployment", "kairosdb"},
		{"default/kairosdb-914055854-b63vq", "kairosdb", "0.log", "davradocker/docker-kairosdb:1.1.1_9",
			"", "Deployment", "kairosdb"},
		{"core/base-with-owner-references", "fluent-bit", "0.log", "fluent/fluent-bit:latest",
			"c9898099f6d235126d564ed38a020007ea7a6fac6e25e718de683c9dd0076c16", "DaemonSet", "fluentbit-max"},
		{"core/base", "fluent-bit", "0.log", "fluent/fluent-bit:latest",
			"c9898099f6d235126d564ed38a020007ea7a6fac6e25e718de683c9dd0076c16", "", ""},
		{"core/uat-myapp-12345", "container", "0.log", "", "", "", ""},
	} {
		fp := pods[tt.pod]
		if fp == nil {
			t.Errorf("fixture pod %s not loaded", tt.pod)
			continue
		}
		path := "/var/log/pods/" + fp.pod.Namespace + "_" + fp.pod.Name + "_" + string(fp.pod.UID) + "/" + tt.container + "/" + tt.file
		k, _, _ := w.Lookup(path, mustFromPath(t, path))
		if k.GetImage() != tt.image || k.GetContainerId() != tt.id || k.GetOwnerKind() != tt.ownerKind || k.GetOwnerName() != tt.ownerName {
			t.Errorf("%s %s: image %q id %q owner %s/%s; want %q %q %s/%s", tt.pod, tt.file,
				k.GetImage(), k.GetContainerId(), k.GetOwnerKind(), k.GetOwnerName(), tt.image, tt.id, tt.ownerKind, tt.ownerName)
		}
		if len(fp.pod.Labels) > 0 && !maps.Equal(k.GetLabels(), fp.pod.Labels) {
			t.Errorf("%s: labels %v; want %v", tt.pod, k.GetLabels(), fp.pod.Labels)
		}
	}
	// kubernetes.io/created-by is not asked for: not copied.
	if k, _, _ := w.Lookup("", Meta{Namespace: "default", Pod: "kairosdb-914055854-b63vq", Container: "kairosdb"}); k.GetAnnotations()["kubernetes.io/created-by"] != "" {
		t.Error("an annotation not asked for was copied")
	}
}

func mustFromPath(t *testing.T, path string) Meta {
	t.Helper()
	m, ok := FromPath(path)
	if !ok {
		t.Fatalf("FromPath(%q) failed", path)
	}
	return m
}
