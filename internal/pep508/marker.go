package pep508

import (
	"fmt"
	"strings"

	"github.com/layers-dev/layers/internal/pep440"
)

// Marker is a parsed environment marker such as
// `python_version >= "3.10" and platform_machine == "x86_64"`.
// A nil *Marker is the empty marker: it is always true. A Marker is
// immutable, so one parsed marker can be shared and evaluated concurrently.
type Marker struct {
	raw  string
	root expr
}

// expr is a chain of terms joined by "and" and "or"; "and" binds tighter.
type expr struct {
	terms []term
	or    []bool // or[i] joins terms[i] and terms[i+1]: "or" when true, else "and"
}

// term is a comparison or a parenthesised expression.
type term struct {
	cmp   *comparison
	group *expr
}

// variable is a marker variable.
type variable uint8

const (
	pythonVersion variable = iota + 1
	pythonFullVersion
	osName
	sysPlatform
	platformRelease
	platformSystem
	platformVersion
	platformMachine
	platformPythonImplementation
	implementationName
	implementationVersion
	extra
	extras
	dependencyGroups
)

// variableNames are the names Env.Values uses.
var variableNames = [...]string{
	pythonVersion:                "python_version",
	pythonFullVersion:            "python_full_version",
	osName:                       "os_name",
	sysPlatform:                  "sys_platform",
	platformRelease:              "platform_release",
	platformSystem:               "platform_system",
	platformVersion:              "platform_version",
	platformMachine:              "platform_machine",
	platformPythonImplementation: "platform_python_implementation",
	implementationName:           "implementation_name",
	implementationVersion:        "implementation_version",
	extra:                        "extra",
	extras:                       "extras",
	dependencyGroups:             "dependency_groups",
}

// variableSpellings adds the legacy names packaging still accepts (PEP 345's
// dotted names, setuptools' python_implementation).
var variableSpellings = func() map[string]variable {
	m := map[string]variable{
		"os.name":                        osName,
		"sys.platform":                   sysPlatform,
		"platform.version":               platformVersion,
		"platform.machine":               platformMachine,
		"platform.python_implementation": platformPythonImplementation,
		"python_implementation":          platformPythonImplementation,
	}
	for v, name := range variableNames {
		if name != "" {
			m[name] = variable(v)
		}
	}
	return m
}()

// isVersion tells the variables whose values are versions: comparing them
// uses PEP 440 when both sides are versions (packaging's
// MARKERS_REQUIRING_VERSION).
func (v variable) isVersion() bool {
	return v == pythonVersion || v == pythonFullVersion || v == implementationVersion || v == platformRelease
}

// isSet tells the PEP 751 variables whose values are sets of names.
func (v variable) isSet() bool { return v == extras || v == dependencyGroups }

// comparison is one `variable op "literal"` (or the mirror image).
type comparison struct {
	v       variable
	varLeft bool   // the variable is the left operand
	op      string // "==", "~=", ..., "in", "not in"
	literal string // normalised for extra, extras and dependency_groups
	// spec is `op literal` as a version clause, when the variable is a
	// version on the left and the literal makes a valid clause.
	spec   pep440.Specifier
	specOK bool
}

// String returns the marker as written (without surrounding whitespace).
func (m *Marker) String() string {
	if m == nil {
		return ""
	}
	return m.raw
}

// Canonical returns the marker in packaging's normal form: canonical
// variable names, double quotes, single spaces, extra names normalised, and
// parentheses only where they were written around more than one term.
// Markers that differ only in spelling have the same Canonical form, which
// makes it a good cache key.
func (m *Marker) Canonical() string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	m.root.format(&b, true)
	return b.String()
}

func (x *expr) format(b *strings.Builder, top bool) {
	// Parentheses around a single comparison or group add nothing.
	if len(x.terms) == 1 {
		x.terms[0].format(b, top)
		return
	}
	if !top {
		b.WriteByte('(')
	}
	for i, t := range x.terms {
		if i > 0 {
			if x.or[i-1] {
				b.WriteString(" or ")
			} else {
				b.WriteString(" and ")
			}
		}
		t.format(b, false)
	}
	if !top {
		b.WriteByte(')')
	}
}

func (t *term) format(b *strings.Builder, top bool) {
	if t.cmp != nil {
		t.cmp.format(b)
	} else {
		t.group.format(b, top)
	}
}

func (c *comparison) format(b *strings.Builder) {
	quote := `"`
	if strings.Contains(c.literal, `"`) {
		quote = "'"
	}
	lit := quote + c.literal + quote
	if c.varLeft {
		b.WriteString(variableNames[c.v] + " " + c.op + " " + lit)
	} else {
		b.WriteString(lit + " " + c.op + " " + variableNames[c.v])
	}
}

// Evaluate reports whether the marker holds in env. A nil marker holds.
// Comparisons the specification leaves undefined (such as `os_name ~= "x"`,
// or a version operator between a version variable and a string that is not
// a version specifier) are false. Evaluate does not allocate.
func (m *Marker) Evaluate(env Env) bool {
	if m == nil {
		return true
	}
	return m.root.eval(&env)
}

func (x *expr) eval(e *Env) bool {
	all := true // the current run of terms joined by "and"
	for i := range x.terms {
		if i > 0 && x.or[i-1] {
			if all {
				return true
			}
			all = true
		}
		if all {
			t := &x.terms[i]
			if t.cmp != nil {
				all = t.cmp.eval(e)
			} else {
				all = t.group.eval(e)
			}
		}
	}
	return all
}

func (c *comparison) eval(e *Env) bool {
	switch c.v {
	case extras, dependencyGroups: // "name" in extras; the parser allows nothing else
		set := e.Extras
		if c.v == dependencyGroups {
			set = e.Groups
		}
		return containsName(set, c.literal) == (c.op == "in")
	case extra:
		// The extras in effect are a set: == is membership, != its
		// negation, other operators undefined. With no extras, extra is
		// the empty string and compares as one.
		if len(e.Extras) > 0 {
			in := containsName(e.Extras, c.literal)
			switch c.op {
			case "==":
				return in
			case "!=":
				return !in
			}
			return false
		}
	}
	var value string
	if c.v != extra {
		value = e.Values[variableNames[c.v]]
	}
	if c.v == pythonFullVersion && strings.HasSuffix(value, "+") {
		// platform.python_version() of an untagged CPython build ends in
		// "+", which is no version; packaging reads it as "+local".
		value += "local"
	}
	if c.v.isVersion() && c.op != "in" && c.op != "not in" {
		if c.varLeft {
			if c.specOK {
				if v := e.version(c.v, value); v != nil {
					return c.spec.ContainsVersion(*v)
				}
				return c.spec.Contains(value)
			}
		} else if spec, ok := pep440.Clause(c.op, value); ok {
			return spec.Contains(c.literal)
		}
	}
	l, r := value, c.literal
	if !c.varLeft {
		l, r = r, l
	}
	// Strings have no order (the current dependency specifiers text):
	// <= and >= are equality, < and > never hold, ~= and === are undefined.
	switch c.op {
	case "==", "<=", ">=":
		return l == r
	case "!=":
		return l != r
	case "in":
		return strings.Contains(r, l)
	case "not in":
		return !strings.Contains(r, l)
	}
	return false
}

// containsName reports whether the set holds name (normalised), normalising
// the set's members as it compares, without allocating.
func containsName(set []string, name string) bool {
	for _, x := range set {
		if normalizesTo(x, name) {
			return true
		}
	}
	return false
}

// normalizesTo reports whether NormalizeName(x) == name.
func normalizesTo(x, name string) bool {
	j := 0
	for i := 0; i < len(x); i++ {
		c := x[i]
		switch {
		case c >= 0x80:
			return NormalizeName(x) == name // not a valid name; rare
		case c == '-' || c == '_' || c == '.':
			if i > 0 && (x[i-1] == '-' || x[i-1] == '_' || x[i-1] == '.') {
				continue // one '-' stands for the whole run
			}
			c = '-'
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if j >= len(name) || name[j] != c {
			return false
		}
		j++
	}
	return j == len(name)
}

// maxNesting bounds parentheses as packaging does (CPython's own limit).
const maxNesting = 200

// ParseMarker parses a marker expression (PEP 508's marker rule, with the
// legacy variable spellings packaging accepts).
//
// It is stricter than packaging where packaging accepts what can only fail
// or mislead at evaluation: a comparison of two strings or of two variables,
// `extras` or `dependency_groups` with anything but `"name" in` / `not in`,
// and a quoted string holding a backslash or a control character (PEP 508
// strings have no escapes; packaging would interpret them as Python does).
func ParseMarker(s string) (*Marker, error) {
	src := strings.TrimSpace(s)
	p := &markerParser{src: src}
	p.cmps = make([]comparison, 0, (strings.Count(src, `"`)+strings.Count(src, "'"))/2)
	root, err := p.expr()
	if err == nil && p.pos < len(p.src) {
		err = p.errorf("expected 'and', 'or' or the end, found %q", p.rest())
	}
	if err != nil {
		return nil, fmt.Errorf("invalid marker %q: %w", src, err)
	}
	return &Marker{raw: src, root: root}, nil
}

type markerParser struct {
	src   string
	pos   int
	depth int
	// cmps holds the marker's comparisons in one allocation: each has one
	// quoted string, so there are at most half as many as quote marks.
	cmps []comparison
}

func (p *markerParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at column %d: %s", p.pos+1, fmt.Sprintf(format, args...))
}

func (p *markerParser) rest() string {
	r := p.src[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *markerParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// keyword consumes word if it comes next and ends at a word boundary.
func (p *markerParser) keyword(word string) bool {
	p.skipSpace()
	if !strings.HasPrefix(p.src[p.pos:], word) {
		return false
	}
	end := p.pos + len(word)
	if end < len(p.src) && isVariableChar(p.src[end]) {
		return false
	}
	p.pos = end
	return true
}

func isVariableChar(c byte) bool { return isAlnum(c) || c == '_' || c == '.' }

// expr parses terms joined by "and" and "or", then the whitespace after.
func (p *markerParser) expr() (expr, error) {
	var x expr
	for {
		t, err := p.term()
		if err != nil {
			return expr{}, err
		}
		x.terms = append(x.terms, t)
		switch {
		case p.keyword("or"):
			x.or = append(x.or, true)
		case p.keyword("and"):
			x.or = append(x.or, false)
		default:
			return x, nil
		}
	}
}

func (p *markerParser) term() (term, error) {
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		if p.depth >= maxNesting {
			return term{}, p.errorf("parentheses nested more than %d deep", maxNesting)
		}
		open := p.pos
		p.pos++
		p.depth++
		x, err := p.expr()
		if err != nil {
			return term{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return term{}, p.errorf("expected ')' to close the '(' at column %d", open+1)
		}
		p.pos++
		p.depth--
		p.skipSpace()
		return term{group: &x}, nil
	}
	c, err := p.comparison()
	if err != nil {
		return term{}, err
	}
	p.skipSpace()
	return term{cmp: c}, nil
}

// operand is one side of a comparison: a variable or a quoted string.
type operand struct {
	v       variable
	literal string
}

func (p *markerParser) comparison() (*comparison, error) {
	start := p.pos
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	op, err := p.op()
	if err != nil {
		return nil, err
	}
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch {
	case l.v == 0 && r.v == 0:
		p.pos = start
		return nil, p.errorf("%q and %q are both strings: one side must be a marker variable", l.literal, r.literal)
	case l.v != 0 && r.v != 0:
		p.pos = start
		return nil, p.errorf("%s and %s are both variables: one side must be a quoted string", variableNames[l.v], variableNames[r.v])
	case l.v.isSet():
		p.pos = start
		return nil, p.errorf("%s is a set: write \"name\" in %s", variableNames[l.v], variableNames[l.v])
	case r.v.isSet() && op != "in" && op != "not in":
		p.pos = start
		return nil, p.errorf("%s is a set: only in and not in apply", variableNames[r.v])
	}
	// Within capacity; were it ever to grow, earlier pointers would keep
	// the old array and stay right.
	p.cmps = append(p.cmps, comparison{op: op, varLeft: l.v != 0})
	c := &p.cmps[len(p.cmps)-1]
	if c.varLeft {
		c.v, c.literal = l.v, r.literal
	} else {
		c.v, c.literal = r.v, l.literal
	}
	if c.v == extra || c.v.isSet() {
		c.literal = NormalizeName(c.literal)
	}
	if c.varLeft && c.v.isVersion() {
		c.spec, c.specOK = pep440.Clause(op, c.literal)
	}
	return c, nil
}

// markerOps are the comparison operators, longer ones before their prefixes.
var markerOps = []string{"===", "==", "~=", "!=", "<=", ">=", "<", ">"}

func (p *markerParser) op() (string, error) {
	if p.keyword("in") {
		return "in", nil
	}
	if p.keyword("not") {
		if p.pos >= len(p.src) || (p.src[p.pos] != ' ' && p.src[p.pos] != '\t') || !p.keyword("in") {
			return "", p.errorf("expected 'in' after 'not'")
		}
		return "not in", nil
	}
	for _, o := range markerOps {
		if strings.HasPrefix(p.src[p.pos:], o) {
			p.pos += len(o)
			return o, nil
		}
	}
	return "", p.errorf("expected a comparison operator (<=, <, !=, ==, >=, >, ~=, ===, in, not in), found %q", p.rest())
}

func (p *markerParser) operand() (operand, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return operand{}, p.errorf("unexpected end of marker: expected a marker variable or a quoted string")
	}
	if q := p.src[p.pos]; q == '"' || q == '\'' {
		end := strings.IndexByte(p.src[p.pos+1:], q)
		if end < 0 {
			return operand{}, p.errorf("unterminated string")
		}
		lit := p.src[p.pos+1 : p.pos+1+end]
		for i := 0; i < len(lit); i++ {
			if c := lit[i]; c == '\\' || c < ' ' && c != '\t' || c == 0x7f {
				return operand{}, p.errorf("string %q holds %q, which PEP 508 strings cannot hold", lit, c)
			}
		}
		p.pos += end + 2
		return operand{literal: lit}, nil
	}
	start := p.pos
	for p.pos < len(p.src) && isVariableChar(p.src[p.pos]) {
		p.pos++
	}
	name := p.src[start:p.pos]
	v, ok := variableSpellings[name]
	if !ok {
		p.pos = start
		if name == "" {
			return operand{}, p.errorf("expected a marker variable or a quoted string, found %q", p.rest())
		}
		return operand{}, p.errorf("unknown marker variable %q", name)
	}
	return operand{v: v}, nil
}
