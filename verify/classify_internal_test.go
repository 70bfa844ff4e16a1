package verify

import "testing"

func TestClassify(t *testing.T) {
	provided := map[string]bool{"yaml": true, "requests": true, "urllib3": true, "hypothesis": true, "_hypothesis_pytestplugin": true, "charset-normalizer": true}
	notFound := func(missing string) importerResult {
		return importerResult{Type: "ModuleNotFoundError", Missing: missing}
	}
	for _, tc := range []struct {
		name string
		m    Module
		r    importerResult
		want string
	}{
		{"pytest plugin without pytest", Module{Name: "_hypothesis_pytestplugin", Dist: "hypothesis"}, notFound("pytest"), StatusOptional},
		{"optional dotted", Module{Name: "x", Dist: "x"}, notFound("matplotlib.pyplot"), StatusOptional},
		{"own module pruned", Module{Name: "yaml", Dist: "pyyaml"}, notFound("yaml.constructor"), StatusFailed},
		{"own top missing", Module{Name: "ghost", Dist: "ghost"}, notFound("ghost"), StatusFailed},
		{"required dist missing (metadata check)", Module{Name: "x", Dist: "x"}, notFound("charset_normalizer.api"), StatusFailed},
		{"received dist pruned away", Module{Name: "requests", Dist: "requests"}, notFound("urllib3"), StatusFailed},
		{"handler", Module{Name: "app", Attr: "handler"}, notFound("pytest"), StatusFailed},
		{"not a ModuleNotFoundError", Module{Name: "x", Dist: "x"}, importerResult{Type: "ImportError", Message: "GLIBC_2.34 not found"}, StatusFailed},
		{"a crash", Module{Name: "x", Dist: "x"}, importerResult{Type: "Crash"}, StatusFailed},
	} {
		if got := classify(tc.m, tc.r, provided); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestFillImports(t *testing.T) {
	mods := []Module{{Name: "a", Dist: "a"}, {Name: "b", Dist: "b"}, {Name: "c", Dist: "c"}, {Name: "app", Attr: "handler"}}
	line := func(name string, us string) string { return "import time: 1 | " + us + " | " + name + "\n" }
	out := &importerOutput{Python: "3.11.2", Results: []importerResult{
		{OK: true, ImportTime: []string{line("a", "500") + line("x", "100"), line("a", "400")}},
		{OK: true, ImportTime: []string{line("b", "900"), line("b", "950")}},
		{Type: "ModuleNotFoundError", Message: "No module named 'pytest'", Missing: "pytest", Tail: "..."},
		{OK: true, ImportTime: []string{line("app", "5000")}},
	}, Cold: []string{line("a", "700") + line("b", "900"), line("a", "600") + line("b", "800")}}
	var res FunctionResult
	fillImports(&res, mods, out, map[string]bool{"a": true, "b": true, "c": true}, false)
	if res.ImportMicros == nil || *res.ImportMicros != 1400 {
		t.Errorf("cold import %v, want the faster run's 1400", res.ImportMicros)
	}
	if res.Modules[0].Micros != 400 || res.Modules[1].Micros != 900 {
		t.Errorf("module times %d, %d; want the fastest runs, 400 and 900", res.Modules[0].Micros, res.Modules[1].Micros)
	}
	if res.Modules[2].Status != StatusOptional || res.Modules[2].Error != "ModuleNotFoundError: No module named 'pytest'" {
		t.Errorf("c: %+v, want optional: nothing the function receives provides pytest", res.Modules[2])
	}
	if res.Failed(false) || !res.Failed(true) {
		t.Errorf("an optional dependency fails the function: %v without strict, %v with it; want false, true", res.Failed(false), res.Failed(true))
	}
	if len(res.Slowest) != 2 || res.Slowest[0].Module != "b" || res.Slowest[1].Module != "a" {
		t.Errorf("slowest %+v, want b then a, without the handler", res.Slowest)
	}
	if !res.Modules[3].Handler {
		t.Error("the handler's module is not marked")
	}
}
