// Package pep508 owns dependency specifiers (PEP 508): project names and
// their PEP 503 normal form, requirement strings (`name[extras] spec ; marker`,
// `name @ url`), and environment markers evaluated for a Lambda target.
//
// The reference for every rule is pypa/packaging (26.x); the tests check this
// package against tables packaging computed (testdata/packaging). Where this
// package is deliberately stricter than packaging, the doc comment of the
// parser says so.
package pep508

import "strings"

// ValidName reports whether s is a valid project (or extra) name: ASCII
// letters and digits, with ".", "_" and "-" allowed inside (PEP 508).
func ValidName(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// NormalizeName returns the PEP 503 normal form of a project name:
// lowercase, with every run of "-", "_" and "." replaced by one "-".
// A name already in normal form is returned as is, without allocating.
func NormalizeName(s string) string {
	if isNormal(s) {
		return s
	}
	lowered := strings.ToLower(s)
	var b strings.Builder
	b.Grow(len(lowered))
	run := false
	for i := 0; i < len(lowered); i++ {
		c := lowered[i]
		if c == '-' || c == '_' || c == '.' {
			if !run {
				b.WriteByte('-')
			}
			run = true
			continue
		}
		run = false
		b.WriteByte(c)
	}
	return b.String()
}

// isNormal is the fast path: most names in lock files are already normal.
func isNormal(s string) bool {
	prevDash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevDash = false
		case c == '-':
			if prevDash {
				return false
			}
			prevDash = true
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isNameChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' }
