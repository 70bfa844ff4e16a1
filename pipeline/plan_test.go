package pipeline

import (
	"testing"

	"github.com/layers-dev/layers/resolver"
)

func TestPackageDocumentsRedactCredentials(t *testing.T) {
	docs := packageDocuments([]resolver.Package{
		{Name: "private", Version: "1.0", Source: resolver.SourceURL, URL: "https://user:s3cret@git.example.invalid/private.git@v1"},
		{Name: "public", Version: "2.0", Source: resolver.SourceRegistry, URL: "https://index.example.invalid/simple", Hashes: []string{"sha256:00"}},
		{Name: "lib", Version: "0.1", Source: resolver.SourceLocal, Path: "libs/lib"},
	})
	if got := docs[0].URL; got != "https://****@git.example.invalid/private.git@v1" {
		t.Errorf("url package: URL = %q, want the credentials redacted", got)
	}
	if docs[1].URL != "" {
		t.Errorf("registry package: URL = %q, want none (the index is not part of the closure)", docs[1].URL)
	}
	if docs[2].Path != "libs/lib" {
		t.Errorf("local package: Path = %q", docs[2].Path)
	}
}
