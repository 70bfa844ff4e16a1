// Package pep440 owns Python version numbers and version specifiers (PEP 440):
// parsing, normalising, ordering, matching, and telling whether a specifier
// pins exactly one version.
//
// The reference for every rule is pypa/packaging (26.x), which pip vendors;
// the tests check this package against tables that packaging itself
// computed (testdata/packaging). Versions keep their parts as substrings of
// the text they were parsed from, so parsing and comparing do not allocate
// and numbers of any size are exact: environment markers parse versions on
// every evaluation.
//
// The product brief named github.com/aquasecurity/go-pep440-version. It is not
// used: it mis-orders and mis-matches versions that lock files contain (local
// labels "1.0+a-b" and "1.0+a.b" compare unequal; "==1.0.0.*" does not match
// "1"; "===1.0" matches "v1.0"; "==1.0rc1.*" is accepted and matches
// "1.0b1"; release numbers above 2^64-1 are rejected; "<1.0.post1" rejects
// "1.0.dev1"), it re-parses the specifier's version on every check, and its
// regular-expression parser allocates, which marker evaluation cannot afford.
package pep440

import (
	"cmp"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Version is a parsed PEP 440 version. The zero Version is "0".
type Version struct {
	raw     string // as written, without surrounding whitespace
	epoch   string // digits; "" when absent
	release string // digits separated by dots
	pre     string // digits of the pre-release number ("" is 0)
	post    string
	dev     string
	local   string // the label after "+", as written
	preKind byte   // 0, 'a', 'b' or 'c' (rc)
	hasPost bool
	hasDev  bool
}

// Parse parses a PEP 440 version such as "1!2.0.post1.dev3+local.7",
// accepting every spelling PEP 440 normalises ("v1.0", "1.0-1", "1.0RC1",
// surrounding whitespace).
func Parse(s string) (Version, error) {
	v, ok := parse(s)
	if !ok {
		return Version{}, fmt.Errorf("invalid version %q", strings.TrimSpace(s))
	}
	return v, nil
}

// MustParse is Parse for constants in tests and tables; it panics on error.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the version as it was written (without surrounding
// whitespace); Normalized gives the canonical spelling.
func (v Version) String() string { return v.raw }

// Normalized returns the version's PEP 440 normal form: "V1.0-RC01+Ubuntu-1"
// becomes "1.0rc1+ubuntu.1". Equal versions may still differ here in
// trailing zeros ("1.0" and "1.0.0").
func (v Version) Normalized() string {
	var b strings.Builder
	if e := trimZeros(v.epoch); e != "0" {
		b.WriteString(e)
		b.WriteByte('!')
	}
	rel := v.release
	if rel == "" {
		rel = "0"
	}
	for i := 0; rel != ""; i++ {
		var seg string
		seg, rel = nextSegment(rel)
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(trimZeros(seg))
	}
	if v.preKind != 0 {
		b.WriteString(preName(v.preKind))
		b.WriteString(trimZeros(v.pre))
	}
	if v.hasPost {
		b.WriteString(".post")
		b.WriteString(trimZeros(v.post))
	}
	if v.hasDev {
		b.WriteString(".dev")
		b.WriteString(trimZeros(v.dev))
	}
	if v.local != "" {
		b.WriteByte('+')
		for i, l := 0, v.local; l != ""; i++ {
			var seg string
			seg, l = nextLocalSegment(l)
			if i > 0 {
				b.WriteByte('.')
			}
			if isDigits(seg) {
				b.WriteString(trimZeros(seg))
			} else {
				b.WriteString(strings.ToLower(seg))
			}
		}
	}
	return b.String()
}

func preName(kind byte) string {
	if kind == 'c' {
		return "rc"
	}
	return string(kind)
}

// IsPrerelease reports whether v is a pre-release or development release;
// PEP 440 treats both as pre-releases.
func (v Version) IsPrerelease() bool { return v.preKind != 0 || v.hasDev }

// IsPostRelease reports whether v has a post-release segment.
func (v Version) IsPostRelease() bool { return v.hasPost }

// IsDevRelease reports whether v has a development release segment.
func (v Version) IsDevRelease() bool { return v.hasDev }

// Local returns v's local version label as written ("" when there is none).
func (v Version) Local() string { return v.local }

// Compare orders a and b the PEP 440 way: -1, 0 or +1. "1.0" and "1.0.0" are
// equal, as are "1.0+ABC" and "1.0+abc".
func Compare(a, b Version) int { return compare(&a, &b) }

// compare is Compare without copying the versions.
func compare(a, b *Version) int {
	if a.raw == b.raw && a.raw != "" {
		return 0
	}
	if c := comparePublic(a, b); c != 0 {
		return c
	}
	return compareLocal(a.local, b.local)
}

// comparePublic orders a and b without their local labels.
func comparePublic(a, b *Version) int {
	if c := compareRelease(a, b); c != 0 {
		return c
	}
	return compareSuffix(a, b)
}

// compareRelease orders epochs, then release segments padded with zeros.
func compareRelease(a, b *Version) int {
	if c := compareNum(a.epoch, b.epoch); c != 0 {
		return c
	}
	return compareSegments(a.release, b.release, -1)
}

// compareSegments compares dotted numbers, the shorter padded with zeros;
// n >= 0 compares only the first n segments.
func compareSegments(x, y string, n int) int {
	if x == y {
		return 0
	}
	for k := 0; (x != "" || y != "") && (n < 0 || k < n); k++ {
		var sx, sy string
		sx, x = nextSegment(x)
		sy, y = nextSegment(y)
		if c := compareNum(sx, sy); c != 0 {
			return c
		}
	}
	return 0
}

// preRank places the pre-release part in PEP 440's order: a development
// release of a final release sorts before its alphas, a release without a
// pre-release after its candidates.
func (v *Version) preRank() int {
	switch v.preKind {
	case 'a':
		return 0
	case 'b':
		return 1
	case 'c':
		return 2
	}
	if !v.hasPost && v.hasDev {
		return -1
	}
	return 3
}

// compareSuffix orders the pre-, post- and development-release parts of two
// versions with equal releases.
func compareSuffix(a, b *Version) int {
	if c := cmp.Compare(a.preRank(), b.preRank()); c != 0 {
		return c
	}
	if c := compareNum(a.pre, b.pre); c != 0 {
		return c
	}
	if c := cmpBool(a.hasPost, b.hasPost); c != 0 {
		return c
	}
	if c := compareNum(a.post, b.post); c != 0 {
		return c
	}
	// A development release sorts before the release it leads to.
	if c := cmpBool(!a.hasDev, !b.hasDev); c != 0 {
		return c
	}
	return compareNum(a.dev, b.dev)
}

// compareLocal orders local labels: none first, then segment by segment,
// with numbers above words and a longer label above its prefix.
func compareLocal(x, y string) int {
	if x == "" || y == "" {
		return cmpBool(x != "", y != "")
	}
	for x != "" && y != "" {
		var sx, sy string
		sx, x = nextLocalSegment(x)
		sy, y = nextLocalSegment(y)
		nx, ny := isDigits(sx), isDigits(sy)
		var c int
		switch {
		case nx && ny:
			c = compareNum(sx, sy)
		case nx != ny:
			c = cmpBool(nx, ny)
		default:
			c = compareFold(sx, sy)
		}
		if c != 0 {
			return c
		}
	}
	return cmpBool(x != "", y != "")
}

// compareNum compares two runs of decimal digits by value; "" is 0.
func compareNum(x, y string) int {
	for x != "" && x[0] == '0' {
		x = x[1:]
	}
	for y != "" && y[0] == '0' {
		y = y[1:]
	}
	if len(x) != len(y) {
		return cmp.Compare(len(x), len(y))
	}
	return strings.Compare(x, y)
}

// compareFold compares ASCII strings ignoring case.
func compareFold(x, y string) int {
	for i := 0; i < len(x) && i < len(y); i++ {
		if c := cmp.Compare(lower(x[i]), lower(y[i])); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(x), len(y))
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	if a == b {
		return 0
	}
	if b {
		return -1
	}
	return 1
}

func nextSegment(s string) (seg, rest string) {
	// Segments are short: a loop beats IndexByte's setup.
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func nextLocalSegment(s string) (seg, rest string) {
	if i := strings.IndexAny(s, "._-"); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func trimZeros(digits string) string {
	if t := strings.TrimLeft(digits, "0"); t != "" {
		return t
	}
	return "0"
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isSpace is Python's idea of whitespace (str.isspace, and \s in re), which
// packaging strips around versions: Unicode's White_Space plus the four
// information separators U+001C..U+001F.
func isSpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// trimSpace strips Python whitespace from both ends of s.
func trimSpace(s string) string {
	if s != "" && s[0] > ' ' && s[0] < utf8.RuneSelf && s[len(s)-1] > ' ' && s[len(s)-1] < utf8.RuneSelf {
		return s // the usual case: nothing to strip
	}
	for s != "" {
		r, n := utf8.DecodeRuneInString(s)
		if !isSpace(r) {
			break
		}
		s = s[n:]
	}
	for s != "" {
		r, n := utf8.DecodeLastRuneInString(s)
		if !isSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

// parse implements packaging's VERSION_PATTERN, whose quantifiers are all
// possessive: each optional part, once started by a separator, must finish,
// so one left-to-right pass decides.
func parse(s string) (Version, bool) {
	s = trimSpace(s)
	v := Version{raw: s}
	p := &scanner{s: s}
	if p.peek() == 'v' || p.peek() == 'V' {
		p.i++
	}
	start := p.i
	if p.digits() == "" {
		return Version{}, false
	}
	if p.peek() == '!' {
		v.epoch = s[start:p.i]
		p.i++
		start = p.i
		if p.digits() == "" {
			return Version{}, false
		}
	}
	for p.peek() == '.' && p.i+1 < len(s) && isDigit(s[p.i+1]) {
		p.i++
		p.digits()
	}
	v.release = s[start:p.i]

	// Pre-release: [._-]? (alpha|a|beta|b|preview|pre|c|rc) [._-]? [0-9]*
	if at, kind, ok := p.word(preWords); ok {
		p.i = at
		v.preKind = kind
		p.sep()
		v.pre = p.digits()
	}
	// Post-release: -N, or [._-]? (post|rev|r) [._-]? [0-9]*
	if p.peek() == '-' && p.i+1 < len(s) && isDigit(s[p.i+1]) {
		p.i++
		v.hasPost = true
		v.post = p.digits()
	} else if at, _, ok := p.word(postWords); ok {
		p.i = at
		v.hasPost = true
		p.sep()
		v.post = p.digits()
	}
	// Development release: [._-]? dev [._-]? [0-9]*
	if at, _, ok := p.word(devWords); ok {
		p.i = at
		v.hasDev = true
		p.sep()
		v.dev = p.digits()
	}
	// Local label: + [a-z0-9]+ ([._-][a-z0-9]+)*
	if p.peek() == '+' {
		p.i++
		start := p.i
		for {
			if p.alnums() == 0 {
				return Version{}, false
			}
			if !isSep(p.peek()) {
				break
			}
			p.i++
		}
		v.local = s[start:p.i]
	}
	if p.i != len(s) {
		return Version{}, false
	}
	return v, true
}

// scanner walks a version string.
type scanner struct {
	s string
	i int
}

func (p *scanner) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *scanner) digits() string {
	start := p.i
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *scanner) alnums() int {
	start := p.i
	for p.i < len(p.s) && (isDigit(p.s[p.i]) || lower(p.s[p.i]) >= 'a' && lower(p.s[p.i]) <= 'z') {
		p.i++
	}
	return p.i - start
}

func (p *scanner) sep() {
	if isSep(p.peek()) {
		p.i++
	}
}

func isSep(c byte) bool { return c == '.' || c == '_' || c == '-' }

// keyword is one spelling of a pre-, post- or development-release label.
type keyword struct {
	word string
	kind byte
}

// The spellings in packaging's order: the first that matches wins.
var (
	preWords = []keyword{{"alpha", 'a'}, {"a", 'a'}, {"beta", 'b'}, {"b", 'b'},
		{"preview", 'c'}, {"pre", 'c'}, {"c", 'c'}, {"rc", 'c'}}
	postWords = []keyword{{"post", 0}, {"rev", 0}, {"r", 0}}
	devWords  = []keyword{{"dev", 0}}
)

// word matches an optional separator and then one of words (ignoring case)
// at the scanner's position, returning where the word ends. It does not move
// the scanner: a separator not followed by a word belongs to nothing.
func (p *scanner) word(words []keyword) (end int, kind byte, ok bool) {
	i := p.i
	if i < len(p.s) && isSep(p.s[i]) {
		i++
	}
	for _, w := range words {
		if hasPrefixFold(p.s[i:], w.word) {
			return i + len(w.word), w.kind, true
		}
	}
	return 0, 0, false
}

// hasPrefixFold reports whether s starts with the lower-case ASCII word,
// ignoring case.
func hasPrefixFold(s, word string) bool {
	if len(s) < len(word) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if lower(s[i]) != word[i] {
			return false
		}
	}
	return true
}
