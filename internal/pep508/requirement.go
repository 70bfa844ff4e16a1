package pep508

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/layers-dev/layers/internal/pep440"
)

// Requirement is one parsed dependency specifier.
type Requirement struct {
	Name      string   // PEP 503 normal form
	Extras    []string // normalised, sorted, without duplicates
	Specifier pep440.Specifier
	URL       string  // set for `name @ url` requirements
	Marker    *Marker // nil: always applies
}

// String renders r in PEP 508 form with the normalised name; parsing it
// gives r back.
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		b.WriteString("[" + strings.Join(r.Extras, ",") + "]")
	}
	if r.URL != "" {
		b.WriteString(" @ " + r.URL)
	} else if !r.Specifier.IsZero() {
		b.WriteString(r.Specifier.String())
	}
	if r.Marker != nil {
		if r.URL != "" {
			b.WriteString(" ") // a URL runs to the next whitespace
		}
		b.WriteString("; " + r.Marker.String())
	}
	return b.String()
}

// ParseRequirement parses a PEP 508 requirement string: a name, optional
// [extras], then a version specifier (optionally in parentheses) or
// `@ url`, then optionally `; marker`. Surrounding whitespace is ignored.
//
// It is stricter than packaging in three places, all of which PEP 508's
// grammar backs: names and extras must end in a letter or digit ("foo_" is
// rejected), a URL must start with a scheme ("name @ ./lib" is rejected),
// and a specifier list may not hold an empty clause ("a>=1,,<2").
func ParseRequirement(s string) (Requirement, error) {
	src := strings.TrimSpace(s)
	r, err := parseRequirement(src)
	if err != nil {
		return Requirement{}, fmt.Errorf("invalid requirement %q: %w", src, err)
	}
	return r, nil
}

// reqParser walks a requirement string.
type reqParser struct {
	s   string
	pos int
}

func (p *reqParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *reqParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// name reads a name (or extra) and checks it.
func (p *reqParser) name(what string) (string, error) {
	start := p.pos
	for p.pos < len(p.s) && isNameChar(p.s[p.pos]) {
		p.pos++
	}
	name := p.s[start:p.pos]
	if !ValidName(name) {
		if name == "" {
			article := "a"
			if strings.HasPrefix(what, "e") {
				article = "an"
			}
			return "", fmt.Errorf("expected %s %s at column %d", article, what, start+1)
		}
		return "", fmt.Errorf("bad %s %q: names are letters, digits, '.', '_' and '-', starting and ending with a letter or digit", what, name)
	}
	return name, nil
}

func parseRequirement(s string) (Requirement, error) {
	var r Requirement
	p := &reqParser{s: s}
	name, err := p.name("project name")
	if err != nil {
		return r, err
	}
	r.Name = NormalizeName(name)
	p.skipSpace()
	if p.peek() == '[' {
		if r.Extras, err = p.extras(); err != nil {
			return r, err
		}
		p.skipSpace()
	}
	if p.peek() == '@' {
		p.pos++
		p.skipSpace()
		if r.URL, err = p.url(); err != nil {
			return r, err
		}
		if p.pos == len(s) {
			return r, nil
		}
		if c := p.peek(); c != ' ' && c != '\t' {
			return r, fmt.Errorf("a URL runs to the next space: %q cannot follow it", s[p.pos:])
		}
		p.skipSpace()
		if p.pos < len(s) && p.peek() != ';' {
			return r, fmt.Errorf("expected ';' before %q (a URL runs to the next space: write `url ; marker`)", s[p.pos:])
		}
	} else {
		spec := ""
		if p.peek() == '(' {
			end := strings.IndexByte(s[p.pos:], ')')
			if end < 0 {
				return r, fmt.Errorf("unclosed ( in version specifier")
			}
			spec, p.pos = s[p.pos+1:p.pos+end], p.pos+end+1
		} else {
			end := strings.IndexByte(s[p.pos:], ';')
			if end < 0 {
				end = len(s) - p.pos
			}
			spec, p.pos = s[p.pos:p.pos+end], p.pos+end
		}
		if r.Specifier, err = pep440.ParseSpecifier(spec); err != nil {
			return r, err
		}
		p.skipSpace()
	}
	if p.pos == len(s) {
		return r, nil
	}
	if p.peek() != ';' {
		return r, fmt.Errorf("expected ';' before %q", s[p.pos:])
	}
	marker := strings.TrimSpace(s[p.pos+1:])
	if marker == "" {
		return r, fmt.Errorf("empty marker after ;")
	}
	if r.Marker, err = ParseMarker(marker); err != nil {
		return r, err
	}
	return r, nil
}

// extras parses `[a, b]`: names separated by commas, possibly none.
func (p *reqParser) extras() ([]string, error) {
	open := p.pos
	p.pos++ // [
	p.skipSpace()
	var out []string
	for p.peek() != ']' {
		x, err := p.name("extra name")
		if err != nil {
			if p.pos >= len(p.s) {
				return nil, fmt.Errorf("unclosed [ at column %d", open+1)
			}
			return nil, err
		}
		out = append(out, NormalizeName(x))
		p.skipSpace()
		switch c := p.peek(); {
		case c == ',':
			p.pos++
			p.skipSpace()
			if p.peek() == ']' {
				return nil, fmt.Errorf("expected an extra name after ',' at column %d", p.pos+1)
			}
		case c == ']':
		case c == 0:
			return nil, fmt.Errorf("unclosed [ at column %d", open+1)
		case isNameChar(c):
			return nil, fmt.Errorf("expected ',' between extra names at column %d", p.pos+1)
		default:
			return nil, fmt.Errorf("expected ',' or ']' at column %d, found %q", p.pos+1, c)
		}
	}
	p.pos++ // ]
	slices.Sort(out)
	return slices.Compact(out), nil
}

// url reads a URL, which runs to the next whitespace, and checks that it
// starts with a scheme.
func (p *reqParser) url() (string, error) {
	start := p.pos
	end := strings.IndexFunc(p.s[start:], unicode.IsSpace)
	if end < 0 {
		end = len(p.s) - start
	}
	u := p.s[start : start+end]
	p.pos = start + end
	if u == "" {
		return "", fmt.Errorf("expected a URL after @")
	}
	if !hasScheme(u) {
		return "", fmt.Errorf("bad URL %q: it must start with a scheme (https:, file:, git+https: ...)", u)
	}
	return u, nil
}

// hasScheme reports whether u starts with an RFC 3986 scheme and a colon.
func hasScheme(u string) bool {
	i := strings.IndexByte(u, ':')
	if i < 1 || !isAlpha(u[0]) {
		return false
	}
	for j := 1; j < i; j++ {
		if c := u[j]; !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
