package pep508

import "testing"

// PEP 503's normalisation examples, and more.
func TestNormalizeName(t *testing.T) {
	cases := map[string]string{
		"Friendly-Bard": "friendly-bard", "FRIENDLY-BARD": "friendly-bard", "friendly.bard": "friendly-bard",
		"friendly_bard": "friendly-bard", "friendly--bard": "friendly-bard", "FrIeNdLy-._.-bArD": "friendly-bard",
		"requests": "requests", "zope.interface": "zope-interface", "Django": "django", "a": "a",
		"foo-bar.quux_bAz": "foo-bar-quux-baz", "S_P__A_M": "s-p-a-m",
	}
	for in, want := range cases {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { NormalizeName("already-normal") }); n != 0 {
		t.Errorf("NormalizeName of a normal name allocates %v times", n)
	}
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"A", "aa", "name", "foo-bar.quux_baz", "A.B-C_D", "0", "android12", "Zope.Interface"} {
		if !ValidName(s) {
			t.Errorf("ValidName(%q) = false", s)
		}
	}
	for _, s := range []string{"", "-a", "a-", "_a", "a_", ".a", "a.", "a b", "a!", "ä", "a/b", "a+b"} {
		if ValidName(s) {
			t.Errorf("ValidName(%q) = true", s)
		}
	}
}

func TestNormalizesTo(t *testing.T) {
	for _, x := range []string{"Foo_Bar", "foo-bar", "FOO.-_bar", "foo", "foo-bar-", "-foo-bar", "Fooé", "", "foo--bar", "foobar"} {
		for _, name := range []string{"foo-bar", "foo", "", "fooé", "foo-bar-", "-foo-bar"} {
			if got, want := normalizesTo(x, name), NormalizeName(x) == name; got != want {
				t.Errorf("normalizesTo(%q, %q) = %v, want %v", x, name, got, want)
			}
		}
	}
}
