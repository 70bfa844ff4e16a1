package resolver

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestMixedMonorepo resolves testdata/mixed with the defaults: a uv
// workspace of four functions (and a library) beside Poetry projects,
// pip-compiled requirements and a pylock.toml under functions/, and one
// function under jobs/ that the defaults leave out and name.
func TestMixedMonorepo(t *testing.T) {
	const root = "../testdata/mixed"
	res, err := Resolve(context.Background(), loadConfig(t, root), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 1 {
		t.Fatalf("%d targets, want 1", len(res.Targets))
	}
	byName := map[string]Closure{}
	var names []string
	for _, c := range res.Targets[0].Functions {
		byName[c.Name] = c
		names = append(names, c.Name)
	}
	want := []string{"api", "billing", "catalog", "checkout", "cron", "exporter", "geo", "invoices", "mailer", "search", "thumbnails"}
	if !slices.Equal(names, want) {
		t.Errorf("functions = %v, want %v", names, want)
	}
	if got := fmt.Sprint(res.LeftOut); got != "[{jobs/nightly requirements.txt}]" {
		t.Errorf("left out = %s, want jobs/nightly", got)
	}
	for fn, want := range map[string][]string{
		"api":      {"fastapi", "mangum", "shopcore"}, // uv workspace member
		"billing":  {"aiohttp", "boto3"},              // Poetry
		"cron":     {"boto3", "python-dateutil"},      // compiled from requirements.in
		"geo":      {"orjson", "shapely"},             // pylock.toml compiled from requirements.in
		"invoices": {"boto3", "fpdf2", "jinja2"},
	} {
		c := byName[fn]
		if !slices.Equal(c.Direct, want) {
			t.Errorf("%s: direct %v, want %v", fn, c.Direct, want)
		}
		if len(c.Packages) <= len(want) || len(c.Unresolved) > 0 {
			t.Errorf("%s: %d packages, unresolved %v: want its locked closure", fn, len(c.Packages), c.Unresolved)
		}
	}
	// A pylock.toml alone is the closure.
	var geo []string
	for _, p := range byName["geo"].Packages {
		geo = append(geo, p.Name)
	}
	if !slices.Contains(geo, "numpy") || !slices.Contains(geo, "shapely") {
		t.Errorf("geo = %v, want shapely and numpy from its pylock.toml", geo)
	}
}

func TestFindCandidates(t *testing.T) {
	const member = "[project]\nname = %q\nversion = \"1\"\ndependencies = [%s]\n%s"
	dir := writeTree(t, map[string]string{
		"pyproject.toml":                   "[project]\nname = \"root\"\nversion = \"1\"\n\n[tool.uv.workspace]\nmembers = [\"svc/*\", \"libs/core\"]\n",
		"svc/api/pyproject.toml":           fmt.Sprintf(member, "api", `"core"`, "\n[tool.uv.sources]\ncore = { workspace = true }\n"),
		"svc/api/tests/requirements.txt":   "pytest==8.0.0\n", // inside a function: its tests
		"libs/core/pyproject.toml":         fmt.Sprintf(member, "core", "", ""),
		"libs/pdf/pyproject.toml":          fmt.Sprintf(member, "pdf", "", ""), // a Poetry project's path dependency
		"functions/bill/pyproject.toml":    "[tool.poetry]\nname = \"bill\"\nversion = \"1\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\npdf = { path = \"../../libs/pdf\" }\n",
		"functions/bill/poetry.lock":       "",
		"functions/geo/pylock.toml":        "lock-version = \"1.0\"\n",
		"jobs/nightly/requirements.txt":    "six==1.16.0\n",
		"tools/lint/requirements.txt":      "-e ../../libs/lintrules\n",
		"libs/lintrules/pyproject.toml":    fmt.Sprintf(member, "lintrules", "", ""), // a path dependency of tools/lint
		".github/scripts/requirements.txt": "six==1.16.0\n",
		"node_modules/x/requirements.txt":  "six==1.16.0\n",
		"a/b/c/d/e/requirements.txt":       "six==1.16.0\n", // deeper than the walk goes
	})
	ws, err := loadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	cands, err := FindCandidates(context.Background(), dir, ws)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(cands)
	want := "[{functions/bill pyproject.toml + poetry.lock} {functions/geo pylock.toml} {jobs/nightly requirements.txt} {svc/api uv workspace member} {tools/lint requirements.txt}]"
	if got != want {
		t.Errorf("candidates\n got %s\nwant %s", got, want)
	}
	fns, _, err := Discover(loadConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(LeftOut(cands, fns)); got != "[{jobs/nightly requirements.txt} {tools/lint requirements.txt}]" {
		t.Errorf("left out by the defaults: %s", got)
	}
}
