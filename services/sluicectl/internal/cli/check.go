package cli

import (
	"fmt"

	"github.com/sluice-io/sluice/services/sluicectl/internal/check"
)

// runCheck connects with a configuration file, not with a service's admin
// API: it is what to run before a rollout, or when a service will not
// start.
func runCheck(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	if r.o.configFile == "" {
		return usagef(r.cmd.name, "-config FILE is required")
	}
	f, service, err := check.Load(r.o.configFile)
	if err != nil {
		return fmt.Errorf("-config: %w", err)
	}
	switch r.o.service {
	case "":
	case check.Shipper, check.Parser, check.Indexer:
		service = r.o.service
	default:
		return usagef(r.cmd.name, "-service %q: want shipper, parser or indexer", r.o.service)
	}
	results := check.Run(r.ctx, f, service, r.g.timeout)
	if r.g.output == "json" {
		type line struct {
			Check  string `json:"check"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		}
		out := struct {
			Service string `json:"service"`
			Checks  []line `json:"checks"`
		}{Service: service}
		for _, x := range results {
			out.Checks = append(out.Checks, line{x.Name, x.OK, x.Detail})
		}
		if err := writeJSON(r.stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(r.stdout, "checking %s as the %s's configuration\n", r.o.configFile, service)
		tw := newTable(r.stdout)
		for _, x := range results {
			row(tw, x.Name, x.String())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, x := range results {
		if !x.OK {
			return errReported // exit 1: the FAIL line says why
		}
	}
	return nil
}
