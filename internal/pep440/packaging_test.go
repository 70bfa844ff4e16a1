package pep440

import (
	"bufio"
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The tables in testdata/packaging were computed by pypa/packaging 26.4
// (gen.py there regenerates them): these tests hold this package to the
// reference implementation.

// readTable decodes one JSON value per line of a testdata/packaging file.
func readTable[T any](t *testing.T, name string) []T {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "packaging", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row T
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return rows
}

func TestPackagingVersions(t *testing.T) {
	// [input, null | [normalized, is_prerelease, is_postrelease, is_devrelease, local]]
	for _, row := range readTable[[2]json.RawMessage](t, "versions.jsonl") {
		var in string
		var want *struct {
			norm           string
			pre, post, dev bool
			local          *string
		}
		var fields []json.RawMessage
		if err := json.Unmarshal(row[0], &in); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(row[1], &fields); err != nil {
			t.Fatal(err)
		}
		if fields != nil {
			want = new(struct {
				norm           string
				pre, post, dev bool
				local          *string
			})
			for i, dst := range []any{&want.norm, &want.pre, &want.post, &want.dev, &want.local} {
				if err := json.Unmarshal(fields[i], dst); err != nil {
					t.Fatal(err)
				}
			}
		}
		v, err := Parse(in)
		switch {
		case want == nil && err == nil:
			t.Errorf("Parse(%q) = %q, packaging rejects it", in, v.Normalized())
		case want != nil && err != nil:
			t.Errorf("Parse(%q): %v; packaging gives %q", in, err, want.norm)
		case want != nil:
			if v.Normalized() != want.norm || v.IsPrerelease() != want.pre || v.IsPostRelease() != want.post || v.IsDevRelease() != want.dev {
				t.Errorf("Parse(%q) = %q pre %v post %v dev %v; packaging: %q %v %v %v", in, v.Normalized(),
					v.IsPrerelease(), v.IsPostRelease(), v.IsDevRelease(), want.norm, want.pre, want.post, want.dev)
			}
			if (v.Local() != "") != (want.local != nil) {
				t.Errorf("Parse(%q).Local() = %q, packaging %v", in, v.Local(), want.local)
			}
			// The normal form parses back to itself and an equal version.
			n, err := Parse(v.Normalized())
			if err != nil || n.Normalized() != v.Normalized() || Compare(n, v) != 0 {
				t.Errorf("normal form %q of %q does not round-trip", v.Normalized(), in)
			}
		}
	}
}

func TestPackagingOrder(t *testing.T) {
	groups := readTable[[]string](t, "order.jsonl")
	type ranked struct {
		v    Version
		rank int
	}
	var all []ranked
	for rank, g := range groups {
		for _, s := range g {
			all = append(all, ranked{MustParse(s), rank})
		}
	}
	for _, a := range all {
		for _, b := range all {
			if got, want := Compare(a.v, b.v), cmp.Compare(a.rank, b.rank); got != want {
				t.Errorf("Compare(%s, %s) = %d, packaging %d", a.v, b.v, got, want)
			}
		}
	}
}

func TestPackagingContains(t *testing.T) {
	rows := readTable[json.RawMessage](t, "contains.jsonl")
	var versions []string
	if err := json.Unmarshal(rows[0], &versions); err != nil {
		t.Fatal(err)
	}
	for _, raw := range rows[1:] {
		var row [2]string
		if err := json.Unmarshal(raw, &row); err != nil {
			t.Fatal(err)
		}
		spec, bits := row[0], row[1]
		s, err := ParseSpecifier(spec)
		if err != nil {
			t.Errorf("ParseSpecifier(%q): %v", spec, err)
			continue
		}
		for i, v := range versions {
			if got, want := s.Contains(v), bits[i] == '1'; got != want {
				t.Errorf("%q contains %q = %v, packaging %v", spec, v, got, want)
			}
		}
	}
}

func TestPackagingInvalidSpecifiers(t *testing.T) {
	for _, row := range readTable[[1]string](t, "invalid_specifiers.jsonl") {
		if s, err := ParseSpecifier(row[0]); err == nil {
			t.Errorf("ParseSpecifier(%q) = %q, want an error", row[0], s)
		}
	}
}

func TestPackagingClauses(t *testing.T) {
	for _, row := range readTable[[3]any](t, "clauses.jsonl") {
		op, text, want := row[0].(string), row[1].(string), row[2].(bool)
		if _, ok := Clause(op, text); ok != want {
			t.Errorf("Clause(%q, %q) valid = %v, packaging's Specifier(%q) %v", op, text, ok, op+text, want)
		}
	}
}
