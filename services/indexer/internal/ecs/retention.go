package ecs

import (
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// DefaultPriority is the built-in template's priority. It is chosen to
// coexist with the templates a cluster already has: Elasticsearch's
// built-in logs-*-* (and metrics-*-*, synthetics-*-*) templates sit at 100
// and Fleet's integration templates at 200, and Elasticsearch refuses two
// templates whose patterns overlap at the same priority. 150 equals
// neither, and with the patterns of Patterns no Elasticsearch or Fleet
// index name matches Sluice's template anyway.
const DefaultPriority = 150

// Patterns returns the index patterns of the built-in template for the
// index name patterns the indexer writes (names such as
// logs-%{+yyyy.MM.dd}; a fixed name stands for itself). A date right after
// the prefix narrows the pattern to the names it can render, years 2000 to
// 2999: logs-%{+yyyy.MM.dd} gives logs-2*, not logs-*, which would also
// claim every Elastic Agent / Fleet data stream (logs-<dataset>-<namespace>).
// For data streams, pass the datasets written: each gives
// logs-<dataset>-*; with none known (any dataset allowed) the pattern is
// logs-*-*, which the README warns overlaps Fleet's data streams.
func Patterns(names []string, dataStream bool, datasets []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != "" && p != "*" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if dataStream {
		for _, d := range datasets {
			add("logs-" + d + "-*")
		}
		if len(out) == 0 {
			add("logs-*-*")
		}
		return out
	}
	for _, n := range names {
		i := strings.Index(n, "%{")
		switch {
		case i < 0:
			add(n)
		case strings.HasPrefix(n[i:], "%{+") && len(n) > i+3 && strings.ContainsRune("yYx", rune(n[i+3])):
			add(n[:i] + "2*")
		default:
			add(n[:i] + "*")
		}
	}
	return out
}

// ISMOptions shape the OpenSearch ISM policy.
type ISMOptions struct {
	// Patterns the policy attaches itself to when an index is created
	// (its ism_template); Priority orders it among other policies' templates.
	Patterns []string
	Priority int
	// Rollover, RolloverMaxAge, RolloverMaxPrimaryShardSize and DeleteAfter
	// as in PolicyOptions.
	Rollover                    bool
	RolloverMaxAge              time.Duration
	RolloverMaxPrimaryShardSize string
	DeleteAfter                 time.Duration
}

// ISMPolicy returns the body for PUT _plugins/_ism/policies/<name>, the
// OpenSearch counterpart of Policy: a hot state (rolling data streams
// over) and, with DeleteAfter, a delete state reached at that index age.
func ISMPolicy(o ISMOptions) ([]byte, error) {
	if !o.Rollover && o.DeleteAfter <= 0 {
		return nil, errors.New("the ISM policy has nothing to do: set a delete age (or use data streams for rollover)")
	}
	var hotActions []any
	if o.Rollover {
		age := o.RolloverMaxAge
		if age <= 0 {
			age = 24 * time.Hour
		}
		size := o.RolloverMaxPrimaryShardSize
		if size == "" {
			size = "50gb"
		}
		hotActions = append(hotActions, map[string]any{"rollover": map[string]any{
			"min_index_age": esDuration(age), "min_primary_shard_size": size}})
	}
	hot := map[string]any{"name": "hot", "actions": nonNil(hotActions), "transitions": []any{}}
	states := []any{hot}
	if o.DeleteAfter > 0 {
		hot["transitions"] = []any{map[string]any{"state_name": "delete",
			"conditions": map[string]any{"min_index_age": esDuration(o.DeleteAfter)}}}
		states = append(states, map[string]any{"name": "delete",
			"actions": []any{map[string]any{"delete": map[string]any{}}}, "transitions": []any{}})
	}
	policy := map[string]any{
		"description":   "Sluice log retention (managed by sluice)",
		"default_state": "hot",
		"states":        states,
	}
	if len(o.Patterns) > 0 {
		policy["ism_template"] = []any{map[string]any{"index_patterns": o.Patterns, "priority": o.Priority}}
	}
	return json.Marshal(map[string]any{"policy": policy})
}

func nonNil(a []any) []any {
	if a == nil {
		return []any{}
	}
	return a
}
