package resolver

import (
	"slices"
	"strings"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep508"
)

// A requirements file is a closure only once every package it names is pinned.

// reqPin says how one requirement line fixes its package, if it does.
type reqPin struct {
	source  Source
	version string // "" when the line does not tell
	url     string
	path    string
}

func (f *RequirementsFile) pinOf(r *Requirement) (reqPin, bool) {
	switch {
	case r.LocalPath != "":
		return reqPin{source: SourceLocal, version: f.local[r.LocalPath].version, path: r.LocalPath}, true
	case r.URL != "":
		return reqPin{source: SourceURL, version: urlVersion(r.URL), url: r.URL}, true
	}
	v, ok := r.Specifier.Pin()
	return reqPin{source: SourceRegistry, version: v}, ok
}

// groupLine is a requirement or constraint line of one package name.
type groupLine struct {
	r          *Requirement
	constraint bool
}

// groups gathers, for each package name the requirements name in env, its
// requirement lines then its constraint lines, each in file order.
func (f *RequirementsFile) groups(env pep508.Env) (names []string, groups map[string][]groupLine) {
	groups = map[string][]groupLine{}
	for i := range f.Requirements {
		r := &f.Requirements[i]
		if !r.Marker.Evaluate(env) {
			continue
		}
		if _, seen := groups[r.Name]; !seen {
			names = append(names, r.Name)
		}
		groups[r.Name] = append(groups[r.Name], groupLine{r: r})
	}
	for i := range f.Constraints {
		c := &f.Constraints[i]
		if g, ok := groups[c.Name]; ok && c.Marker.Evaluate(env) {
			groups[c.Name] = append(g, groupLine{r: c, constraint: true})
		}
	}
	return names, groups
}

// anchor picks the line that fixes a group's package: a local or URL
// requirement first (pip installs a direct reference and checks the other
// lines against it), then a pinned requirement, then constraints likewise.
func (f *RequirementsFile) anchor(g []groupLine) (groupLine, reqPin, bool) {
	for _, constraint := range []bool{false, true} {
		for _, direct := range []bool{true, false} {
			for _, l := range g {
				if l.constraint != constraint {
					continue
				}
				if pn, ok := f.pinOf(l.r); ok && (pn.source != SourceRegistry) == direct {
					return l, pn, true
				}
			}
		}
	}
	return groupLine{}, reqPin{}, false
}

// Pinned returns the requirements that are not fully pinned once markers are
// evaluated in env: a requirement is pinned by ==V (no wildcard), ===V, a URL
// or a local path, on its own line, on another line of the same name, or by a
// constraint. An empty result means the file can become a closure.
func (f *RequirementsFile) Pinned(env pep508.Env) (unpinned []Requirement) {
	names, groups := f.groups(env)
	for _, name := range names {
		g := groups[name]
		if _, _, ok := f.anchor(g); ok {
			continue
		}
		for _, l := range g {
			if !l.constraint {
				unpinned = append(unpinned, *l.r)
			}
		}
	}
	return unpinned
}

// Packages turns a fully pinned file into a closure: one Package per package
// name its requirements name in env, sorted by name. Constraints pin
// unpinned requirements of the same name and never add packages. Lines of
// one name that disagree (two pins, a pin outside a constraint, hashes with
// nothing in common) are a *diag.Error at the requirement's line naming the
// other one; an unpinned requirement is a *diag.Error too.
func (f *RequirementsFile) Packages(env pep508.Env) ([]Package, error) {
	names, groups := f.groups(env) // in file order, so that the first problem is reported
	out := make([]Package, 0, len(names))
	for _, name := range names {
		g := groups[name]
		a, pn, ok := f.anchor(g)
		if !ok {
			r := g[0].r
			return nil, diag.Errorf(r.Path, r.Line, "%s is not pinned: pin it with == (or compile the file with pip-compile or uv pip compile)", r.Raw)
		}
		hashes, hashesFrom := a.r.Hashes, a
		for _, x := range g {
			if x.r == a.r {
				continue
			}
			if !agrees(&pn, x.r) {
				return nil, lineConflict(a, x, "%s conflicts with %s%s at %s:%d")
			}
			switch {
			case len(x.r.Hashes) == 0:
			case len(hashes) == 0:
				hashes, hashesFrom = x.r.Hashes, x
			default:
				// pip intersects the hashes of every line of a name.
				if hashes = intersectHashes(hashes, x.r.Hashes); len(hashes) == 0 {
					return nil, lineConflict(hashesFrom, x, "the hashes of %s share none with those of %s%s at %s:%d")
				}
			}
		}
		pkg := Package{Name: name, Version: pn.version, Source: pn.source, URL: pn.url, Path: pn.path, Pin: Pin{File: a.r.Path, Line: a.r.Line}}
		if len(hashes) > 0 {
			pkg.Hashes = slices.Clone(hashes)
		}
		out = append(out, pkg)
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// agrees reports whether line x accepts the package pn; it learns the
// version from x when pn's own line does not tell it.
func agrees(pn *reqPin, x *Requirement) bool {
	switch {
	case x.LocalPath != "":
		return pn.source == SourceLocal && pn.path == x.LocalPath
	case x.URL != "":
		return pn.source == SourceURL && pn.url == x.URL
	case x.Specifier.IsZero():
		return true
	case pn.version == "":
		if v, ok := x.Specifier.Pin(); ok {
			pn.version = v
		}
		return true
	}
	return x.Specifier.Contains(pn.version)
}

// lineConflict reports two disagreeing lines of one name at the requirement's
// line (the later one when both are requirements or both constraints).
// format takes: this line, "constraint " or "", the other line, its path and line.
func lineConflict(a, x groupLine, format string) error {
	at, other := x, a
	if x.constraint && !a.constraint {
		at, other = a, x
	}
	kind := ""
	if other.constraint && !at.constraint {
		kind = "constraint "
	}
	return diag.Errorf(at.r.Path, at.r.Line, format, at.r.Raw, kind, other.r.Raw, other.r.Path, other.r.Line)
}

func intersectHashes(a, b []string) []string {
	var out []string
	for _, h := range a {
		if slices.Contains(b, h) {
			out = append(out, h)
		}
	}
	return out
}
