package benche2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Services are the three processes in pipeline order. They start in
// reverse, consumers first, so the shipper's first records are read as soon
// as they land, and stop in this order, upstream first.
var Services = []string{"shipper", "parser", "indexer"}

// Build compiles the three service binaries from the workspace at repo
// into binDir. The go command's build cache makes a rebuild of an
// unchanged tree take about a second.
func Build(ctx context.Context, repo, binDir string) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return err
	}
	args := []string{"build", "-o", abs + string(filepath.Separator)}
	for _, s := range Services {
		args = append(args, "./services/"+s+"/cmd/"+s)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Setup is what the service configurations are generated from.
type Setup struct {
	Brokers []string
	// Prefix goes before every topic and consumer group name.
	Prefix string
	// Dir holds the configurations, the shipper's state and the logs.
	Dir string
	// PodsDir and ContainersDir are the kubelet's /var/log/pods and
	// /var/log/containers.
	PodsDir, ContainersDir string
	// SearchURL is where the indexer sends bulk requests; Flavor is
	// "elasticsearch" or "opensearch".
	SearchURL, Flavor string
	// Metrics, when set, are the services' metrics listeners by name,
	// serving pprof too (Config.Profile); otherwise they are off.
	Metrics map[string]string
	// Index, when set, is the run's own index and index template name, so
	// a run on a shared engine neither mixes with other indices nor
	// leaves data behind once it is deleted.
	Index string
}

// Topic names.
func (s Setup) rawTopic() string    { return s.Prefix + "logs.raw" }
func (s Setup) parsedTopic() string { return s.Prefix + "logs.parsed" }
func (s Setup) dlqTopic() string    { return s.Prefix + "logs.dlq" }

// Groups returns the parser's and the indexer's consumer groups.
func (s Setup) Groups() []string {
	return []string{s.Prefix + "sluice-parser", s.Prefix + "sluice-indexer"}
}

// Topics returns the raw, parsed and dead-letter topics.
func (s Setup) Topics() []string { return []string{s.rawTopic(), s.parsedTopic(), s.dlqTopic()} }

// Configs returns each service's YAML configuration. They set only what
// the benchmark must (addresses, names, paths) and keep every default the
// Helm chart ships with otherwise, so the figures are those of the default
// configuration. Admin listeners take free loopback ports; metrics
// listeners are off unless Metrics names them (with pprof on).
func (s Setup) Configs() map[string]string {
	brokers := "[" + quoteList(s.Brokers) + "]"
	commons := map[string]string{}
	for _, name := range Services {
		admin := "admin:\n  listen: \"127.0.0.1:0\"\n  metrics_listen: \"\"\n"
		if addr := s.Metrics[name]; addr != "" {
			admin = "admin:\n  listen: \"127.0.0.1:0\"\n  metrics_listen: " + q(addr) + "\n  pprof: true\n"
		}
		commons[name] = admin + "log:\n  level: info\n  format: json\n"
	}
	return map[string]string{
		"shipper": "node: bench-e2e\n" +
			"kafka:\n  brokers: " + brokers + "\n  topic: " + q(s.rawTopic()) + "\n" +
			"tail:\n  include: [" + q(filepath.Join(s.ContainersDir, "*.log")) + "]\n" +
			"  roots: [" + quoteList([]string{s.PodsDir, s.ContainersDir}) + "]\n" +
			"state:\n  path: " + q(filepath.Join(s.Dir, "state", "shipper-state.json")) + "\n" +
			"kubernetes:\n  enabled: false\n" + commons["shipper"],
		"parser": "kafka:\n  brokers: " + brokers + "\n  group: " + q(s.Groups()[0]) + "\n" +
			"  input_topic: " + q(s.rawTopic()) + "\n  output_topic: " + q(s.parsedTopic()) + "\n" +
			"  dlq_topic: " + q(s.dlqTopic()) + "\n" +
			indexLine(s.Index) +
			"rules:\n  - name: nginx\n    builtin: nginx\n" + commons["parser"],
		"indexer": "kafka:\n  brokers: " + brokers + "\n  group: " + q(s.Groups()[1]) + "\n" +
			"  topic: " + q(s.parsedTopic()) + "\n  dlq_topic: " + q(s.dlqTopic()) + "\n" +
			"output: elasticsearch\n" +
			"elasticsearch:\n  urls: [" + q(s.SearchURL) + "]\n  flavor: " + q(s.Flavor) + "\n" +
			templateLines(s.Index) + commons["indexer"],
	}
}

func indexLine(name string) string {
	if name == "" {
		return ""
	}
	return "  index: " + q(name) + "\n"
}

func templateLines(name string) string {
	if name == "" {
		return ""
	}
	return "  template_name: " + q(name) + "\n  template_patterns: [" + q(name+"*") + "]\n"
}

// q quotes a YAML scalar (a JSON string is a YAML double-quoted scalar).
func q(s string) string { return strconv.Quote(s) }

func quoteList(l []string) string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = q(s)
	}
	return strings.Join(out, ", ")
}

// Proc is a running service process.
type Proc struct {
	Name string
	Log  string // its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid once done is closed
}

// StartProc starts bin with args, its output going to logPath.
func StartProc(name, bin, logPath string, args ...string) (*Proc, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited returns a channel closed when the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.done }

// ExitErr explains how the process ended, with the end of its log.
func (p *Proc) ExitErr() error {
	tail, _ := os.ReadFile(p.Log)
	if len(tail) > 2000 {
		tail = tail[len(tail)-2000:]
	}
	return fmt.Errorf("%s exited (%v); end of %s:\n%s", p.Name, p.err, p.Log, tail)
}

// Stop asks the process to stop (SIGTERM: drain, flush, commit) and kills
// it if it has not exited after grace.
func (p *Proc) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %v and was killed", p.Name, grace)
	}
}
