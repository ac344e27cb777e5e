package deploy

import (
	"regexp"
	"testing"

	indexerconfig "github.com/sluice-io/sluice/services/indexer/config"
	parserconfig "github.com/sluice-io/sluice/services/parser/config"
	shipperconfig "github.com/sluice-io/sluice/services/shipper/config"
)

var components = []string{"shipper", "parser", "indexer"}

// configFiles are the service configuration files the chart's defaults and
// docker-compose.yml both use.
var configFiles = map[string]string{
	"shipper": "deploy/helm/sluice/files/shipper.yaml",
	"parser":  "deploy/helm/sluice/files/parser.yaml",
	"indexer": "deploy/helm/sluice/files/indexer.yaml",
}

var envRefPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`)

// loadServiceConfig runs the service's own config.Load (strict decoding,
// ${VAR:-default} expansion, Validate) on file, with exactly env as the
// environment for every variable the file references: variables the
// deployment does not set are emptied, so their defaults apply whatever the
// machine running the test has set. It returns the typed config.
func loadServiceConfig(tb testing.TB, svc, file string, doc []byte, env map[string]string) (any, error) {
	tb.Helper()
	for _, m := range envRefPattern.FindAllSubmatch(doc, -1) {
		tb.Setenv(string(m[1]), env[string(m[1])])
	}
	for k, v := range env {
		tb.Setenv(k, v)
	}
	switch svc {
	case "shipper":
		c, _, err := shipperconfig.Load(file)
		return c, err
	case "parser":
		c, _, err := parserconfig.Load(file)
		return c, err
	case "indexer":
		c, _, err := indexerconfig.Load(file)
		return c, err
	}
	tb.Fatalf("unknown service %q", svc)
	return nil, nil
}

// TestConfigFilesLoad: the shared files load with their defaults alone.
func TestConfigFilesLoad(t *testing.T) {
	for _, svc := range components {
		t.Run(svc, func(t *testing.T) {
			doc := readFile(t, configFiles[svc])
			file := writeTemp(t, svc+".yaml", doc)
			if _, err := loadServiceConfig(t, svc, file, doc, nil); err != nil {
				t.Fatalf("%s: %v", configFiles[svc], err)
			}
		})
	}
}
