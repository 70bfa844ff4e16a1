package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
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

// TestPlanTellsURLPackagesApart checks two functions asking for one name
// from two VCS URLs get two artifacts: no layer serves one function the
// other's build, and the plan names each by its URL, not as name==0.
func TestPlanTellsURLPackagesApart(t *testing.T) {
	cfg := repo(t, map[string]string{
		"layers.toml":                  "runtime = \"python3.11\"\n",
		"functions/a/requirements.txt": "attrs @ git+https://tok:s3cret@git.example.invalid/attrs.git@22.1.0\nsix==1.16.0\n",
		"functions/a/app.py":           "",
		"functions/b/requirements.txt": "attrs @ git+https://git.example.invalid/attrs.git@23.1.0\nsix==1.16.0\n",
		"functions/b/app.py":           "",
	})
	doc, err := Plan(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp := doc.plan().Targets[0]
	holders := map[string][]string{} // attrs release -> layers holding it
	for _, l := range tp.Layers {
		for _, p := range l.Packages {
			if p.Name == "attrs" {
				holders[p.String()] = append(holders[p.String()], l.Name)
			}
		}
	}
	if len(holders) != 2 {
		t.Fatalf("attrs in layers as %v, want two artifacts, one per URL", holders)
	}
	for _, f := range tp.Functions {
		var attrs []string
		for _, l := range f.Layers {
			for k, ls := range holders {
				if slices.Contains(ls, l) {
					attrs = append(attrs, k)
				}
			}
		}
		if len(attrs) != 1 {
			t.Errorf("function %s gets attrs from %v, want one", f.Name, attrs)
		}
	}
	explained, ok := doc.Explain("attrs")
	if !ok {
		t.Fatal("explain attrs: not found")
	}
	var text strings.Builder
	if err := doc.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{explained, text.String(), fmt.Sprint(holders)} {
		if strings.Contains(out, "==0") || strings.Contains(out, "s3cret") || strings.Contains(out, "\n  0:") {
			t.Errorf("output shows a made-up version or a credential:\n%s", out)
		}
	}
	for _, w := range []string{"git+https://git.example.invalid/attrs.git@23.1.0:", "git+https://****@git.example.invalid/attrs.git@22.1.0:"} {
		if !strings.Contains(explained, w) {
			t.Errorf("explain lacks %q:\n%s", w, explained)
		}
	}
}

// TestPlanFreeLayerSlots checks the plan says how many layers each
// function could still attach, and names those with none left.
func TestPlanFreeLayerSlots(t *testing.T) {
	for _, c := range []struct {
		limits   string
		wantFree map[string]int
		note     bool
	}{
		{"layers_per_function = 2\nreserved_layers = 0\n", map[string]int{"a": 1, "b": 0, "c": 0}, true},
		{"layers_per_function = 3\n", map[string]int{"a": 2, "b": 1, "c": 1}, false}, // reserved_layers = 1 by default
	} {
		cfg := repo(t, map[string]string{
			"layers.toml":                  "runtime = \"python3.11\"\n[limits]\n" + c.limits,
			"functions/a/requirements.txt": "six==1.16.0\n",
			"functions/b/requirements.txt": "six==1.16.0\nidna==3.10\n",
			"functions/c/requirements.txt": "idna==3.10\nattrs==24.2.0\n",
			"functions/d/requirements.txt": "six==1.16.0\n",
		})
		cfg.Function = map[string]config.Function{"d": {Package: config.PackageImage, Handler: "app.handler"}}
		cfg.Image.Repository = "repo"
		doc, err := Plan(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range doc.Targets[0].Functions {
			want, layered := c.wantFree[f.Name]
			switch {
			case !layered && f.FreeLayerSlots != nil:
				t.Errorf("%s: image function with %d free layer slots", f.Name, *f.FreeLayerSlots)
			case layered && (f.FreeLayerSlots == nil || *f.FreeLayerSlots != want):
				t.Errorf("%q: %s has layers %v, free slots %v, want %d", c.limits, f.Name, f.Layers, f.FreeLayerSlots, want)
			}
		}
		var text strings.Builder
		if err := doc.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		note := "no free layer slot: b, c; an extension layer (Powertools, Datadog) would break their deploy"
		if strings.Contains(text.String(), note) != c.note || !strings.Contains(text.String(), " FREE ") {
			t.Errorf("%q: plan text (want the note: %v):\n%s", c.limits, c.note, text.String())
		}
	}
}
