package pep440

import (
	"cmp"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Specifier is a comma-separated list of version clauses (">=1.0, !=1.3.*, <2").
// The zero Specifier matches every version.
type Specifier struct {
	raw string
	// The first clause is kept inline so that the common one-clause
	// specifier, and every clause a marker builds while it is evaluated,
	// needs no allocation.
	first clause
	more  []clause
	n     int
}

// clause is one `op version` of a specifier.
type clause struct {
	op       op
	text     string  // the version as written, ".*" included
	ver      Version // text parsed, without ".*"; unused for ===
	wildcard bool
}

type op uint8

const (
	opArbitrary    op = iota + 1 // ===
	opCompatible                 // ~=
	opEqual                      // ==
	opNotEqual                   // !=
	opLessEqual                  // <=
	opGreaterEqual               // >=
	opLess                       // <
	opGreater                    // >
)

// opNames is in matching order: longer operators before their prefixes.
var opNames = [...]string{opArbitrary: "===", opCompatible: "~=", opEqual: "==", opNotEqual: "!=",
	opLessEqual: "<=", opGreaterEqual: ">=", opLess: "<", opGreater: ">"}

// ParseSpecifier parses a specifier list as PEP 508 writes it after a
// project name: clauses separated by commas, each an operator and a version
// with optional whitespace around both. A trailing comma is accepted, as
// pip does; an empty clause elsewhere is an error. The empty string is valid
// and matches everything.
func ParseSpecifier(s string) (Specifier, error) {
	sp := Specifier{raw: trimSpace(s)}
	for rest := sp.raw; rest != ""; {
		part, tail, more := strings.Cut(rest, ",")
		part = trimSpace(part)
		if part == "" {
			if !more && sp.n > 0 {
				break // "a, b," : the trailing comma
			}
			return Specifier{}, fmt.Errorf("invalid specifier %q: empty clause", sp.raw)
		}
		o, version := splitOp(part)
		if o == 0 {
			return Specifier{}, fmt.Errorf("invalid specifier %q: %q does not start with an operator (==, !=, <=, >=, <, >, ~=, ===)", sp.raw, part)
		}
		c, problem := newClause(o, version)
		if problem != "" {
			return Specifier{}, fmt.Errorf("invalid specifier %q: %s in %q", sp.raw, problem, part)
		}
		sp.add(c)
		if !more {
			break
		}
		rest = tail
	}
	return sp, nil
}

// Clause returns the one-clause specifier that packaging's Specifier(op +
// version) builds, and whether it is valid: environment markers compare
// versions this way. Unlike ParseSpecifier it does not split at commas, and
// it does not allocate.
func Clause(op, version string) (Specifier, bool) {
	o := opByName(op)
	if strings.HasPrefix(version, "=") {
		// The text is the concatenation: "<" and "=3" make "<=3".
		switch o {
		case opLess:
			o, version = opLessEqual, version[1:]
		case opGreater:
			o, version = opGreaterEqual, version[1:]
		case opEqual:
			o, version = opArbitrary, version[1:]
		}
	}
	if o == 0 {
		return Specifier{}, false
	}
	c, problem := newClause(o, version)
	if problem != "" {
		return Specifier{}, false
	}
	return Specifier{first: c, n: 1}, true
}

func opByName(name string) op {
	for o, n := range opNames {
		if n != "" && n == name {
			return op(o)
		}
	}
	return 0
}

// splitOp splits a clause into its operator and the text after it.
func splitOp(s string) (op, string) {
	for o, name := range opNames {
		if name != "" && strings.HasPrefix(s, name) {
			return op(o), s[len(name):]
		}
	}
	return 0, s
}

// newClause checks version against what PEP 440 allows after o. It returns
// a constant description of the problem rather than an error, so that
// marker evaluation can try clauses without allocating.
func newClause(o op, version string) (clause, string) {
	version = trimSpace(version)
	c := clause{op: o, text: version}
	if version == "" {
		return c, "missing version"
	}
	if strings.IndexFunc(version, isSpace) >= 0 {
		return c, "whitespace inside the version"
	}
	if o == opArbitrary {
		if strings.ContainsAny(version, ";)") {
			return c, "';' or ')' in an arbitrary version"
		}
		return c, ""
	}
	base := version
	if strings.HasSuffix(version, ".*") {
		if o != opEqual && o != opNotEqual {
			return c, "'.*' is only allowed with == and !="
		}
		c.wildcard, base = true, version[:len(version)-2]
	}
	v, ok := parse(base)
	if !ok {
		return c, "invalid version"
	}
	if c.wildcard && (v.preKind != 0 || v.hasPost || v.hasDev || v.local != "") {
		return c, "'.*' can only follow a release (no pre, post, dev or local part)"
	}
	if v.local != "" && o != opEqual && o != opNotEqual {
		return c, "a local version is only allowed with == and !="
	}
	if o == opCompatible && !strings.Contains(v.release, ".") {
		return c, "~= needs at least two release segments"
	}
	c.ver = v
	return c, ""
}

func (s *Specifier) add(c clause) {
	if s.n == 0 {
		s.first = c
	} else {
		s.more = append(s.more, c)
	}
	s.n++
}

func (s *Specifier) clause(i int) *clause {
	if i == 0 {
		return &s.first
	}
	return &s.more[i-1]
}

// String returns the specifier as written, without surrounding whitespace.
func (s Specifier) String() string {
	if s.raw == "" && s.n == 1 { // built by Clause
		return opNames[s.first.op] + s.first.text
	}
	return s.raw
}

// IsZero reports whether s has no clauses (matches everything).
func (s Specifier) IsZero() bool { return s.n == 0 }

// Contains reports whether version v satisfies every clause of s. A string
// that is not a valid version satisfies only === clauses (and the zero
// Specifier). Pre-releases are matched like any other version: choosing
// whether to allow them is a resolver's policy, not the specifier's.
func (s Specifier) Contains(v string) bool {
	if s.n == 0 {
		return true
	}
	pv, ok := parse(v)
	for i := 0; i < s.n; i++ {
		c := s.clause(i)
		if c.op == opArbitrary {
			if !equalLower(v, c.text) {
				return false
			}
		} else if !ok || !c.matches(&pv) {
			return false
		}
	}
	return true
}

// ContainsVersion is Contains for a version already parsed; === compares
// the version as it was written.
func (s Specifier) ContainsVersion(v Version) bool {
	for i := 0; i < s.n; i++ {
		c := s.clause(i)
		if c.op == opArbitrary {
			if !equalLower(v.raw, c.text) {
				return false
			}
		} else if !c.matches(&v) {
			return false
		}
	}
	return true
}

// matches applies one clause (not ===) to v, with the exclusive and
// prefix-matching rules of PEP 440 as packaging implements them.
func (c *clause) matches(v *Version) bool {
	spec := &c.ver
	switch c.op {
	case opEqual:
		return c.equal(v)
	case opNotEqual:
		return !c.equal(v)
	case opGreaterEqual:
		return compare(v, spec) >= 0
	case opLessEqual:
		// <=V admits V's local versions.
		return comparePublic(v, spec) <= 0
	case opLess:
		if spec.IsPrerelease() {
			return compare(v, spec) < 0
		}
		// <V excludes V's pre-releases: everything from V.dev0 up.
		dev0 := *spec
		dev0.raw, dev0.hasDev, dev0.dev = "", true, ""
		return compare(v, &dev0) < 0
	case opGreater:
		if spec.hasDev || spec.hasPost {
			// Only V's local versions lie between V and the next
			// development or post release.
			return comparePublic(v, spec) > 0
		}
		// >V excludes V's local versions and V's post-releases.
		if r := compareRelease(v, spec); r != 0 {
			return r > 0
		}
		if r := cmp.Compare(v.preRank(), spec.preRank()); r != 0 {
			return r > 0
		}
		return compareNum(v.pre, spec.pre) > 0
	case opCompatible:
		// ~=X.Y.Z is >=X.Y.Z, ==X.Y.*: the same epoch and the release up
		// to the last but one segment no higher than the spec's.
		return compare(v, spec) >= 0 && compareNum(v.epoch, spec.epoch) == 0 &&
			compareSegments(v.release, spec.release, strings.Count(spec.release, ".")) <= 0
	}
	return false
}

func (c *clause) equal(v *Version) bool {
	spec := &c.ver
	switch {
	case c.wildcard:
		// ==X.Y.* : same epoch, release starting X.Y (padded with zeros);
		// any pre, post, dev or local part.
		return compareNum(v.epoch, spec.epoch) == 0 &&
			compareSegments(v.release, spec.release, strings.Count(spec.release, ".")+1) == 0
	case spec.local != "":
		return compare(v, spec) == 0
	default:
		// ==V admits V's local versions.
		return comparePublic(v, spec) == 0
	}
}

// equalLower reports whether a and b are equal after lower-casing, as ===
// compares (packaging: str(item).lower() == spec.lower()).
func equalLower(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb && unicode.ToLower(ra) != unicode.ToLower(rb) {
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return a == b
}

// Pin returns the single version s allows when s pins exactly one
// (`==1.2.3` without a wildcard, or `===1.2.3`), as written, and ok=false
// otherwise. `==1.2.3` also admits local versions such as 1.2.3+cpu; a
// lock-file pin is still a pin.
func (s Specifier) Pin() (version string, ok bool) {
	for i := 0; i < s.n; i++ {
		c := s.clause(i)
		if (c.op == opEqual && !c.wildcard) || c.op == opArbitrary {
			if !s.Contains(c.text) {
				return "", false
			}
			return c.text, true
		}
	}
	return "", false
}
