package pep508

import (
	"slices"
	"testing"
)

// roundTrip checks that r.String() parses back to an equal requirement.
func roundTrip(t *testing.T, r Requirement) {
	t.Helper()
	back, err := ParseRequirement(r.String())
	if err != nil {
		t.Fatalf("%q does not parse again: %v", r.String(), err)
	}
	if !equalRequirements(r, back) {
		t.Fatalf("%q parses to %#v, not %#v", r.String(), back, r)
	}
}

func equalRequirements(a, b Requirement) bool {
	return a.Name == b.Name && slices.Equal(a.Extras, b.Extras) && a.URL == b.URL &&
		a.Specifier.String() == b.Specifier.String() &&
		a.Marker.String() == b.Marker.String() && a.Marker.Canonical() == b.Marker.Canonical()
}

// fuzzEnvs are the environments fuzzed markers are evaluated in: the
// oldest and newest Lambda runtimes on both architectures, with and
// without extras and groups, and one built by hand (no parsed versions).
var fuzzEnvs = func() []Env {
	var envs []Env
	for _, rt := range []string{"python3.9", "python3.14"} {
		for _, arch := range []string{"x86_64", "arm64"} {
			e, err := TargetEnv(rt, arch)
			if err != nil {
				panic(err)
			}
			envs = append(envs, e, e.WithExtras("security").WithGroups("dev"))
		}
	}
	return append(envs, Env{Values: map[string]string{"python_version": "3.11", "python_full_version": "3.11.1+",
		"platform_release": "5.10", "os_name": "nt"}, Extras: []string{"Foo_Bar"}})
}()

// FuzzRequirement checks that parsing never panics, that String()
// round-trips, and that the marker decides alike after the round trip.
func FuzzRequirement(f *testing.F) {
	for _, s := range []string{
		"name", "name<=1", "name[quux, strange];python_version<'2.7' and platform_version=='2'",
		"name @ https://index.example.invalid/simple/name ; extra == 'x'", "name (>=3)",
		"requests [security,tests] >= 2.8.1, == 2.8.* ; python_version < \"2.7\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !normalizesTo(s, NormalizeName(s)) {
			t.Fatalf("normalizesTo(%q, %q) is false", s, NormalizeName(s))
		}
		r, err := ParseRequirement(s)
		if err != nil {
			return
		}
		if !ValidName(r.Name) || NormalizeName(r.Name) != r.Name {
			t.Fatalf("%q: name %q is not normal", s, r.Name)
		}
		roundTrip(t, r)
		back, _ := ParseRequirement(r.String())
		for _, e := range fuzzEnvs {
			if r.Marker.Evaluate(e) != back.Marker.Evaluate(e) {
				t.Fatalf("%q: marker decides differently after the round trip", s)
			}
		}
	})
}

// FuzzMarker checks that parsing and evaluating never panic, and that the
// written and canonical forms parse to markers that decide alike.
func FuzzMarker(f *testing.F) {
	for _, s := range []string{
		"python_version >= '3.10' and platform_machine == 'x86_64'",
		"sys_platform == 'win32' or (os_name == 'nt' and extra == 'Foo.Bar')",
		"'dev' in dependency_groups and 'x' not in extras", "'3.1' in python_version",
		"python_full_version < '3.11.1+local'", "os.name == 'posix'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMarker(s)
		if err != nil {
			return
		}
		again, err := ParseMarker(m.String())
		if err != nil {
			t.Fatalf("%q does not parse again: %v", m.String(), err)
		}
		canon, err := ParseMarker(m.Canonical())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", m.Canonical(), s, err)
		}
		if canon.Canonical() != m.Canonical() {
			t.Fatalf("canonical form %q of %q is not a fixed point: %q", m.Canonical(), s, canon.Canonical())
		}
		for _, e := range fuzzEnvs {
			got := m.Evaluate(e)
			if again.Evaluate(e) != got || canon.Evaluate(e) != got {
				t.Fatalf("%q: written and canonical forms decide differently", s)
			}
		}
	})
}
