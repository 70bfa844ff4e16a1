// Package testfs writes the file trees tests run on: a repository's
// layers.toml and requirements, a package's modules.
package testfs

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFiles writes files (slash paths relative to dir, and their
// contents) under dir, creating folders as needed; it fails the test on
// any error.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Tree writes files into a new temporary folder, removed after the test,
// and returns it.
func Tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	WriteFiles(t, dir, files)
	return dir
}
