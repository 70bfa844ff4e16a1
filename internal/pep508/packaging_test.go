package pep508

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The tables in testdata/packaging were computed by pypa/packaging 26.4
// (gen.py there regenerates them): these tests hold this package to the
// reference implementation.

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

// namedEnv is one environment of envs.json.
type namedEnv struct {
	name string
	env  Env
}

func readEnvs(t *testing.T) []namedEnv {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "packaging", "envs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw [][4]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var envs []namedEnv
	for _, r := range raw {
		var e namedEnv
		var extras, groups []string
		for i, dst := range []any{&e.name, &e.env.Values, &extras, &groups} {
			if err := json.Unmarshal(r[i], dst); err != nil {
				t.Fatal(err)
			}
		}
		e.env = e.env.WithExtras(extras...).WithGroups(groups...)
		envs = append(envs, e)
	}
	return envs
}

func TestPackagingMarkers(t *testing.T) {
	envs := readEnvs(t)
	// [marker, canonical form or null when invalid, one of "1", "0", "x" (undefined) per env]
	for _, row := range readTable[[3]*string](t, "markers.jsonl") {
		text, canonical, results := *row[0], row[1], *row[2]
		m, err := ParseMarker(text)
		if canonical == nil {
			if err == nil {
				t.Errorf("ParseMarker(%q) = %q, packaging rejects it", text, m.Canonical())
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMarker(%q): %v; packaging: %q", text, err, *canonical)
			continue
		}
		if got := m.Canonical(); got != *canonical {
			t.Errorf("ParseMarker(%q).Canonical() = %q, packaging %q", text, got, *canonical)
		}
		for i, e := range envs {
			if results[i] == 'x' {
				// Undefined in packaging (it raises); checked by TestUndefinedComparisons.
				continue
			}
			if got, want := m.Evaluate(e.env), results[i] == '1'; got != want {
				t.Errorf("%q in %s = %v, packaging %v", text, e.name, got, want)
			}
		}
	}
}

// TestPackagingLambdaEnvs checks that the Lambda environments the tables
// were computed for are the ones TargetEnv returns.
func TestPackagingLambdaEnvs(t *testing.T) {
	n := 0
	for _, e := range readEnvs(t) {
		runtime, arch, ok := strings.Cut(e.name, "/")
		if !ok || strings.Contains(arch, " ") {
			continue
		}
		got, err := TargetEnv(runtime, arch)
		if err != nil {
			t.Fatal(err)
		}
		if !maps(got.Values, e.env.Values) {
			t.Errorf("TargetEnv(%s, %s) = %v, tables use %v", runtime, arch, got.Values, e.env.Values)
		}
		n++
	}
	if n != 12 {
		t.Errorf("tables have %d Lambda targets, want 12", n)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

type packagingRequirement struct {
	Name      string   `json:"name"`
	Extras    []string `json:"extras"`
	Specifier []string `json:"specifier"`
	URL       string   `json:"url"`
	Marker    string   `json:"marker"`
}

// clauses lists a specifier's clauses the way packaging prints them: sorted,
// without whitespace.
func clauses(spec string) []string {
	out := []string{}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.IndexFunc(part, func(r rune) bool { return !strings.ContainsRune("=!<>~", r) })
		if i < 0 {
			i = len(part)
		}
		out = append(out, part[:i]+strings.TrimSpace(part[i:]))
	}
	slices.Sort(out)
	return out
}

func TestPackagingRequirements(t *testing.T) {
	for _, row := range readTable[[2]json.RawMessage](t, "requirements.jsonl") {
		var text string
		var want *packagingRequirement
		if err := json.Unmarshal(row[0], &text); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(row[1], &want); err != nil {
			t.Fatal(err)
		}
		r, err := ParseRequirement(text)
		if want == nil {
			if err == nil {
				t.Errorf("ParseRequirement(%q) = %q, packaging rejects it", text, r)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRequirement(%q): %v", text, err)
			continue
		}
		got := packagingRequirement{Name: r.Name, Extras: r.Extras, Specifier: clauses(r.Specifier.String()), URL: r.URL, Marker: r.Marker.Canonical()}
		if got.Extras == nil {
			got.Extras = []string{}
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("ParseRequirement(%q):\n got       %s\n packaging %s", text, gj, wj)
		}
		roundTrip(t, r)
	}
}
