package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/golden"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/report"
	"github.com/layers-dev/layers/verify"
)

func ptr(n int64) *int64 { return &n }

// fixture is a build of three functions, one of them an image, and a
// verify run that failed one function.
func fixture() (*manifest.Manifest, *verify.Result) {
	m := &manifest.Manifest{Format: manifest.Format, InputsSHA256: "abc", Targets: []manifest.Target{{
		Runtime: "python3.11", Architecture: "x86_64",
		Layers: []manifest.Layer{
			{Name: "numpy-0123456789abcdef", UnzippedBytes: 120 << 20},
			{Name: "boto3-0123456789abcdef", UnzippedBytes: 24 << 20},
			{Name: "report-0123456789abcdef", UnzippedBytes: 60 << 20},
			{Name: "api-0123456789abcdef", UnzippedBytes: 9 << 20},
			{Name: "pandas-0123456789abcdef", UnzippedBytes: 80 << 20},
		},
		Functions: []manifest.Function{
			{Name: "api", PackageType: planner.PackageLayers, Layers: []string{"api-0123456789abcdef"}, UnzippedBytes: ptr(9<<20 + 4096)},
			{Name: "big", PackageType: planner.PackageImage, UnzippedBytes: ptr(300 << 20), ByteCodeBytes: 60 << 20},
			{Name: "heavy", PackageType: planner.PackageLayers, Layers: []string{"numpy-0123456789abcdef", "report-0123456789abcdef", "pandas-0123456789abcdef"},
				UnzippedBytes: ptr(260 << 20)},
			{Name: "report", PackageType: planner.PackageLayers, Layers: []string{"numpy-0123456789abcdef", "boto3-0123456789abcdef", "report-0123456789abcdef"},
				UnzippedBytes: ptr(204<<20 + 12000), ByteCodeBytes: 51 << 20},
		},
		Images: []manifest.Image{{Function: "big", Tag: "layers/big:1", Handler: "app.handler"}},
	}}}
	v := &verify.Result{Format: verify.ResultFormat, InputsSHA256: "abc", Functions: []verify.FunctionResult{
		{Name: "api", Runtime: "python3.11", Architecture: "x86_64", ImportMicros: ptr(180_000),
			Modules: []verify.ModuleResult{
				{Module: "requests", Dist: "requests", Status: verify.StatusOK, Micros: 95_000},
				{Module: "yaml", Dist: "pyyaml", Status: verify.StatusFailed, Error: "ModuleNotFoundError: No module named 'yaml.constructor'",
					Tail: "  File \"/opt/python/yaml/__init__.py\", line 8, in <module>\nModuleNotFoundError: No module named 'yaml.constructor'", Missing: "yaml.constructor"},
				{Module: "_pytest_plugin", Dist: "x", Status: verify.StatusOptional, Missing: "pytest", Tail: "ModuleNotFoundError: No module named 'pytest'"},
			},
			Problems: []verify.Problem{{Kind: verify.ProblemMissing, Distribution: "requests", Version: "2.32.3", Requirement: "urllib3<3,>=1.21.1"}},
			Slowest:  []verify.ModuleResult{{Module: "requests", Micros: 95_000}}},
		{Name: "report", Runtime: "python3.11", Architecture: "x86_64", ImportMicros: ptr(1_250_000), SourceImportMicros: ptr(5_000_000),
			Slowest: []verify.ModuleResult{{Module: "pandas", Micros: 900_000}, {Module: "numpy", Micros: 150_000}, {Module: "boto3", Micros: 120_000},
				{Module: "botocore", Micros: 110_000}, {Module: "dateutil", Micros: 8_000}}},
	}}
	return m, v
}

// TestRenderGolden renders the fixture with and without verify results
// and compares the pages with testdata/*.golden.html (-update rewrites
// them).
func TestRenderGolden(t *testing.T) {
	m, v := fixture()
	for _, tc := range []struct {
		name string
		v    *verify.Result
	}{{"verified", v}, {"sizes-only", nil}} {
		var b bytes.Buffer
		if err := report.Render(&b, m, tc.v, 262144000); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, tc.name+".golden.html", b.String())
		page := b.String()
		for _, bad := range []string{"<script", "http://", "https://", "<link"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: the page holds %q: it must be self-contained", tc.name, bad)
			}
		}
	}
}

// TestRenderContent checks what the golden file is meant to show.
func TestRenderContent(t *testing.T) {
	m, v := fixture()
	var b bytes.Buffer
	if err := report.Render(&b, m, v, 262144000); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// Heaviest first: big (300 MiB, an image), heavy, report, api.
	iBig, iReport, iAPI := strings.Index(page, "<strong>big</strong>"), strings.Index(page, "<strong>report</strong>"), strings.Index(page, "<strong>api</strong>")
	if iBig < 0 || iReport < 0 || iAPI < 0 || iBig >= iReport || iReport >= iAPI {
		t.Errorf("functions not sorted by size: big %d, report %d, api %d", iBig, iReport, iAPI)
	}
	for _, want := range []string{
		"300.0 MiB", "an image: the limit does not apply", "code and packages in the image", // big is an image
		"82% of the limit", `<td class="num over">260.0 MiB<br><small>104% of the limit</small>`, // heavy is over
		"numpy-0123456789abcdef: 120.0 MiB", "function code", // report's stacked layers
		"1250 ms", "pandas 900 ms", // report's import time and slowest
		"without byte code: 5000 ms<br>(byte code: 75% faster)",                                        // and without byte code
		"byte code 51.0 MiB (25%)",                                                                     // report's byte code
		"byte code 60.0 MiB (20%)</small><br><small class=\"over\">byte code pushes it over the limit", // big fits without it
		"import yaml (pyyaml) failed", "No module named &#39;yaml.constructor&#39;",
		"requests 2.32.3 requires urllib3&lt;3,&gt;=1.21.1, which the function does not receive",
		"_pytest_plugin needs pytest (optional)",
		"not verified", // big has no result
		`<td class="num">204.0 MiB`,
		"FAILED",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestWrite writes the page of a repository with a manifest and no verify
// results, where it is asked for.
func TestWrite(t *testing.T) {
	root := t.TempDir()
	m, _ := fixture()
	if err := manifest.Write(root, m); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "r.html")
	got, err := report.Write(config.Default(root), report.Options{Out: out})
	if err != nil || got != out {
		t.Fatalf("Write: %q, %v", got, err)
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), "No verify results: sizes only") {
		t.Errorf("page: %v\n%.300s", err, data)
	}
	if _, err := report.Write(config.Default(t.TempDir()), report.Options{}); err == nil {
		t.Error("a repository never built gave no error")
	}
}

// TestRenderVerdictFirst checks the verdict is the column seen first,
// right after the function's name, and that a failure's details take a
// row of their own instead of widening the table.
func TestRenderVerdictFirst(t *testing.T) {
	m, v := fixture()
	var b bytes.Buffer
	if err := report.Render(&b, m, v, 262144000); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.Contains(page, "<tr><th>function</th><th>verify</th><th>size</th>") {
		t.Errorf("the verify column is not second:\n%s", page)
	}
	api := page[strings.Index(page, "<strong>api</strong>"):]
	failed, bar, details := strings.Index(api, "FAILED"), strings.Index(api, "<svg"), strings.Index(api, "import yaml (pyyaml) failed")
	if failed < 0 || failed > bar {
		t.Errorf("api: the verdict (at %d) does not come before its size bar (at %d)", failed, bar)
	}
	if row := strings.Index(api, `<tr class="why">`); row < 0 || row > details {
		t.Errorf("api: the failure's details are not in a row of their own")
	}
}
