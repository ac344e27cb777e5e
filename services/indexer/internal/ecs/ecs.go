package ecs

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

//go:embed template.json
var templateJSON []byte

// Flavors, as the bulk package names them.
const (
	FlavorElasticsearch = "elasticsearch"
	FlavorOpenSearch    = "opensearch"
)

// Options shape the template for one deployment.
type Options struct {
	// Patterns are the index patterns the template applies to; default
	// the embedded logs-*.
	Patterns []string
	// Priority of the composable template; default 200, above the
	// built-in logs template (100) of Elasticsearch.
	Priority int
	// DataStream makes matching names data streams (required for
	// writing to logs-<dataset>-<namespace> as a data stream).
	DataStream bool
	// Flavor is elasticsearch or opensearch: OpenSearch 2 has no wildcard
	// type (mapped keyword instead) and no ILM.
	Flavor string
	// ILMPolicy names the lifecycle policy to attach (Elasticsearch only).
	ILMPolicy string
	// Shards and Replicas, when positive, set number_of_shards and
	// number_of_replicas.
	Shards, Replicas int
}

// Template returns the index template body for PUT _index_template/<name>.
func Template(o Options) ([]byte, error) {
	var t map[string]any
	if err := json.Unmarshal(templateJSON, &t); err != nil {
		return nil, fmt.Errorf("built-in template: %w", err)
	}
	if len(o.Patterns) > 0 {
		t["index_patterns"] = o.Patterns
	}
	if o.Priority > 0 {
		t["priority"] = o.Priority
	}
	tmpl := t["template"].(map[string]any)
	if o.DataStream {
		t["data_stream"] = map[string]any{}
		if o.Flavor != FlavorOpenSearch {
			// Every backing index of a data stream holds one dataset and
			// namespace; constant_keyword stores them once.
			ds := tmpl["mappings"].(map[string]any)["properties"].(map[string]any)["data_stream"]
			replaceType(ds, "keyword", "constant_keyword")
		}
	}
	index := tmpl["settings"].(map[string]any)["index"].(map[string]any)
	if o.Shards > 0 {
		index["number_of_shards"] = o.Shards
	}
	if o.Replicas > 0 {
		index["number_of_replicas"] = o.Replicas
	}
	switch o.Flavor {
	case FlavorOpenSearch:
		if o.ILMPolicy != "" {
			return nil, errors.New("ILM policies are Elasticsearch only; OpenSearch uses ISM policies, installed separately")
		}
		replaceType(tmpl["mappings"], "wildcard", "keyword")
	case FlavorElasticsearch, "":
		if o.ILMPolicy != "" {
			index["lifecycle"] = map[string]any{"name": o.ILMPolicy}
		}
	default:
		return nil, fmt.Errorf("unknown flavor %q", o.Flavor)
	}
	return json.Marshal(t)
}

// replaceType rewrites every "type": from mapping under v to to.
func replaceType(v any, from, to string) {
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == from {
			x["type"] = to
		}
		for _, c := range x {
			replaceType(c, from, to)
		}
	case []any:
		for _, c := range x {
			replaceType(c, from, to)
		}
	}
}

// PolicyOptions shape the ILM policy.
type PolicyOptions struct {
	// Rollover adds a hot-phase rollover (data streams only: a plain
	// daily index has no rollover alias and would stall ILM).
	Rollover bool
	// RolloverMaxAge and RolloverMaxPrimaryShardSize trigger rollover;
	// defaults 1d and 50gb.
	RolloverMaxAge              time.Duration
	RolloverMaxPrimaryShardSize string
	// DeleteAfter deletes an index this long after creation (after
	// rollover, for data streams); 0 keeps indices forever.
	DeleteAfter time.Duration
}

// Policy returns the body for PUT _ilm/policy/<name>.
func Policy(o PolicyOptions) ([]byte, error) {
	phases := map[string]any{}
	hot := map[string]any{"min_age": "0ms", "actions": map[string]any{}}
	if o.Rollover {
		age := o.RolloverMaxAge
		if age <= 0 {
			age = 24 * time.Hour
		}
		size := o.RolloverMaxPrimaryShardSize
		if size == "" {
			size = "50gb"
		}
		hot["actions"] = map[string]any{"rollover": map[string]any{"max_age": esDuration(age), "max_primary_shard_size": size}}
	}
	phases["hot"] = hot
	if o.DeleteAfter > 0 {
		phases["delete"] = map[string]any{"min_age": esDuration(o.DeleteAfter), "actions": map[string]any{"delete": map[string]any{}}}
	}
	if !o.Rollover && o.DeleteAfter <= 0 {
		return nil, errors.New("the ILM policy has nothing to do: set a delete age (or use data streams for rollover)")
	}
	return json.Marshal(map[string]any{"policy": map[string]any{
		"_meta":  map[string]any{"managed_by": "sluice"},
		"phases": phases,
	}})
}

// esDuration writes d in Elasticsearch's time units, whole days or hours
// where it can.
func esDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
