package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/layers-dev/layers/builder/cache"
)

func TestCacheLsPrune(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LAYERS_CACHE", dir)
	c, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"six", "idna"} {
		k := cache.Key{Distribution: name, Version: "1.0", Runtime: "python3.11", Architecture: "x86_64", ImageID: "sha256:x", Prune: "{}", Tool: "test"}
		_, err := c.Put(k, func(d string) error { return os.WriteFile(filepath.Join(d, name+".py"), []byte("x = 1\n"), 0o644) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, cache.ResolutionsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, cache.ResolutionsDir, "any-1.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "cache", "ls")
	if code != exitOK || !strings.Contains(stdout, "idna") || !strings.Contains(stdout, "six") ||
		!strings.Contains(stderr, "2 units, 12 bytes, and 1 cached resolutions, 2 bytes") {
		t.Errorf("ls: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "cache", "prune", "--older-than", "30d")
	if code != exitOK || !strings.Contains(stderr, "removed 0 units") {
		t.Errorf("prune 30d: exit %d %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "cache", "prune")
	if code != exitOK || !strings.Contains(stderr, "removed 2 units, 12 bytes, and 1 cached resolutions") {
		t.Errorf("prune: exit %d %s", code, stderr)
	}
	if entries, _ := c.List(); len(entries) != 0 {
		t.Errorf("%d entries left", len(entries))
	}
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"36h", 36 * time.Hour, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"0d", 0, false},
		{"-1h", 0, false},
		{"soon", 0, false},
		{"1.5d", 0, false},
	}
	for _, tt := range tests {
		got, err := parseAge(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseAge(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// `layers cache ls` only reads: a cache that does not exist lists as empty
// and is not created.
func TestCacheLsCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	t.Setenv("LAYERS_CACHE", dir)
	code, _, stderr := runCLI(t, "cache", "ls")
	if code != 0 || !strings.Contains(stderr, "0 units") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cache ls created %s: %v", dir, err)
	}
}
