// Package cli implements sluicectl: argument parsing, the commands, and how
// their results and errors are printed. Run is the whole program; main only
// wires it to the process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/services/sluicectl/internal/conn"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // a call failed or a service refused
	ExitUsage = 2 // bad command line
)

// DefaultAddr is used when neither --addr nor SLUICE_ADDR is given.
const DefaultAddr = "localhost:9090"

// Environment variables read for defaults.
const (
	EnvAddr  = "SLUICE_ADDR"
	EnvToken = "SLUICE_TOKEN"
)

// command is one sluicectl command.
type command struct {
	name     string // "status", "dlq list"
	args     string // positional synopsis
	summary  string
	flags    func(fs *flag.FlagSet, o *options)
	run      func(r *runner, args []string) error
	single   bool   // talks to exactly one service
	servedBy string // the only service implementing it, if any
}

var commands = []*command{
	{name: "status", summary: "Show each service's name, state, version, node, uptime and config digest.", run: runStatus},
	{name: "stats", summary: "Show counters, server-side rates, in-flight bytes and consumer lag.", run: runStats},
	{name: "files", summary: "List the files a shipper tracks, with read/acknowledged offsets and bytes lost to truncation.", run: runFiles, servedBy: "shipper"},
	{name: "accounts", run: runAccounts,
		summary: "Per-container line counts of every given shipper, parser and indexer, merged, with the lines not yet indexed and where they are.",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.namespace, "namespace", "", "only containers of namespace `N`")
			fs.StringVar(&o.pod, "pod", "", "only containers of pod `P`")
		}},
	{name: "config", summary: "Print each service's running configuration as YAML, secrets redacted.", run: runConfig},
	{name: "pause", summary: "Stop intake (reading files or fetching records); in-flight work drains.", run: runPause},
	{name: "resume", summary: "Restart intake after pause.", run: runResume},
	{name: "reload", summary: "Validate and apply a configuration; prints the new digest or the refusal.", run: runReload,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.file, "file", "", "YAML configuration to apply (`F`, - for stdin); without it the service re-reads its own config file")
		}},
	{name: "test-parse", args: "[FILE]", single: true, servedBy: "parser", run: runTestParse,
		summary: "Parse sample lines (from FILE or stdin) with a loaded rule or a rule file.",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.rule, "rule", "", "`NAME` of a loaded rule")
			fs.StringVar(&o.ruleFile, "rule-file", "", "rule given as YAML in file `F`, in the configuration's rule format")
		}},
	{name: "rules", servedBy: "parser", run: runRules, summary: "List a parser's rules in match order, with record and failure counts."},
	{name: "tap", servedBy: "parser", run: runTap,
		summary: "Stream a rate-limited sample of live records of every given parser, raw and parsed or dead-lettered, until --limit or Ctrl-C.",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.IntVar(&o.rate, "rate", 0, "at most `N` events per second per parser (1-1000; 0: the server's default of 10)")
			fs.IntVar(&o.limit, "limit", 0, "stop after `N` events in all (0: until Ctrl-C)")
			fs.StringVar(&o.namespace, "namespace", "", "only records of namespace `N`")
			fs.StringVar(&o.pod, "pod", "", "only records of pod `P`")
			fs.StringVar(&o.rule, "rule", "", "only records of rule `NAME`")
			fs.BoolVar(&o.failedOnly, "failed-only", false, "only records no rule parsed (failed or dead-lettered)")
		}},
	{name: "dlq list", single: true, servedBy: "indexer", run: runDLQList,
		summary: "List dead letters of every stage: class, container, the start of the line and the full reason.",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.IntVar(&o.limit, "limit", 20, "at most `N` dead letters")
			fs.Var(&o.fromOffsets, "from", "start partition `P` at offset N, as P:N (repeatable; default: the oldest)")
		}},
	{name: "dlq show", args: "PARTITION:OFFSET", single: true, servedBy: "indexer", run: runDLQShow,
		summary: "Print one dead letter whole: every header and the value, pretty-printed."},
	{name: "dlq replay", single: true, servedBy: "indexer", run: runDLQReplay,
		summary: "Republish a range of one partition's dead letters where their stage reads (parser: raw topic, indexer: parsed topic).",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.Int64Var(&o.partition, "partition", -1, "dead-letter partition `P` (required)")
			fs.Int64Var(&o.from, "from", -1, "first offset `N` to replay (required)")
			fs.Int64Var(&o.to, "to", 0, "stop before offset `M` (0: up to the end)")
			fs.BoolVar(&o.dryRun, "dry-run", false, "list what would be replayed, and produce nothing")
		}},
	{name: "check", run: runCheck,
		summary: "Connect with a service's configuration file: brokers, topics, consumer group, search engine and index template; one line per check.",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.configFile, "config", "", "the service's configuration file `F` (required)")
			fs.StringVar(&o.service, "service", "", "the service the file is for: shipper, parser or indexer (default: told from the file)")
		}},
	{name: "top", run: runTop,
		summary: "Live view of every given service: throughput, in-flight bytes, lag and errors.",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.once, "once", false, "sample twice, --interval apart, print one frame and exit")
			fs.DurationVar(&o.interval, "interval", time.Second, "refresh every `D`")
		}},
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// globals are the flags every command accepts.
type globals struct {
	addrs     addrList
	token     string
	tokenFile string
	tls       bool
	ca        string
	cert, key string
	timeout   time.Duration
	output    string
}

func defaultGlobals() globals { return globals{timeout: 5 * time.Second, output: "table"} }

// register adds the global flags to fs, starting from the values in cur (the
// defaults, or what was parsed before the command name).
func (g *globals) register(fs *flag.FlagSet, cur globals) {
	g.addrs = append(addrList(nil), cur.addrs...)
	fs.Var(&g.addrs, "addr", "admin endpoint `host:port` (repeatable or comma-separated; env "+EnvAddr+"; default "+DefaultAddr+")")
	fs.StringVar(&g.token, "token", cur.token, "bearer `token` (env "+EnvToken+")")
	fs.StringVar(&g.tokenFile, "token-file", cur.tokenFile, "read the bearer token from `F`")
	fs.BoolVar(&g.tls, "tls", cur.tls, "use TLS (implied by --ca, --cert, --key)")
	fs.StringVar(&g.ca, "ca", cur.ca, "CA certificates `F` (PEM) to verify the server; default: the system roots")
	fs.StringVar(&g.cert, "cert", cur.cert, "client certificate `F` (PEM) for mTLS")
	fs.StringVar(&g.key, "key", cur.key, "client key `F` (PEM) for mTLS")
	fs.DurationVar(&g.timeout, "timeout", cur.timeout, "deadline `D` of each call")
	fs.StringVar(&g.output, "o", cur.output, "output `format`: table or json")
}

// options are the command-specific flags.
type options struct {
	file, rule, ruleFile string
	namespace, pod       string
	configFile, service  string
	rate, limit          int
	fromOffsets          offsetList
	partition, from, to  int64
	once, failedOnly     bool
	dryRun               bool
	interval             time.Duration
}

// addrList collects --addr values.
type addrList []string

func (a *addrList) String() string { return strings.Join(*a, ",") }

func (a *addrList) Set(v string) error {
	n := 0
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*a = append(*a, s)
			n++
		}
	}
	if n == 0 {
		return errors.New("empty address")
	}
	return nil
}

// offsetList collects P:N pairs.
type offsetList map[int32]int64

func (l *offsetList) String() string {
	if l == nil || *l == nil {
		return ""
	}
	var parts []string
	for p, n := range *l {
		parts = append(parts, fmt.Sprintf("%d:%d", p, n))
	}
	return strings.Join(parts, ",")
}

func (l *offsetList) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		ps, ns, ok := strings.Cut(strings.TrimSpace(s), ":")
		if !ok {
			return fmt.Errorf("%q is not PARTITION:OFFSET", s)
		}
		p, err := strconv.ParseInt(ps, 10, 32)
		if err != nil || p < 0 {
			return fmt.Errorf("%q: bad partition", s)
		}
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%q: bad offset", s)
		}
		if *l == nil {
			*l = offsetList{}
		}
		(*l)[int32(p)] = n
	}
	return nil
}

// usageError is a bad command line: exit 2 with a hint.
type usageError struct {
	cmd string
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, a ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, a...)}
}

// errReported means the failure was already printed.
var errReported = errors.New("reported")

// Run runs sluicectl with args (without the program name) and returns the
// exit status. Environment defaults come from the process environment.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	r := &runner{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	defer r.close()
	err := r.run(args)
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sluicectl: %s\n", ue.msg)
		if ue.cmd != "" {
			fmt.Fprintf(stderr, "Run 'sluicectl help %s' for usage.\n", ue.cmd)
		} else {
			fmt.Fprintln(stderr, "Run 'sluicectl help' for usage.")
		}
		return ExitUsage
	case errors.Is(err, errReported):
		return ExitError
	default:
		fmt.Fprintf(stderr, "sluicectl: %v\n", err)
		return ExitError
	}
}

func (r *runner) run(args []string) error {
	top := flag.NewFlagSet("sluicectl", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	top.Usage = func() {}
	var first globals
	first.register(top, defaultGlobals())
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(r.stdout)
			return err
		}
		return usagef("", "%v", err)
	}
	rest := top.Args()
	if len(rest) == 0 {
		printUsage(r.stderr)
		return usagef("", "no command given")
	}
	name := rest[0]
	rest = rest[1:]
	switch name {
	case "help":
		return r.help(rest)
	case "dlq":
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			return usagef("dlq", "dlq needs a subcommand: list, show or replay")
		}
		name += " " + rest[0]
		rest = rest[1:]
	}
	cmd := lookup(name)
	if cmd == nil {
		return usagef("", "unknown command %q", name)
	}
	r.cmd = cmd

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	r.g.register(fs, first)
	if cmd.flags != nil {
		cmd.flags(fs, &r.o)
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandUsage(r.stdout, cmd)
			return err
		}
		return usagef(name, "%s: %v", name, err)
	}
	if err := r.setup(); err != nil {
		return err
	}
	return cmd.run(r, pos)
}

// parseInterleaved parses flags anywhere among the positional arguments
// ("test-parse access.log --rule nginx"); "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		used := len(args) - len(rest)
		if used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (r *runner) help(args []string) error {
	if len(args) == 0 {
		printUsage(r.stdout)
		return nil
	}
	name := strings.Join(args, " ")
	if name == "dlq" {
		printCommandUsage(r.stdout, lookup("dlq list"))
		fmt.Fprintln(r.stdout)
		printCommandUsage(r.stdout, lookup("dlq show"))
		fmt.Fprintln(r.stdout)
		printCommandUsage(r.stdout, lookup("dlq replay"))
		return nil
	}
	cmd := lookup(name)
	if cmd == nil {
		return usagef("", "unknown command %q", name)
	}
	printCommandUsage(r.stdout, cmd)
	return nil
}

// setup validates the globals and resolves environment defaults.
func (r *runner) setup() error {
	g := &r.g
	name := r.cmd.name
	switch g.output {
	case "table", "json":
	default:
		return usagef(name, "-o %q: want table or json", g.output)
	}
	if g.timeout <= 0 {
		return usagef(name, "--timeout must be positive")
	}
	addrs := []string(g.addrs)
	if len(addrs) == 0 {
		if env := r.getenv(EnvAddr); strings.TrimSpace(env) != "" {
			var l addrList
			if err := l.Set(env); err != nil {
				return usagef(name, "%s: %v", EnvAddr, err)
			}
			addrs = l
		} else {
			addrs = []string{DefaultAddr}
		}
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		t, err := conn.Normalize(a)
		if err != nil {
			return usagef(name, "--addr: %v", err)
		}
		if !seen[t] {
			seen[t] = true
			r.addrs = append(r.addrs, t)
		}
	}
	if r.cmd.single && len(r.addrs) > 1 {
		return usagef(name, "%s talks to one service; got %d addresses", name, len(r.addrs))
	}

	if g.token != "" && g.tokenFile != "" {
		return usagef(name, "give --token or --token-file, not both")
	}
	token := g.token
	if g.tokenFile != "" {
		t, err := conn.ReadToken(g.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		token = t
	}
	if token == "" {
		token = strings.TrimSpace(r.getenv(EnvToken))
	}
	r.connOpts = conn.Options{Token: token, TLS: g.tls, CAFile: g.ca, CertFile: g.cert, KeyFile: g.key}
	if r.connOpts.TLS || g.ca != "" || g.cert != "" || g.key != "" {
		// Fail on bad certificate files before talking to anyone.
		if _, err := conn.TLSConfig(r.connOpts); err != nil {
			return err
		}
	}
	return nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `sluicectl operates Sluice services (shipper, parser, indexer) through their
gRPC admin API.

Usage:
  sluicectl [global flags] COMMAND [flags] [args]

Commands:
`)
	for _, c := range commands {
		syn := c.name
		if c.args != "" {
			syn += " " + c.args
		}
		fmt.Fprintf(w, "  %-22s %s\n", syn, c.summary)
	}
	fmt.Fprint(w, `  help [COMMAND]         Show help for a command.

Global flags (accepted before or after the command):
`)
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	var g globals
	g.register(fs, defaultGlobals())
	printFlags(w, fs)
	fmt.Fprint(w, `
Commands that accept several --addr run against each and print a row or a
section per address; -o json then prints an array of {"addr", "response"}
(or {"addr", "error"}) objects. With one address, -o json prints the
response itself. Exit status: 0 ok, 1 a call failed, 2 bad usage.
`)
}

func printCommandUsage(w io.Writer, c *command) {
	syn := c.name
	if c.flags != nil {
		syn += " [flags]"
	}
	if c.args != "" {
		syn += " " + c.args
	}
	fmt.Fprintf(w, "Usage: sluicectl %s\n\n%s\n", syn, c.summary)
	if c.servedBy != "" {
		fmt.Fprintf(w, "Served by the %s.\n", c.servedBy)
	}
	if c.single {
		fmt.Fprintln(w, "Talks to one service (one --addr).")
	}
	if c.flags != nil {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		var o options
		c.flags(fs, &o)
		fmt.Fprintln(w, "\nFlags:")
		printFlags(w, fs)
	}
	fmt.Fprintln(w, "\nGlobal flags: see 'sluicectl help'.")
}

func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		arg, usage := flag.UnquoteUsage(f)
		head := dash + f.Name
		if arg != "" {
			head += " " + arg
		}
		fmt.Fprintf(w, "  %-22s %s", head, usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "-1" && !strings.Contains(usage, "default") {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}
