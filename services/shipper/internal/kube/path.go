// Package kube attaches Kubernetes metadata to log lines: from the kubelet's
// file names always, and from the API server when it is configured and
// reachable.
package kube

import (
	"path/filepath"
	"strings"
)

// Meta is the metadata of one container log file.
type Meta struct {
	Namespace   string
	Pod         string
	PodUID      string
	Container   string
	ContainerID string
}

// FromPath derives metadata from the kubelet's file naming:
//
//	/var/log/containers/<pod>_<namespace>_<container>-<container id>.log
//	/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log[.<rotation>[.gz]]
//
// Pod and namespace names cannot contain "_" (they are DNS labels or
// subdomains), which is what makes the names unambiguous.
func FromPath(path string) (Meta, bool) {
	dir, base := filepath.Split(path)
	if strings.HasSuffix(base, ".log") && strings.Count(base, "_") == 2 {
		name := strings.TrimSuffix(base, ".log")
		parts := strings.SplitN(name, "_", 3)
		m := Meta{Pod: parts[0], Namespace: parts[1]}
		rest := parts[2]
		// The container id is 64 hex digits after the last dash.
		if i := strings.LastIndexByte(rest, '-'); i > 0 && isHex(rest[i+1:]) && len(rest)-i-1 >= 12 {
			m.Container, m.ContainerID = rest[:i], rest[i+1:]
		} else {
			m.Container = rest
		}
		if m.Pod != "" && m.Namespace != "" && m.Container != "" {
			return m, true
		}
	}
	// /var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log
	container := filepath.Base(filepath.Clean(dir))
	podDir := filepath.Base(filepath.Dir(filepath.Clean(dir)))
	if parts := strings.Split(podDir, "_"); len(parts) == 3 && container != "" && container != "." {
		return Meta{Namespace: parts[0], Pod: parts[1], PodUID: parts[2], Container: container}, true
	}
	return Meta{}, false
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
