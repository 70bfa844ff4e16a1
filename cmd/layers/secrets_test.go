package main

import (
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

// TestNoSecretInMessages plants a password written literally in a
// requirement and checks that plan and build, failing on it, print it
// nowhere.
func TestNoSecretInMessages(t *testing.T) {
	const secret = "S3CRET-DO-NOT-PRINT"
	cases := []struct {
		name, reqs, want string
	}{
		{"conflict", "attrs @ https://tok:" + secret + "@host.example.invalid/attrs-23.1.0-py3-none-any.whl\nattrs==22.1.0\n",
			"functions/api/requirements.txt:2: attrs==22.1.0 conflicts with attrs @ https://****@host.example.invalid/attrs-23.1.0-py3-none-any.whl at functions/api/requirements.txt:1"},
		{"remote include", "-r https://alice:" + secret + "@host.example.invalid/reqs.txt\n",
			"functions/api/requirements.txt:1: requirements file https://****@host.example.invalid/reqs.txt is remote"},
		{"invalid requirement", "attrs @ https://tok:" + secret + "@host.example.invalid/attrs-22.1.0-py3-none-any.whl ; python_version >>> '3'\n",
			"functions/api/requirements.txt:1: "},
		{"password with an @", "attrs @ https://tok:" + secret + "@x@host.example.invalid/attrs-23.1.0-py3-none-any.whl\nattrs==22.1.0\n",
			"functions/api/requirements.txt:2: attrs==22.1.0 conflicts with attrs @ https://****@host.example.invalid/"},
	}
	image := dockertest.Image(t, dockertest.Engine(t)) // build gets as far as reading the inputs
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			testfs.WriteFiles(t, dir, map[string]string{
				"layers.toml":                    "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n[build]\nimage = \"" + image + "\"\n",
				"functions/api/requirements.txt": c.reqs,
			})
			for _, cmd := range [][]string{{"plan"}, {"plan", "--json"}, {"build"}} {
				code, stdout, stderr := runCLI(t, append(cmd, "--dir", dir)...)
				if code != 2 {
					t.Errorf("%s: exit %d, want 2; stderr:\n%s", cmd, code, stderr)
				}
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("%s prints the secret:\nstdout:\n%s\nstderr:\n%s", cmd, stdout, stderr)
				}
				if !strings.Contains(stderr, c.want) {
					t.Errorf("%s: stderr = %q, want %q", cmd, stderr, c.want)
				}
			}
		})
	}
}
