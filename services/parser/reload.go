package parser

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	libconfig "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/services/parser/config"
)

// Reload implements admin.Service: a new rule set takes effect from the next
// batch. An empty doc re-reads the file given to WithConfigFile. A
// configuration that fails validation or compilation is refused with the
// error and the running rules stay; Kafka settings need a restart and are
// refused, naming each key that differs, if they change. A document with
// only rules, patterns and budget keeps the running Kafka settings.
func (p *Parser) Reload(_ context.Context, doc []byte) (string, error) {
	if len(doc) == 0 {
		if p.configFile == "" {
			return "", errors.New("empty configuration and no config file to re-read")
		}
		b, err := os.ReadFile(p.configFile)
		if err != nil {
			p.reloadFailures.Add(1)
			return "", err
		}
		doc = b
	}
	digest, err := p.reload(doc)
	if err != nil {
		p.reloadFailures.Add(1)
		return "", err
	}
	return digest, nil
}

// RunningConfig implements admin.ConfigSource: the configuration with the
// rules in effect.
func (p *Parser) RunningConfig() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

func (p *Parser) reload(doc []byte) (string, error) {
	p.mu.Lock()
	running := p.cfg
	p.mu.Unlock()
	base := config.NewDefault()
	rulesOnly, err := onlyReloadable(doc)
	if err != nil {
		return "", err
	}
	if rulesOnly {
		// A document of rules (and patterns, budget) alone replaces those
		// and keeps every other running setting.
		base = running
		base.Rules, base.Patterns, base.Budget = nil, nil, config.NewDefault().Budget
	}
	next, digest, err := libconfig.DecodeValidated(doc, base)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if diffs := libconfig.Diff("kafka", p.cfg.Kafka, next.Kafka); len(diffs) > 0 {
		msgs := make([]string, len(diffs))
		for i, d := range diffs {
			msgs[i] = fmt.Sprintf("%s: cannot change without a restart (was %s, now %s)", d.Key, d.Was, d.Now)
		}
		return "", errors.New(strings.Join(msgs, "; "))
	}
	engine, err := p.compile(next)
	if err != nil {
		return "", err
	}
	if digest == p.digest {
		return digest, nil
	}
	p.engine.Store(engine)
	p.cfg.Rules, p.cfg.Patterns, p.cfg.Budget = next.Rules, next.Patterns, next.Budget
	p.budget.Store(int64(next.Budget))
	p.digest = digest
	p.SetConfigDigest(digest)
	p.reloads.Add(1)
	p.log.Info("rules reloaded", "digest", digest, "rules", len(next.Rules))
	return digest, nil
}

// reloadableKeys are the top-level keys a reload applies.
var reloadableKeys = map[string]bool{"rules": true, "patterns": true, "budget": true}

// onlyReloadable reports whether doc is a mapping of reloadable keys only
// (a rules file), which is applied over the running settings rather than
// over the defaults.
func onlyReloadable(doc []byte) (bool, error) {
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(doc, &top); err != nil {
		return false, fmt.Errorf("config: %w", err)
	}
	if len(top) == 0 {
		return false, nil
	}
	for k := range top {
		if !reloadableKeys[k] {
			return false, nil
		}
	}
	return true, nil
}

// watchConfig polls the config file and reloads it when its content
// changed. The modification time and size are checked every interval and
// the content hashed only when they moved, so an unchanged file costs a
// stat; a file rewritten in place within the same second with the same
// size is still caught on the next change of either.
func (p *Parser) watchConfig(ctx context.Context) {
	var lastMod time.Time
	var lastSize int64 = -1
	var lastSum [32]byte
	if b, err := os.ReadFile(p.configFile); err == nil {
		lastSum = sha256.Sum256(b)
		if fi, err := os.Stat(p.configFile); err == nil {
			lastMod, lastSize = fi.ModTime(), fi.Size()
		}
	}
	t := time.NewTicker(p.watchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(p.configFile)
		if err != nil {
			p.log.Warn("config file watch: stat failed; keeping the running rules", "file", p.configFile, "err", err)
			continue
		}
		if fi.ModTime().Equal(lastMod) && fi.Size() == lastSize {
			continue
		}
		lastMod, lastSize = fi.ModTime(), fi.Size()
		b, err := os.ReadFile(p.configFile)
		if err != nil {
			p.log.Warn("config file watch: read failed; keeping the running rules", "file", p.configFile, "err", err)
			continue
		}
		sum := sha256.Sum256(b)
		if bytes.Equal(sum[:], lastSum[:]) {
			continue
		}
		lastSum = sum
		if _, err := p.reload(b); err != nil {
			p.reloadFailures.Add(1)
			p.log.Error("config file changed but is invalid; keeping the running rules", "file", p.configFile, "err", fmt.Sprint(err))
		}
	}
}
