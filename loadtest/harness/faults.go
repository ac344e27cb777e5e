package harness

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Kill kills a service as kill -9 would (no drain, no commit, no
// checkpoint) at At, and restarts it downFor later. service is "shipper",
// "indexer", "parser" (a random running parser) or "any".
func Kill(at time.Duration, service string, downFor time.Duration) Step {
	return Step{At: at, Name: "kill " + service, Do: func(ctx context.Context, e *Env) error {
		name := service
		switch service {
		case "any":
			name = []string{"shipper", "parser", "indexer"}[e.Rand(3)]
		}
		if name == "parser" {
			ps := e.Parsers()
			if len(ps) == 0 {
				return nil
			}
			name = parserName(ps[e.Rand(len(ps))])
		}
		e.Event("kill -9 %s", name)
		if err := e.Stop(name, true); err != nil {
			return err
		}
		if err := sleep(ctx, downFor); err != nil {
			return err
		}
		e.Event("restart %s", name)
		return e.Start(ctx, name)
	}}
}

// BrokerOutage makes the embedded Kafka answer every Produce and Fetch
// with NOT_LEADER_FOR_PARTITION for d, through kfake control functions:
// producers and consumers retry, reading pauses, nothing may be lost.
func BrokerOutage(at, d time.Duration) Step {
	return Step{At: at, Name: "broker outage", Do: func(ctx context.Context, e *Env) error {
		emb := e.Stack.Embedded()
		if emb == nil {
			return fmt.Errorf("broker outage needs the embedded cluster")
		}
		c := emb.Cluster()
		until := time.Now().Add(d)
		for _, key := range []kmsg.Key{kmsg.Produce, kmsg.Fetch} {
			c.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
				if time.Now().After(until) {
					c.DropControl()
					return nil, nil, false
				}
				c.KeepControl()
				return failAll(req), nil, true
			})
		}
		e.Event("broker outage for %s (Produce and Fetch fail)", d)
		if err := sleep(ctx, d); err != nil {
			return err
		}
		// The control functions drop themselves on the next request.
		e.Event("broker back")
		return nil
	}}
}

// failAll answers a Produce or Fetch request with a retriable error on
// every partition it names.
func failAll(req kmsg.Request) kmsg.Response {
	code := kerr.NotLeaderForPartition.Code
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		resp := r.ResponseKind().(*kmsg.ProduceResponse)
		for _, t := range r.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	case *kmsg.FetchRequest:
		resp := r.ResponseKind().(*kmsg.FetchResponse)
		for _, t := range r.Topics {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, code
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
	return nil
}

// Search429 is a search engine 429 storm of length d: every bulk request
// is refused as a whole for the first half, then items are refused one
// by one with probability itemFraction for the second half.
func Search429(at, d time.Duration, itemFraction float64) Step {
	return Step{At: at, Name: "search 429 storm", Do: func(ctx context.Context, e *Env) error {
		e.Event("search engine 429 on every bulk request for %s", d/2)
		e.ES.FailRequestsFor(http.StatusTooManyRequests, d/2)
		if err := sleep(ctx, d/2); err != nil {
			return err
		}
		e.item429Frac.Store(floatBits(itemFraction))
		e.item429Until.Store(time.Now().Add(d - d/2).UnixNano())
		e.Event("search engine 429 on %.0f%% of items for %s", itemFraction*100, d-d/2)
		if err := sleep(ctx, d-d/2); err != nil {
			return err
		}
		e.Event("search engine healthy")
		return nil
	}}
}

// ConnectionResets ends the next n bulk requests with a TCP reset after
// the server read (and, with stored, indexed) them.
func ConnectionResets(at time.Duration, n int, stored bool) Step {
	return Step{At: at, Name: "connection resets", Do: func(ctx context.Context, e *Env) error {
		e.Event("reset %d bulk connections (documents stored first: %v)", n, stored)
		e.ES.ResetConnections(n, stored)
		return nil
	}}
}

// Burst multiplies the write rate by factor for d.
func Burst(at, d time.Duration, factor float64) Step {
	return Step{At: at, Name: "burst", Do: func(ctx context.Context, e *Env) error {
		e.Event("burst ×%g for %s", factor, d)
		e.SetRateFactor(factor)
		err := sleep(ctx, d)
		e.SetRateFactor(1)
		e.Event("burst over")
		return err
	}}
}

// ScaleParsers starts or gracefully stops parser replicas until n run.
func ScaleParsers(at time.Duration, n int) Step {
	return Step{At: at, Name: fmt.Sprintf("scale parsers to %d", n), Do: func(ctx context.Context, e *Env) error {
		ps := e.Parsers()
		e.Event("scale parsers %d → %d", len(ps), n)
		for i := 0; len(e.Parsers()) < n; i++ {
			if err := e.Start(ctx, parserName(i)); err != nil {
				return err
			}
		}
		for ps := e.Parsers(); len(ps) > n; ps = e.Parsers() {
			if err := e.Stop(parserName(ps[len(ps)-1]), false); err != nil {
				return err
			}
		}
		return nil
	}}
}

// ShipperDownRotations stops the shipper gracefully, rotates every pod's
// file rotations times while it is down (writing on), and restarts it:
// the shipper must find the rotated, partly compressed files and read
// what it had not (shared/FAULTS.md row 15).
func ShipperDownRotations(at time.Duration, rotations int, gap time.Duration) Step {
	return Step{At: at, Name: "shipper down across rotations", Do: func(ctx context.Context, e *Env) error {
		e.Event("stop shipper; %d rotations while it is down", rotations)
		if err := e.Stop("shipper", false); err != nil {
			return err
		}
		for i := 0; i < rotations; i++ {
			if err := sleep(ctx, gap); err != nil {
				return err
			}
			for _, p := range e.Pods {
				if err := p.Rotate(); err != nil {
					return err
				}
			}
		}
		if err := sleep(ctx, gap); err != nil {
			return err
		}
		e.Event("restart shipper")
		return e.Start(ctx, "shipper")
	}}
}

// frac is a fraction of d.
func frac(d time.Duration, f float64) time.Duration {
	return time.Duration(float64(d) * f).Round(10 * time.Millisecond)
}

// Scenario names a run configuration built on a base (load, duration,
// output); Build fills in its faults.
type Scenario struct {
	Name  string
	About string
	Build func(base Config) Config
}

// Scenarios are the named scenarios, in the order "all" runs them.
func Scenarios() []Scenario {
	kill := func(svc string) func(Config) Config {
		return func(c Config) Config {
			c.Steps = append(c.Steps, Kill(frac(c.Duration, 0.2+0.5*float64(c.Seed%7)/7), svc, time.Second))
			return c
		}
	}
	return []Scenario{
		{"steady", "constant rate, no faults", func(c Config) Config { return c }},
		{"burst", "five times the rate for a third of the run", func(c Config) Config {
			c.Steps = append(c.Steps, Burst(frac(c.Duration, 0.3), frac(c.Duration, 0.3), 5))
			return c
		}},
		{"broker-outage", "Kafka fails every Produce and Fetch for 30% of the run", func(c Config) Config {
			c.Steps = append(c.Steps, BrokerOutage(frac(c.Duration, 0.3), max(frac(c.Duration, 0.3), 2*time.Second)))
			return c
		}},
		{"search-429", "bulk requests refused with 429, then items refused, for 40% of the run", func(c Config) Config {
			c.Steps = append(c.Steps, Search429(frac(c.Duration, 0.3), frac(c.Duration, 0.4), 0.5))
			return c
		}},
		{"parser-scale", "parsers 1 → 3 → 1", func(c Config) Config {
			c.Parsers = 1
			c.Steps = append(c.Steps, ScaleParsers(frac(c.Duration, 0.25), 3), ScaleParsers(frac(c.Duration, 0.6), 1))
			return c
		}},
		{"kill-shipper", "kill -9 the shipper at a random moment, restart after 1s", kill("shipper")},
		{"kill-parser", "kill -9 a parser at a random moment, restart after 1s", kill("parser")},
		{"kill-indexer", "kill -9 the indexer at a random moment, restart after 1s", kill("indexer")},
		{"rotation", "rotation every 64KiB at twice the rate, 5 files kept, shipper down across 3 rotations", func(c Config) Config {
			c.Rate *= 2
			c.RotateBytes, c.MaxFiles = 64<<10, 5
			c.Steps = append(c.Steps, ShipperDownRotations(frac(c.Duration, 0.4), 3, 300*time.Millisecond))
			return c
		}},
	}
}

// Lookup returns the named scenario.
func Lookup(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Names lists the scenario names.
func Names() string {
	var n []string
	for _, s := range Scenarios() {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}

// Smoke is the short check `make loadtest` runs: a steady run, then a run
// with one kill -9 and one 429 storm.
func Smoke(base Config) []Config {
	steady := base
	steady.Scenario, steady.Name = "steady", "smoke-steady"
	faults := base
	faults.Scenario, faults.Name = "smoke", "smoke-kill-429"
	faults.Duration = max(base.Duration*6/10, 4*time.Second)
	svc := []string{"shipper", "parser", "indexer"}[base.Seed%3]
	faults.Steps = []Step{
		Kill(frac(faults.Duration, 0.25), svc, time.Second),
		Search429(frac(faults.Duration, 0.5), frac(faults.Duration, 0.35), 0.5),
	}
	return []Config{steady, faults}
}
