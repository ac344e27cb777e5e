// Package applog decodes application JSON log lines into a document,
// mapping the field names of common logging libraries to the Elastic Common
// Schema (ECS) and keeping the rest under one object of their own.
//
// Most Kubernetes workloads log one JSON object per line, written by zap,
// slog, logrus, zerolog, logback or log4j2 JSON layouts, python-json-logger,
// structlog, pino, bunyan or winston. Their field names differ ("level",
// "lvl", "levelname"; "msg", "message"; "ts", "time", "timeMillis") and so
// do their time formats (RFC 3339, epoch seconds as a float, epoch millis);
// Mapper recognises them and writes log.level, message, @timestamp,
// log.logger, log.origin.*, trace.id, span.id and error.* instead.
//
// Every other field goes under the target object (DefaultTarget, "app"):
// one application's {"user": "bob"} then becomes app.user and cannot clash
// with the ECS user object another document carries. Lines that declare
// themselves ECS (an ecs.version field, as the ecs-logging libraries write)
// keep their fields at the root, and a mapper built with target "root" puts
// every line's fields there.
//
// The decoder is a single-pass scanner over the line's bytes: it validates
// the whole object before writing anything (an invalid line leaves the
// document as it was), never builds a map, and returns substrings of the
// line for strings without escapes. It accepts and rejects exactly what
// encoding/json accepts and rejects, and decodes the same values (the fuzz
// targets compare the two), including encoding/json's replacement of
// invalid UTF-8 and unpaired surrogates by U+FFFD.
package applog
