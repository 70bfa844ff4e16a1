// Package depcheck holds the test that keeps the pure stages pure: the
// config, resolver and planner packages must never reach the Docker client
// or the AWS SDK, so they stay fast, testable and usable offline.
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

func TestPureStagesStayPure(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	for _, pkg := range pure {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 2 {
			t.Fatalf("go list -deps %s listed %d packages; the check would prove nothing", pkg, len(deps))
		}
		for _, d := range deps {
			for _, f := range forbidden {
				if strings.HasPrefix(d, f) || d == strings.TrimSuffix(f, "/") {
					t.Errorf("%s depends on %s: the pure stages must not reach %s", pkg, d, f)
				}
			}
		}
	}
}
