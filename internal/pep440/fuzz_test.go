package pep440

import (
	"strings"
	"testing"
)

// FuzzVersion checks that parsing never panics, that the normal form is a
// fixed point that compares equal to the input, and that Compare is a
// consistent order.
func FuzzVersion(f *testing.F) {
	for _, s := range []string{"1.0", "1!2.0.post1.dev3+local.7", "V1.0-RC01.Post-2-DEV_3+Local-07.X", "1.0a.", "0"} {
		f.Add(s, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		if errA != nil {
			return
		}
		if va.String() != trimSpace(a) {
			t.Fatalf("String() = %q, want %q", va.String(), trimSpace(a))
		}
		n := va.Normalized()
		vn, err := Parse(n)
		if err != nil {
			t.Fatalf("normal form %q of %q does not parse: %v", n, a, err)
		}
		if vn.Normalized() != n || Compare(vn, va) != 0 || Compare(va, vn) != 0 {
			t.Fatalf("normal form %q of %q is not a fixed point", n, a)
		}
		if Compare(va, va) != 0 {
			t.Fatalf("%q is not equal to itself", a)
		}
		if errB == nil {
			ab, ba := Compare(va, vb), Compare(vb, va)
			if ab != -ba {
				t.Fatalf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, ab, b, a, ba)
			}
			if (ab == 0) != (Compare(vn, vb) == 0) {
				t.Fatalf("normalising %q changed its order against %q", a, b)
			}
			// >v admits only versions above v, and never one that <=v
			// admits. (Some, v's post-releases, satisfy neither.)
			if le, ok := Clause("<=", vb.Normalized()); ok {
				gt, _ := Clause(">", vb.Normalized())
				if gt.ContainsVersion(va) && (ab <= 0 || le.ContainsVersion(va)) {
					t.Fatalf("%q: >%s holds, Compare = %d, <=%s = %v", a, vb.Normalized(), ab, vb.Normalized(), le.ContainsVersion(va))
				}
			}
		}
	})
}

// FuzzSpecifier checks that parsing and matching never panic, that the
// text of a specifier parses back to one that decides alike, and that Pin
// names a version the specifier contains.
func FuzzSpecifier(f *testing.F) {
	for _, s := range []string{">=1.0,<2", "~=1.4.5", "==1.*", "===x", "!=2.0.post1", "==1!2.0+local", ">1.7.post2", "<3.1, >= 1!0"} {
		f.Add(s, "1.4.6")
	}
	f.Fuzz(func(t *testing.T, spec, version string) {
		s, err := ParseSpecifier(spec)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid specifier") {
				t.Fatalf("unexpected error text %q", err)
			}
			return
		}
		got := s.Contains(version)
		again, err := ParseSpecifier(s.String())
		if err != nil {
			t.Fatalf("%q does not parse again: %v", s.String(), err)
		}
		if again.Contains(version) != got {
			t.Fatalf("%q and its text %q disagree on %q", spec, s.String(), version)
		}
		if v, err := Parse(version); err == nil && v.String() == version && s.ContainsVersion(v) != got {
			t.Fatalf("%q: Contains and ContainsVersion disagree on %q", spec, version)
		}
		if pin, ok := s.Pin(); ok && !s.Contains(pin) {
			t.Fatalf("%q pins %q but does not contain it", spec, pin)
		}
	})
}
