package parser

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/sluice-io/sluice/services/parser/config"
)

// Reload implements admin.Service: a new rule set takes effect from the next
// batch. An empty doc re-reads the file given to WithConfigFile. A
// configuration that fails validation or compilation is refused with the
// error and the running rules stay; Kafka settings need a restart and are
// refused if they change.
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

func (p *Parser) reload(doc []byte) (string, error) {
	next, digest, err := config.Parse(doc)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !reflect.DeepEqual(next.Kafka, p.cfg.Kafka) {
		return "", errors.New("kafka: settings cannot change without a restart")
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
