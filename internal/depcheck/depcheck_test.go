// Package depcheck holds the tests that keep the stages apart: the config,
// resolver and planner packages never reach the Docker client or the AWS
// SDK, so they stay fast, testable and usable offline; and the later
// stages never call the earlier ones (publish reads what build wrote, it
// does not run the builder or the pipeline).
package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

var pure = []string{
	"github.com/layers-dev/layers/config",
	"github.com/layers-dev/layers/resolver",
	"github.com/layers-dev/layers/planner",
}

var forbidden = []string{
	"github.com/docker/",
	"github.com/moby/",
	"github.com/aws/",
	"net/http",
}

// later maps a later stage to the earlier ones it must not import.
var later = map[string][]string{
	"github.com/layers-dev/layers/publish/...": {"github.com/layers-dev/layers/pipeline", "github.com/layers-dev/layers/builder"},
	"github.com/layers-dev/layers/verify":      {"github.com/layers-dev/layers/pipeline", "github.com/layers-dev/layers/builder"},
	"github.com/layers-dev/layers/report":      {"github.com/layers-dev/layers/pipeline", "github.com/layers-dev/layers/builder"},
}

// deps lists pkg's dependencies, pkg included.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	ds := strings.Fields(string(out))
	if len(ds) < 2 {
		t.Fatalf("go list -deps %s listed %d packages; the check would prove nothing", pkg, len(ds))
	}
	return ds
}

func TestLaterStagesDoNotCallEarlierOnes(t *testing.T) {
	for pkg, banned := range later {
		for _, d := range deps(t, pkg) {
			for _, b := range banned {
				if d == b {
					t.Errorf("%s depends on %s: a later stage reads what an earlier one wrote, it does not run it", pkg, d)
				}
			}
		}
	}
}

func TestPureStagesStayPure(t *testing.T) {
	for _, pkg := range pure {
		for _, d := range deps(t, pkg) {
			for _, f := range forbidden {
				if strings.HasPrefix(d, f) || d == strings.TrimSuffix(f, "/") {
					t.Errorf("%s depends on %s: the pure stages must not reach %s", pkg, d, f)
				}
			}
		}
	}
}
