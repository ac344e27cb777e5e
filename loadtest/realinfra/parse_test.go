package realinfra

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseUp(t *testing.T) {
	cases := []struct {
		out, what, addr, flavor string
		ourself, ok             bool
	}{
		{"kafka up on 127.0.0.1:19092 (pid 123)\n", "kafka", "127.0.0.1:19092", "", true, true},
		{"kafka already running on 127.0.0.1:29092 (pid 9)\n", "kafka", "127.0.0.1:29092", "", false, true},
		{"search up on http://127.0.0.1:19200 (opensearch 2.19.1, pid 77)\n", "search", "http://127.0.0.1:19200", "opensearch", true, true},
		{"noise\nsearch already running on http://127.0.0.1:19200 (elasticsearch 7.10.2, pid 5)\n", "search", "http://127.0.0.1:19200", "elasticsearch", false, true},
		{"kafka up on 127.0.0.1:19092 (pid 1)\n", "search", "", "", false, false},
		{"", "kafka", "", "", false, false},
	}
	for _, c := range cases {
		addr, flavor, ourself, err := parseUp(c.out, c.what)
		if (err == nil) != c.ok || addr != c.addr || flavor != c.flavor || ourself != c.ourself {
			t.Errorf("parseUp(%q, %q) = %q, %q, %v, %v; want %q, %q, %v, ok=%v",
				c.out, c.what, addr, flavor, ourself, err, c.addr, c.flavor, c.ourself, c.ok)
		}
	}
}

func TestScriptsDir(t *testing.T) {
	dir, err := ScriptsDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"kafka-up.sh", "search-up.sh", "infra-down.sh", "infra.mk"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv("SLUICE_KAFKA_BROKERS", "a:1, b:2,")
	if got := Kafka(t); len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Errorf("Kafka with SLUICE_KAFKA_BROKERS = %v", got)
	}
	t.Setenv("SLUICE_SEARCH_URL", "http://127.0.0.1:1/")
	t.Setenv("SLUICE_SEARCH_FLAVOR", "opensearch")
	if url, flavor := Search(t); url != "http://127.0.0.1:1" || flavor != "opensearch" {
		t.Errorf("Search with SLUICE_SEARCH_URL = %q, %q", url, flavor)
	}
	if ok, why := Available(); !ok {
		t.Errorf("Available with both env vars set = false, %q", why)
	}
}

func TestMissingTools(t *testing.T) {
	t.Setenv("SLUICE_JAVA", "sluice-no-such-java")
	t.Setenv("SLUICE_MVN", "sluice-no-such-mvn")
	t.Setenv("SLUICE_KAFKA_BROKERS", "")
	t.Setenv("SLUICE_SEARCH_URL", "")
	ok, why := Available()
	if ok || why == "" {
		t.Fatalf("Available() = %v, %q; want false with a reason", ok, why)
	}
	for _, want := range []string{"sluice-no-such-java", "sluice-no-such-mvn"} {
		if !strings.Contains(why, want) {
			t.Errorf("reason %q does not name %s", why, want)
		}
	}
}
