package resolver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

// outsideRepo writes a repository at base/repo/repo (deep enough for the
// ../../../../ of the cases) and a project and a secret file at
// base/outside, and returns the repository's root.
func outsideRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	base := t.TempDir()
	testfs.WriteFiles(t, base, map[string]string{
		"outside/proj/pyproject.toml": "[project]\nname = \"proj\"\nversion = \"1.0\"\n",
		"outside/secret.txt":          "SECRET-FIRST-LINE==1\n",
	})
	root := filepath.Join(base, "repo", "repo")
	testfs.WriteFiles(t, root, files)
	return root
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// resolveErr resolves root and returns the error, failing the test when
// there is none or it hangs.
func resolveErr(t *testing.T, root string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Resolve(context.Background(), loadConfig(t, root), Options{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Resolve succeeded")
		}
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Resolve hangs")
	}
	return nil
}

// TestInputPathsStayInside covers every input format naming a path that
// leaves the repository, as written or through a symbolic link: each is one
// input error at the file and line, and nothing of the outside file shows.
func TestInputPathsStayInside(t *testing.T) {
	const pyproj = "[project]\nname = \"api\"\nversion = \"1\"\ndependencies = [\"proj\"]\n"
	cases := []struct {
		name  string
		files map[string]string
		links map[string]string // link -> target, relative to the root
		want  string
	}{
		{"pylock directory", map[string]string{
			"layers.toml":               "[function.api]\nrequirements = \"pylock.toml\"\n",
			"functions/api/pylock.toml": "lock-version = \"1.0\"\ncreated-by = \"t\"\n\n[[packages]]\nname = \"proj\"\ndirectory = { path = \"../../../../outside/proj\" }\n",
		}, nil, "functions/api/pylock.toml:6: ../../../../outside/proj is outside the repository"},
		{"pylock archive", map[string]string{
			"layers.toml":               "[function.api]\nrequirements = \"pylock.toml\"\n",
			"functions/api/pylock.toml": "lock-version = \"1.0\"\ncreated-by = \"t\"\n\n[[packages]]\nname = \"passwd\"\nversion = \"1\"\narchive = { path = \"/etc/passwd\" }\n",
		}, nil, "functions/api/pylock.toml:7: /etc/passwd is outside the repository"},
		{"pylock directory through a link", map[string]string{
			"layers.toml":               "[function.api]\nrequirements = \"pylock.toml\"\n",
			"functions/api/pylock.toml": "lock-version = \"1.0\"\ncreated-by = \"t\"\n\n[[packages]]\nname = \"proj\"\ndirectory = { path = \"../../libs/proj\" }\n",
		}, map[string]string{"libs": "../../outside"}, "functions/api/pylock.toml:6: ../../libs/proj is outside the repository: libs is a symbolic link that leads out of it"},
		{"uv.lock directory", map[string]string{
			"functions/api/pyproject.toml":           pyproj + "\n[tool.uv.sources]\nproj = { path = \"libs/proj\" }\n",
			"functions/api/libs/proj/pyproject.toml": "[project]\nname = \"proj\"\nversion = \"1.0\"\n",
			"functions/api/uv.lock":                  "version = 1\nrequires-python = \">=3.9\"\n\n[[package]]\nname = \"api\"\nversion = \"1\"\nsource = { editable = \".\" }\ndependencies = [{ name = \"proj\" }]\n\n[[package]]\nname = \"proj\"\nversion = \"1.0\"\nsource = { directory = \"../../../../outside/proj\" }\n",
		}, nil, "functions/api/uv.lock:13: ../../../../outside/proj is outside the repository"},
		{"requirements file linking out", map[string]string{
			"functions/api/handler.py": "",
		}, map[string]string{"functions/api/requirements.txt": "../../../../outside/secret.txt"}, "functions/api/requirements.txt: a symbolic link that leads outside the repository"},
		{"include linking out", map[string]string{
			"functions/api/requirements.txt": "six==1.16.0\n-r z.txt\n",
		}, map[string]string{"functions/api/z.txt": "../../../../outside/secret.txt"}, "functions/api/requirements.txt:2: requirements file z.txt is a symbolic link that leads outside the repository"},
		{"include through a linked folder", map[string]string{
			"functions/api/requirements.txt": "-c ../../up/secret.txt\n",
		}, map[string]string{"up": "../../outside"}, "functions/api/requirements.txt:1: constraints file ../../up/secret.txt is outside the repository: up is a symbolic link that leads out of it"},
		{"local folder linking out", map[string]string{
			"functions/api/requirements.txt": "./proj\n",
		}, map[string]string{"functions/api/proj": "../../../../outside/proj"}, "functions/api/requirements.txt:1: ./proj is a symbolic link that leads outside the repository"},
		{"editable folder linking out", map[string]string{
			"functions/api/requirements.txt": "-e ./proj\n",
		}, map[string]string{"functions/api/proj": "../../../../outside/proj"}, "functions/api/requirements.txt:1: ./proj is a symbolic link that leads outside the repository"},
		{"pyproject path source linking out", map[string]string{
			"functions/api/pyproject.toml": pyproj + "\n[tool.uv.sources]\nproj = { path = \"proj\" }\n",
		}, map[string]string{"functions/api/proj": "../../../../outside/proj"}, "functions/api/pyproject.toml:7: "},
		{"layers.toml requirements leaving the root", map[string]string{
			"layers.toml":              "[function.api]\nrequirements = \"../../../../outside/secret.txt\"\n",
			"functions/api/handler.py": "",
		}, nil, "../../outside/secret.txt: outside the repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := outsideRepo(t, c.files)
			for link, target := range c.links {
				symlink(t, target, filepath.Join(root, filepath.FromSlash(link)))
			}
			err := resolveErr(t, root)
			if !diag.IsInput(err) || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %v (input: %t), want %s…", err, diag.IsInput(err), c.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the error shows the outside file: %v", err)
			}
		})
	}
}

// TestInputFilesBounded: a requirements file or include that is a device,
// a named pipe or too large is refused at once, naming it.
func TestInputFilesBounded(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, root string)
		want  string
	}{
		{"include of /dev/zero", func(t *testing.T, root string) {
			testfs.WriteFiles(t, root, map[string]string{"functions/api/requirements.txt": "six==1.16.0\n-r z.txt\n"})
			symlink(t, "/dev/zero", filepath.Join(root, "functions/api/z.txt"))
		}, "functions/api/requirements.txt:2: requirements file z.txt is a symbolic link that leads outside the repository"},
		{"a named pipe as requirements.txt", func(t *testing.T, root string) {
			testfs.WriteFiles(t, root, map[string]string{"functions/api/handler.py": ""})
			if err := syscall.Mkfifo(filepath.Join(root, "functions/api/requirements.txt"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "functions/api/requirements.txt: a named pipe, not a regular file: layers reads only regular files"},
		{"a huge pyproject.toml", func(t *testing.T, root string) {
			testfs.WriteFiles(t, root, map[string]string{"functions/api/pyproject.toml": "[project]\nname = \"api\"\n" + strings.Repeat("#\n", 5<<20)})
		}, "functions/api/pyproject.toml: larger than 8 MiB: layers reads input files up to that size"},
		{"a huge uv.lock", func(t *testing.T, root string) {
			testfs.WriteFiles(t, root, map[string]string{
				"functions/api/pyproject.toml": "[project]\nname = \"api\"\nversion = \"1\"\ndependencies = []\n",
				"functions/api/uv.lock":        strings.Repeat("#\n", 5<<20),
			})
		}, "functions/api/uv.lock: larger than 8 MiB: layers reads input files up to that size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := outsideRepo(t, nil)
			c.setup(t, root)
			err := resolveErr(t, root)
			if !diag.IsInput(err) || err.Error() != c.want {
				t.Errorf("error = %v (input: %t), want %s", err, diag.IsInput(err), c.want)
			}
		})
	}
}

// TestLocalPackageLinkOutStopsPlan: a symbolic link in a local package's
// folder that leads out of the repository is an input error at plan time,
// naming the link.
func TestLocalPackageLinkOutStopsPlan(t *testing.T) {
	root := outsideRepo(t, map[string]string{
		"functions/api/requirements.txt":     "-e ../../libs/shared\n",
		"libs/shared/pyproject.toml":         "[project]\nname = \"shared\"\nversion = \"1.0\"\n",
		"libs/shared/src/shared/__init__.py": "",
	})
	symlink(t, "../../../../../outside/secret.txt", filepath.Join(root, "libs/shared/src/shared/secret.py"))
	err := resolveErr(t, root)
	want := "libs/shared/src/shared/secret.py: a symbolic link that leads outside the repository: nothing outside the repository goes into a build"
	if !diag.IsInput(err) || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}
