package verify

import (
	"regexp"
	"sort"
	"strings"
)

// Module is one module verify imports.
type Module struct {
	Name string `json:"module"`
	// Dist is the distribution it belongs to; "" for the handler's module.
	Dist string `json:"dist,omitempty"`
	// Attr is the handler's function name, checked after the import.
	Attr string `json:"attr,omitempty"`
}

// junkTops are top-level names some distributions install by mistake
// (tests and docs folders shipped next to the package); no function
// imports them, and [prune] tests may remove them.
var junkTops = map[string]bool{
	"test": true, "tests": true, "doc": true, "docs": true,
	"example": true, "examples": true, "benchmark": true, "benchmarks": true,
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var dottedName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// Modules lists what verify imports for a distribution in t, and what it
// leaves out with the reason.
//
// The names come from top_level.txt when the .dist-info has one, else from
// RECORD: the first part of every path that ends in .py, .so or .pyd,
// when it is a Python identifier (not .dist-info, .data or auditwheel's
// numpy.libs), except __pycache__, bin and paths outside the root
// ("../../bin/x"). A namespace folder (no __init__.py) stands for
// the packages the distribution installs inside it ("google" becomes
// "google.protobuf"). Left out: names that are no Python identifier,
// tests/docs/examples folders, and names the distribution never installed
// (a stale top_level.txt line). A name it installed that is missing from
// the layers now is kept: its import fails, which is what a pruning rule
// that removed it must cause.
func Modules(d *Dist, t *Tree) (mods []string, left map[string]string) {
	left = map[string]string{}
	installed := recordTops(d.Record)
	var names []string
	if d.TopLevel != nil {
		for _, n := range d.TopLevel {
			names = append(names, strings.ReplaceAll(strings.TrimSuffix(n, "/"), "/", "."))
		}
	} else {
		for n := range installed {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for _, n := range names {
		top, _, _ := strings.Cut(n, ".")
		switch {
		case !dottedName.MatchString(n):
			left[n] = "not a Python module name"
			continue
		case junkTops[top]:
			left[n] = "a tests, docs or examples folder, not part of the package's API"
			continue
		}
		switch t.kind(n) {
		case absent:
			if d.Record != nil && !installed[top] {
				left[n] = "named by top_level.txt but not installed by the distribution"
				continue
			}
		case namespace:
			if subs := namespaceMembers(n, d.Record, t, 0); len(subs) > 0 {
				for _, s := range subs {
					if !seen[s] {
						seen[s] = true
						mods = append(mods, s)
					}
				}
				continue
			}
		}
		if !seen[n] {
			seen[n] = true
			mods = append(mods, n)
		}
	}
	return mods, left
}

// recordTops returns the top-level module names RECORD's paths install.
func recordTops(record []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range record {
		if strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") || p == ".." {
			continue
		}
		top, rest, nested := strings.Cut(p, "/")
		if !nested {
			if mod, ok := moduleOfFile(p); ok {
				out[mod] = true
			}
			continue
		}
		if top == "__pycache__" || top == "bin" || !identifier.MatchString(top) {
			continue // also .dist-info, .data and auditwheel's pkg.libs folders
		}
		if _, ok := moduleOfFile(rest); ok || strings.HasSuffix(rest, "__init__.py") {
			out[top] = true
		}
	}
	return out
}

// namespaceMembers returns the modules and packages the distribution
// installs directly inside the namespace folder ns, descending into
// nested namespace folders.
func namespaceMembers(ns string, record []string, t *Tree, depth int) []string {
	if depth > 3 {
		return nil
	}
	prefix := strings.ReplaceAll(ns, ".", "/") + "/"
	set := map[string]bool{}
	for _, p := range record {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		child, _, nested := strings.Cut(rest, "/")
		if !nested {
			if mod, ok := moduleOfFile(rest); ok && mod != "" {
				set[ns+"."+mod] = true
			}
			continue
		}
		if child != "__pycache__" && dottedName.MatchString(child) {
			set[ns+"."+child] = true
		}
	}
	var out []string
	for m := range set {
		if t.kind(m) == namespace {
			if subs := namespaceMembers(m, record, t, depth+1); len(subs) > 0 {
				out = append(out, subs...)
				continue
			}
		}
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// providedTops returns every top-level module name the tree can provide:
// those its files hold and those its distributions install.
func providedTops(t *Tree) map[string]bool {
	out := map[string]bool{}
	for k := range t.tops {
		for _, r := range t.Roots {
			if rel, ok := strings.CutPrefix(k, r+"/"); ok {
				top, _, _ := strings.Cut(rel, ".")
				out[top] = true
			}
		}
	}
	for _, d := range t.Dists {
		for n := range recordTops(d.Record) {
			out[n] = true
		}
		for _, n := range d.TopLevel {
			top, _, _ := strings.Cut(strings.ReplaceAll(n, "/", "."), ".")
			out[top] = true
		}
	}
	return out
}
