// Command parser runs the Sluice parser service, or with the parse
// subcommand parses lines from standard input with a named rule:
//
//	parser -config /etc/sluice/parser.yaml [-watch-config 2s]
//	parser parse --rule nginx < access.log
//	parser validate -config /etc/sluice/parser.yaml
//
// The service re-reads its configuration file when it changes (polled every
// -watch-config) and on an admin ReloadConfig without a document; a rule
// set that fails validation is refused and the running one stays.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/sluice-io/sluice/libs/logging"
	"github.com/sluice-io/sluice/libs/service"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/parser"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/rules"
)

const defaultConfig = "/etc/sluice/parser.yaml"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "parse" {
		os.Exit(parseCommand(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "validate" {
		os.Exit(validateCommand(os.Args[2:], os.Stdout, os.Stderr))
	}
	configFile := flag.String("config", defaultConfig, "configuration file")
	watch := flag.Duration("watch-config", 2*time.Second, "poll the configuration file this often and reload the rules when it changed (0 disables)")
	flag.Parse()
	cfg, digest, err := config.Load(*configFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parser: %s: invalid configuration:\n%v\n", *configFile, err)
		os.Exit(2)
	}
	log := logging.New(cfg.Log, "parser")
	p, err := parser.New(cfg, digest, log, parser.WithConfigFile(*configFile, *watch))
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(2)
	}
	ctx, cancel := service.SignalContext()
	defer cancel()
	err = service.Run(ctx, p, service.Options{
		Name: "parser", Version: parser.Version, Admin: cfg.Admin, Log: log,
		Register: func(s *grpc.Server) { adminv1.RegisterParserAdminServiceServer(s, p.AdminService()) },
	})
	if err != nil {
		os.Exit(1)
	}
}

// validateCommand is `parser validate`: the whole file, rules compiled
// included, without connecting to Kafka.
func validateCommand(args []string, stdout, stderr io.Writer) int {
	return service.Validate("parser", defaultConfig, args, stdout, stderr, func(file string) (string, error) {
		c, digest, err := config.Load(file)
		if err != nil {
			return "", err
		}
		// Compiling the rules finds what the structure cannot: grok
		// patterns that do not exist, regexes that do not compile.
		if _, err := rules.Compile(rules.Options{Rules: c.Rules, Patterns: c.Patterns, Index: c.Kafka.Index}); err != nil {
			return "", err
		}
		return fmt.Sprintf("kafka %s group %s, %s -> %s (dead letters %s); %d rules; digest %.12s",
			strings.Join(c.Kafka.Brokers, ","), c.Kafka.Group, c.Kafka.InputTopic, c.Kafka.OutputTopic, c.Kafka.DLQTopic,
			len(c.Rules), digest), nil
	})
}
