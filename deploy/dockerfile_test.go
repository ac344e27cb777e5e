package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// images are the Dockerfiles, the package each builds and the user its
// runtime stage runs as.
var images = []struct {
	name, dockerfile, pkg, user string
}{
	{"shipper", "services/shipper/Dockerfile", "./services/shipper/cmd/shipper", "0:0"},
	{"parser", "services/parser/Dockerfile", "./services/parser/cmd/parser", "65532:65532"},
	{"indexer", "services/indexer/Dockerfile", "./services/indexer/cmd/indexer", "65532:65532"},
	{"sluicectl", "deploy/docker/sluicectl.Dockerfile", "./cmd/sluicectl", "65532:65532"},
	{"loadgen", "loadtest/Dockerfile", "./loadtest/cmd/loadgen", "65532:65532"},
}

const (
	builderImage = "golang:1.26-bookworm"
	runtimeImage = "gcr.io/distroless/static-debian12:nonroot"
)

var fromLine = regexp.MustCompile(`(?mi)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?\s*$`)

// TestDockerfiles: multi-stage builds from the pinned Go image into the
// pinned distroless static image, a static stripped binary, the documented
// user, and the images docker-compose.yml and images.mk build.
func TestDockerfiles(t *testing.T) {
	compose := loadCompose(t)
	mk := string(readFile(t, "deploy/images.mk"))
	for _, im := range images {
		t.Run(im.name, func(t *testing.T) {
			src := string(readFile(t, im.dockerfile))
			froms := fromLine.FindAllStringSubmatch(src, -1)
			if len(froms) != 2 {
				t.Fatalf("%d FROM lines, want a builder and a runtime stage", len(froms))
			}
			if froms[0][1] != builderImage || froms[1][1] != runtimeImage {
				t.Errorf("stages %s -> %s, want %s -> %s", froms[0][1], froms[1][1], builderImage, runtimeImage)
			}
			for _, f := range froms {
				checkImageRef(t, im.dockerfile, f[1])
			}
			for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w`, "go build", im.pkg, "COPY --from=build"} {
				if !strings.Contains(src, want) {
					t.Errorf("%s lacks %q", im.dockerfile, want)
				}
			}
			users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(src, -1)
			if len(users) != 1 || users[0][1] != im.user {
				t.Errorf("USER lines %v, want exactly %s", users, im.user)
			}
			if im.user == "0:0" && !strings.Contains(src, "CAP_DAC_READ_SEARCH") {
				t.Errorf("%s runs as root without saying why", im.dockerfile)
			}
			if !strings.Contains(mk, im.name+":"+im.dockerfile) {
				t.Errorf("deploy/images.mk does not build %s from %s", im.name, im.dockerfile)
			}
			pkgDir := im.pkg
			if im.name == "sluicectl" {
				pkgDir = "./services/sluicectl/cmd/sluicectl"
			}
			if _, err := os.Stat(filepath.Join(repoRoot(t), pkgDir)); err != nil {
				t.Logf("%s does not exist yet: the image cannot build until it does", pkgDir)
			}
			var built bool
			for _, s := range compose.Services {
				if s.Build != nil && s.Build.Dockerfile == im.dockerfile {
					built = true
				}
			}
			if !built {
				t.Errorf("docker-compose.yml builds nothing from %s", im.dockerfile)
			}
		})
	}
}

// TestDockerignoreKeepsWorkspace: the workspace build needs go.work and
// every module's go.mod in the context.
func TestDockerignoreKeepsWorkspace(t *testing.T) {
	lines := strings.Split(string(readFile(t, ".dockerignore")), "\n")
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "go.work" || l == "go.work.sum" || l == "*.mod" || l == "**/go.mod" || l == "**/go.sum" {
			t.Errorf(".dockerignore excludes %s", l)
		}
	}
	joined := strings.Join(lines, "\n")
	for _, want := range []string{"!deploy/go.mod", "!deploy/go.sum", ".git"} {
		if !strings.Contains(joined, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
