package testfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTree(t *testing.T) {
	dir := Tree(t, map[string]string{"a/b/c.txt": "c", "d.txt": ""})
	for name, want := range map[string]string{"a/b/c.txt": "c", "d.txt": ""} {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}
