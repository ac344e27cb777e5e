package ecs

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// App is how the app object is mapped (see AppMapping); the zero value
	// is AppUnindexed, which every engine accepts.
	App AppMapping
}

// AppMapping is the mapping of app, the object under which the parser puts
// every field of an application's JSON log that is not ECS. Applications
// choose their field names and types freely, and one index receives many
// of them: were app mapped dynamically, the first application to log
// "user": "bob" would fix app.user as keyword and every later {"user":
// {"id": 7}} would fail with a mapper_parsing_exception and be
// dead-lettered. Each choice below accepts any JSON under app.
type AppMapping string

const (
	// AppUnindexed maps app as an object with dynamic: false: its fields
	// stay in _source (returned with every hit) but are neither mapped nor
	// searchable. The fallback for engines without a flattened type.
	AppUnindexed AppMapping = ""
	// AppFlattened maps app with Elasticsearch's flattened type (7.3+ in
	// the default distribution, core in 8.x): one field whose leaf values
	// are indexed as keywords, searchable as app.<path>.
	AppFlattened AppMapping = "flattened"
	// AppFlatObject maps app with OpenSearch's flat_object type (2.7+),
	// the same idea as flattened.
	AppFlatObject AppMapping = "flat_object"
)

// String names the mapping for logs.
func (a AppMapping) String() string {
	if a == AppUnindexed {
		return "object (dynamic: false, kept in _source, not indexed)"
	}
	return string(a)
}

// AppMappingFor picks the app mapping for an engine from what it reports of
// itself: flavor (elasticsearch or opensearch), its version number
// ("8.19.1", "2.19.1") and, for Elasticsearch, its build flavor ("default"
// or "oss"; empty when the engine did not say). An engine that is too old,
// an Elasticsearch OSS build, or a version that does not parse gets
// AppUnindexed: losing the search on app.* is better than rejecting the
// whole template.
func AppMappingFor(flavor, version, buildFlavor string) AppMapping {
	major, minor, ok := majorMinor(version)
	if !ok {
		return AppUnindexed
	}
	switch flavor {
	case FlavorOpenSearch:
		if version == "7.10.2" {
			// compatibility.override_main_response_version: an OpenSearch
			// of any version posing as Elasticsearch 7.10.2.
			return AppUnindexed
		}
		if major > 2 || major == 2 && minor >= 7 {
			return AppFlatObject
		}
	case FlavorElasticsearch, "":
		switch {
		case major >= 8:
			// flattened is a core mapper since 8.0, present even in the
			// minimal integ-test distribution.
			return AppFlattened
		case major == 7 && minor >= 3 && buildFlavor != "oss":
			// 7.x ships it in an x-pack module the OSS build lacks.
			return AppFlattened
		}
	}
	return AppUnindexed
}

// majorMinor parses the leading "major.minor" of a version number such as
// "8.19.1" or "3.0.0-SNAPSHOT".
func majorMinor(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return major, minor, true
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
		if o.App == AppFlattened {
			return nil, errors.New("the flattened type is Elasticsearch only; OpenSearch has flat_object")
		}
		replaceType(tmpl["mappings"], "wildcard", "keyword")
	case FlavorElasticsearch, "":
		if o.App == AppFlatObject {
			return nil, errors.New("the flat_object type is OpenSearch only; Elasticsearch has flattened")
		}
		if o.ILMPolicy != "" {
			index["lifecycle"] = map[string]any{"name": o.ILMPolicy}
		}
	default:
		return nil, fmt.Errorf("unknown flavor %q", o.Flavor)
	}
	props := tmpl["mappings"].(map[string]any)["properties"].(map[string]any)
	switch o.App {
	case AppUnindexed:
		// As in template.json.
	case AppFlattened:
		// ignore_above keeps an oversized value (a stack trace, a payload)
		// in _source without indexing it, rather than failing the document
		// on Lucene's term length limit.
		props["app"] = map[string]any{"type": "flattened", "ignore_above": 1024}
	case AppFlatObject:
		props["app"] = map[string]any{"type": "flat_object"}
	default:
		return nil, fmt.Errorf("unknown app mapping %q", o.App)
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
