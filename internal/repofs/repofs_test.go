package repofs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/layers-dev/layers/internal/diag"
)

// tree makes a repository root under a temporary folder with a sibling
// "outside" folder and links into and out of the root.
func tree(t testing.TB) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "repo"), filepath.Join(base, "outside")
	for _, d := range []string{root + "/libs/shared/src", root + "/common", outside + "/proj"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{root + "/common/helper.py": "x = 1\n", outside + "/secret.txt": "SECRET\n", outside + "/proj/pyproject.toml": "[project]\n"} {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		root + "/libs/shared/src/helper.py": "../../../common/helper.py", // inside
		root + "/in":                        "common",                    // inside, a folder
		root + "/out":                       "../outside",                // leaves
		root + "/etc":                       "/etc",                      // leaves, absolute
		root + "/common/up":                 "..",                        // the root itself
		root + "/common/upup":               "../..",                     // leaves
		root + "/dangling":                  "../outside/missing",        // leaves, dangling
		root + "/chain":                     "in/up/out",                 // leaves through a chain
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

func TestRel(t *testing.T) {
	root, outside := tree(t)
	for _, tc := range []struct {
		dir, written, want, err string
	}{
		{".", "libs/shared", "libs/shared", ""},
		{"libs/shared", "../../common/helper.py", "common/helper.py", ""},
		{".", "libs/shared/src/helper.py", "libs/shared/src/helper.py", ""},
		{".", "in/helper.py", "in/helper.py", ""},
		{".", "common/up/common", "common/up/common", ""},
		{".", "missing/file.whl", "missing/file.whl", ""},
		{".", root + "/common", "common", ""},
		{".", ".", ".", ""},
		{"api", "../../../../outside/proj", "", "../../../../outside/proj is outside the repository"},
		{".", "..", "", ".. is outside the repository"},
		{".", "/etc/passwd", "", "/etc/passwd is outside the repository"},
		{".", outside + "/proj", "", outside + "/proj is outside the repository"},
		{".", "out/proj", "", "out/proj is outside the repository: out is a symbolic link that leads out of it"},
		{".", "out", "", "out is a symbolic link that leads outside the repository"},
		{".", "etc/passwd", "", "etc/passwd is outside the repository: etc is a symbolic link that leads out of it"},
		{".", "common/upup/outside/secret.txt", "", "common/upup/outside/secret.txt is outside the repository: common/upup is a symbolic link that leads out of it"},
		{".", "dangling", "", "dangling is a symbolic link that leads outside the repository"},
		{"libs", "../chain/x", "", "../chain/x is outside the repository: chain is a symbolic link that leads out of it"},
	} {
		got, err := Rel(root, tc.dir, tc.written)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("Rel(%q, %q): %v", tc.dir, tc.written, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("Rel(%q, %q) = %q, want %q", tc.dir, tc.written, got, tc.want)
		case tc.err != "" && (err == nil || err.Error() != tc.err || !errors.Is(err, ErrOutside)):
			t.Errorf("Rel(%q, %q) = %q, %v; want error %q", tc.dir, tc.written, got, err, tc.err)
		}
	}
}

func TestRead(t *testing.T) {
	root, _ := tree(t)
	big := filepath.Join(root, "big.txt")
	if err := os.WriteFile(big, make([]byte, MaxInputBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(root, "zero.txt")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.txt"), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys := os.DirFS(root)
	for name, want := range map[string]string{
		"big.txt":  "big.txt: larger than 8 MiB: layers reads input files up to that size",
		"zero.txt": "zero.txt: a device, not a regular file: layers reads only regular files",
		"fifo.txt": "fifo.txt: a named pipe, not a regular file: layers reads only regular files",
	} {
		done := make(chan error, 1)
		go func() { _, err := Read(fsys, name); done <- err }()
		select {
		case err := <-done:
			if err == nil || err.Error() != want || !diag.IsInput(err) {
				t.Errorf("Read(%s) = %v, want %q", name, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Read(%s) hangs", name)
		}
	}
	data, err := Read(fsys, "libs/shared/src/helper.py")
	if err != nil || string(data) != "x = 1\n" {
		t.Errorf("Read of a link inside = %q, %v", data, err)
	}
	if _, err := ReadFile(root, "out/secret.txt"); err == nil || err.Error() != "out/secret.txt: out is a symbolic link that leads outside the repository" || !diag.IsInput(err) {
		t.Errorf("ReadFile through a link out = %v", err)
	}
}

// FuzzRel checks that no path Rel accepts resolves outside the root, and
// that Rel never accepts a path it cannot relate.
func FuzzRel(f *testing.F) {
	for _, s := range []string{"libs/shared", "../x", "/etc/passwd", "out/proj", "common/upup/outside", "in/up/in/up/out", "chain/x", "a/../../b", "dangling", "./in//helper.py", "common/up/.."} {
		f.Add("libs", s)
		f.Add(".", s)
	}
	root, _ := tree(f)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, dir, written string) {
		if strings.ContainsRune(written, 0) || strings.ContainsRune(dir, 0) {
			return
		}
		rel, err := Rel(root, dir, written)
		if err != nil {
			if !errors.Is(err, ErrOutside) {
				t.Fatalf("Rel(%q, %q): %v is not ErrOutside", dir, written, err)
			}
			return
		}
		// Resolve the longest existing prefix; what follows it cannot be a link.
		p := filepath.Join(root, filepath.FromSlash(rel))
		rest := ""
		for {
			r, err := filepath.EvalSymlinks(p)
			if err == nil {
				p = filepath.Join(r, rest)
				break
			}
			if _, lerr := os.Lstat(p); lerr == nil {
				return // a dangling or looping link Rel checked by its text
			}
			rest = filepath.Join(filepath.Base(p), rest)
			p = filepath.Dir(p)
		}
		if !within(realRoot, p) {
			t.Fatalf("Rel(%q, %q) = %q, which resolves to %s, outside %s", dir, written, rel, p, realRoot)
		}
	})
}
