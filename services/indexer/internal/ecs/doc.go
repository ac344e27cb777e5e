// Package ecs holds the indexer's built-in index template and ILM policy.
//
// The template (template.json, embedded in the binary) maps the fields the
// parser produces the way the Elastic Common Schema does: @timestamp as a
// date, message as text, Kubernetes metadata and other identifiers as
// keyword, status codes and sizes as long, addresses as ip. Other strings
// fall to keyword by a dynamic template, so an unexpected field neither
// doubles as text+keyword nor fails the document.
//
// One body serves Elasticsearch 8 and OpenSearch 2: Template adjusts the
// few types and settings only one of them knows (wildcard, index.lifecycle,
// and the flattened or flat_object type of app, the applications' own
// fields; see AppMapping).
package ecs
