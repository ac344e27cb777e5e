package kube

import "testing"

func TestFromPath(t *testing.T) {
	const id = "2e3a1b5c0d9f8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"
	tests := []struct {
		path string
		want Meta
		ok   bool
	}{
		{"/var/log/containers/web-7d9f_default_nginx-" + id + ".log", Meta{Namespace: "default", Pod: "web-7d9f", Container: "nginx", ContainerID: id}, true},
		{"/var/log/containers/app_kube-system_side-car-" + id + ".log", Meta{Namespace: "kube-system", Pod: "app", Container: "side-car", ContainerID: id}, true},
		{"/var/log/containers/app_ns_c.log", Meta{Namespace: "ns", Pod: "app", Container: "c"}, true},
		{"/var/log/pods/default_web-7d9f_0f1e2d3c-aaaa-bbbb-cccc-123456789abc/nginx/0.log", Meta{Namespace: "default", Pod: "web-7d9f", PodUID: "0f1e2d3c-aaaa-bbbb-cccc-123456789abc", Container: "nginx"}, true},
		{"/var/log/pods/default_web_uid/nginx/0.log.20240101-000000.gz", Meta{Namespace: "default", Pod: "web", PodUID: "uid", Container: "nginx"}, true},
		{"/var/log/syslog", Meta{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := FromPath(tt.path)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("FromPath = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
