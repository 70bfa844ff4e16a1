package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeExample parses the layers.toml the README shows, so that the
// example a user copies is one layers accepts.
func TestReadmeExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n## layers.toml\n")
	if !ok {
		t.Fatal("the README has no layers.toml section")
	}
	_, block, ok := strings.Cut(rest, "```toml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the README's layers.toml section has no toml block")
	}
	if _, err := Parse(filepath.Join(t.TempDir(), FileName), []byte(block)); err != nil {
		t.Errorf("the README's layers.toml example: %v", err)
	}
}
