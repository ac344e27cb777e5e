package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
)

// topicMaxMessageBytes is the max.message.bytes every shipped deployment
// gives the Sluice topics (the shipper's kafka.create_topics default,
// config.DefaultTopicMaxMessageBytes, is the same 8 MiB).
const topicMaxMessageBytes = "8388608"

// The topics Job is a batch/v1 Job.
func init() { kinds["batch/v1/Job"] = func() any { return &batchv1.Job{} } }

var maxMessageBytesRE = regexp.MustCompile(`max\.message\.bytes=("?)([0-9A-Za-z_${}]+)`)

// recordLimitRE also matches the broker's message.max.bytes, the default
// of every topic's max.message.bytes.
var recordLimitRE = regexp.MustCompile(`(?:max\.message\.bytes|message\.max\.bytes)=("?)([0-9A-Za-z_${}]+)`)

// TestTopicLimitsAgree: docker-compose, the Helm chart and the infra
// scripts create the topics with the same max.message.bytes. A deployment
// with a smaller one would make the services cut records that the others
// accept.
func TestTopicLimitsAgree(t *testing.T) {
	t.Run("docker-compose", func(t *testing.T) {
		p := loadCompose(t)
		svc, ok := p.Services["topics"]
		if !ok {
			t.Fatal("docker-compose.yml has no topics service")
		}
		cmd := strings.Join(svc.Command, " ")
		got := maxMessageBytesRE.FindAllStringSubmatch(cmd, -1)
		if len(got) == 0 {
			t.Fatalf("the topics job does not set max.message.bytes: %s", cmd)
		}
		for _, m := range got {
			if m[2] != topicMaxMessageBytes {
				t.Errorf("docker-compose topics job: max.message.bytes=%s, want %s", m[2], topicMaxMessageBytes)
			}
		}
	})
	t.Run("helm values", func(t *testing.T) {
		r := mustRender(t, map[string]any{})
		cfg, err := r.Values.Table("Values.kafka.topics.config")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := cfg["max.message.bytes"].(string); got != topicMaxMessageBytes {
			t.Errorf("chart kafka.topics.config max.message.bytes = %q, want %s", got, topicMaxMessageBytes)
		}
		if len(objects[batchv1.Job](r)) != 0 {
			t.Error("the topics Job renders although kafka.topics.create is false")
		}
	})
	t.Run("helm job", func(t *testing.T) {
		r := mustRender(t, valuesYAML(t, "kafka:\n  topics:\n    create: true\n"))
		jobs := objects[batchv1.Job](r)
		if len(jobs) != 1 {
			t.Fatalf("%d Jobs with kafka.topics.create, want 1", len(jobs))
		}
		script := strings.Join(jobs[0].Spec.Template.Spec.Containers[0].Args, "\n")
		for _, topic := range []string{"logs.raw", "logs.parsed", "logs.dlq"} {
			if !strings.Contains(script, `--topic "`+topic+`"`) {
				t.Errorf("the topics Job does not create %s:\n%s", topic, script)
			}
		}
		got := maxMessageBytesRE.FindAllStringSubmatch(script, -1)
		if len(got) != 3 {
			t.Fatalf("the topics Job sets max.message.bytes %d times, want once per topic:\n%s", len(got), script)
		}
		for _, m := range got {
			if m[2] != topicMaxMessageBytes {
				t.Errorf("topics Job: max.message.bytes=%s, want %s", m[2], topicMaxMessageBytes)
			}
		}
		if _, err := render(t, valuesYAML(t, "kafka:\n  topics:\n    create: true\n  sasl:\n    mechanism: plain\n    existingSecret: s\n")); err == nil {
			t.Error("the topics Job rendered for SASL brokers, which kafka-topics.sh is not configured for")
		}
	})
	// The scripts set the topics' max.message.bytes, or the brokers'
	// message.max.bytes that topics inherit; both must agree.
	t.Run("scripts/infra", func(t *testing.T) {
		scripts, err := filepath.Glob(filepath.Join(repoRoot(t), "scripts", "infra", "*.sh"))
		if err != nil || len(scripts) == 0 {
			t.Fatalf("no scripts in scripts/infra: %v", err)
		}
		// Shell variables assigned a number: NAME=digits.
		assign := regexp.MustCompile(`(?m)^\s*(?:export\s+|readonly\s+)?([A-Z_][A-Z0-9_]*)=["']?\$?\{?(?:[A-Z_]+:-)?([0-9]+)\}?["']?\s*(?:#.*)?$`)
		found := 0
		for _, s := range scripts {
			b, err := os.ReadFile(s)
			if err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{}
			for _, m := range assign.FindAllStringSubmatch(string(b), -1) {
				vars[m[1]] = m[2]
			}
			for _, m := range recordLimitRE.FindAllStringSubmatch(string(b), -1) {
				v := m[2]
				if name := strings.Trim(v, "${}"); name != v {
					v = vars[name]
				}
				found++
				if v != topicMaxMessageBytes {
					t.Errorf("%s: %s resolves to %q, want %s", filepath.Base(s), m[0], v, topicMaxMessageBytes)
				}
			}
		}
		if found == 0 {
			t.Error("no script in scripts/infra sets max.message.bytes or message.max.bytes")
		}
	})
}
