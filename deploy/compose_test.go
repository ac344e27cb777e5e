package deploy

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

var (
	composeOnce    sync.Once
	composeProject *types.Project
	composeErr     error
)

// loadCompose loads docker-compose.yml with compose-go, as `docker compose`
// does: schema validation, interpolation, normalization, consistency checks.
// The machine's environment is left out so the result is the same anywhere.
func loadCompose(tb testing.TB) *types.Project {
	tb.Helper()
	root := repoRoot(tb)
	composeOnce.Do(func() {
		opts, err := cli.NewProjectOptions(
			[]string{filepath.Join(root, "docker-compose.yml")},
			cli.WithWorkingDirectory(root),
			cli.WithEnv([]string{}),
			cli.WithConsistency(true),
			cli.WithResolvedPaths(true),
			cli.WithDefaultProfiles("tools"),
		)
		if err != nil {
			composeErr = err
			return
		}
		composeProject, composeErr = opts.LoadProject(context.Background())
	})
	if composeErr != nil {
		tb.Fatalf("docker-compose.yml: %v", composeErr)
	}
	return composeProject
}

// oneShots are the compose services that run to completion.
var oneShots = []string{"topics", "setup"}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	if p.Name != "sluice" {
		t.Errorf("project name %q", p.Name)
	}
	want := []string{"elasticsearch", "indexer", "kafka", "kibana", "parser", "setup", "shipper", "sluicectl", "topics", "workload"}
	if got := p.ServiceNames(); !slices.Equal(sortedCopy(got), want) {
		t.Errorf("services %v, want %v", sortedCopy(got), want)
	}
	if s := p.Services["parser"]; s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != 2 {
		t.Errorf("parser replicas = %+v, want 2", s.Deploy)
	}
	for _, name := range []string{"kafka", "elasticsearch", "kibana"} {
		hc := p.Services[name].HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 {
			t.Errorf("%s has no health check", name)
		}
	}
	for _, name := range oneShots {
		if s := p.Services[name]; s.Restart != "no" {
			t.Errorf("one-shot %s restart = %q, want \"no\"", name, s.Restart)
		}
	}
	if !strings.Contains(strings.Join(p.Services["topics"].Command, " "), "kafka-topics.sh") {
		t.Errorf("topics does not run kafka-topics.sh")
	}
	for _, topic := range []string{"logs.raw", "logs.parsed", "logs.dlq"} {
		if !strings.Contains(strings.Join(p.Services["topics"].Command, " "), topic) {
			t.Errorf("topics does not create %s", topic)
		}
	}
	if !strings.Contains(strings.Join(p.Services["setup"].Command, " "), `"title": "logs-*"`) {
		t.Errorf("setup does not create the logs-* data view")
	}
	es := p.Services["elasticsearch"].Environment
	for k, v := range map[string]string{"discovery.type": "single-node", "xpack.security.enabled": "false"} {
		if es[k] == nil || *es[k] != v {
			t.Errorf("elasticsearch %s = %v, want %s", k, es[k], v)
		}
	}
	if w := strings.Join(p.Services["workload"].Command, " "); w != "-dir /var/log/containers -rate 200" {
		t.Errorf("workload command %q", w)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestComposeImagesPinned: every image names a tag that is not latest.
func TestComposeImagesPinned(t *testing.T) {
	p := loadCompose(t)
	for name, s := range p.Services {
		if s.Image == "" {
			t.Errorf("%s: no image", name)
			continue
		}
		checkImageRef(t, name, s.Image)
	}
}

// TestComposeDependsOn: a service waits for a dependency's health check when
// it has one, for one-shots to complete, and only for a plain start
// otherwise.
func TestComposeDependsOn(t *testing.T) {
	p := loadCompose(t)
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			ds, ok := p.Services[dep]
			if !ok {
				t.Errorf("%s depends on unknown %s", name, dep)
				continue
			}
			want := types.ServiceConditionStarted
			switch {
			case slices.Contains(oneShots, dep):
				want = types.ServiceConditionCompletedSuccessfully
			case ds.HealthCheck != nil && !ds.HealthCheck.Disable:
				want = types.ServiceConditionHealthy
			}
			if d.Condition != want {
				t.Errorf("%s depends on %s with %q, want %q", name, dep, d.Condition, want)
			}
		}
	}
	needs := map[string][]string{
		"topics":  {"kafka"},
		"shipper": {"kafka", "topics"},
		"parser":  {"kafka", "topics"},
		"indexer": {"kafka", "topics", "elasticsearch"},
		"kibana":  {"elasticsearch"},
		"setup":   {"kibana", "topics"},
	}
	for name, deps := range needs {
		for _, dep := range deps {
			if _, ok := p.Services[name].DependsOn[dep]; !ok {
				t.Errorf("%s does not wait for %s", name, dep)
			}
		}
	}
}

// TestComposeConfigFiles: the services mount the chart's files/*.yaml, the
// very files the chart's defaults render, and each passes the service's own
// validation with the environment compose gives it.
func TestComposeConfigFiles(t *testing.T) {
	p := loadCompose(t)
	root := repoRoot(t)
	for _, svc := range components {
		t.Run(svc, func(t *testing.T) {
			s := p.Services[svc]
			target := "/etc/sluice/" + svc + ".yaml"
			var src string
			for _, v := range s.Volumes {
				if v.Target == target {
					if v.Type != types.VolumeTypeBind || !v.ReadOnly {
						t.Errorf("%s mounted as %s (read-only %v), want a read-only bind", target, v.Type, v.ReadOnly)
					}
					src = v.Source
				}
			}
			want := filepath.Join(root, configFiles[svc])
			if src != want {
				t.Fatalf("%s comes from %q, want the chart's %q", target, src, want)
			}
			if !slices.Contains(s.Command, target) {
				t.Errorf("command %v does not name %s", s.Command, target)
			}
			env := map[string]string{}
			for k, v := range s.Environment {
				if v != nil {
					env[k] = *v
				}
			}
			doc := readFile(t, configFiles[svc])
			if _, err := loadServiceConfig(t, svc, src, doc, env); err != nil {
				t.Fatalf("%s with compose's environment: %v", configFiles[svc], err)
			}
			if s.Build == nil || s.Build.Context != root {
				t.Errorf("build %+v, want the repository root as context", s.Build)
			}
		})
	}
}

// TestComposeHardening: the Sluice containers run read-only without
// capabilities, and nothing is published beyond the loopback interface (the
// local stack runs without authentication).
func TestComposeHardening(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"shipper", "parser", "indexer", "workload", "sluicectl"} {
		s := p.Services[name]
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) || len(s.CapAdd) > 0 || s.Privileged {
			t.Errorf("%s: read_only %v, cap_drop %v, cap_add %v, privileged %v", name, s.ReadOnly, s.CapDrop, s.CapAdd, s.Privileged)
		}
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: no no-new-privileges", name)
		}
	}
	for _, v := range p.Services["shipper"].Volumes {
		if strings.HasPrefix(v.Target, "/var/log") && !v.ReadOnly {
			t.Errorf("shipper mounts %s read-write", v.Target)
		}
	}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.Published != "" && port.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %s on %q, want 127.0.0.1", name, port.Published, port.HostIP)
			}
		}
	}
}
