package service

import (
	"flag"
	"fmt"
	"io"

	"github.com/sluice-io/sluice/libs/config"
)

// Exit codes of the validate subcommand.
const (
	ExitValid   = 0 // the file decodes and passes every check
	ExitInvalid = 2 // the file cannot be read, or has problems (all listed)
)

// Validate is every service's `validate -config FILE` subcommand: it reads
// the file the way the service would at start (defaults, environment
// references, strict decoding, semantic checks) without connecting to
// anything, prints every problem on its own line, each naming its key
// path, and returns ExitInvalid; or prints one summary line and returns
// ExitValid. load returns that summary. The chart runs it in an init
// container, so a bad override fails the rollout with the message instead
// of a crash loop.
func Validate(name, defaultFile string, args []string, stdout, stderr io.Writer, load func(file string) (summary string, err error)) int {
	fs := flag.NewFlagSet(name+" validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", defaultFile, "configuration file to check")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s validate [-config FILE]\n\nChecks the configuration file without starting the service; exit status 0 when valid, 2 otherwise.\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return ExitInvalid
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s validate: unexpected argument %q\n", name, fs.Arg(0))
		return ExitInvalid
	}
	summary, err := load(*file)
	if err != nil {
		problems := config.List(err)
		noun := "problems"
		if len(problems) == 1 {
			noun = "problem"
		}
		fmt.Fprintf(stderr, "%s: %s: %d %s\n", name, *file, len(problems), noun)
		for _, p := range problems {
			fmt.Fprintf(stderr, "  %v\n", p)
		}
		return ExitInvalid
	}
	fmt.Fprintf(stdout, "%s: %s: ok: %s\n", name, *file, summary)
	return ExitValid
}
