package planner_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/planner"
)

var py312 = planner.Target{Runtime: "python3.12", Architecture: "x86_64"}

const mb = 1_000_000

// repo builds inputs for hand-checked cases: a function is a name and a
// list of "name==version" requirements; sizes are set per name==version.
type repo struct {
	in planner.Input
}

func newRepo() *repo { return &repo{in: planner.Input{Sizes: map[planner.Unit]planner.Size{}}} }

func (r *repo) size(spec string, bytes int64) *repo {
	name, version, _ := strings.Cut(spec, "==")
	r.in.Sizes[planner.Unit{Target: py312, Name: name, Version: version}] = planner.Size{Bytes: bytes, Kind: planner.SizeMeasured}
	return r
}

func (r *repo) fn(name string, specs ...string) *repo {
	f := planner.Function{Name: name, Target: py312, CodeBytes: 1_000}
	for _, s := range specs {
		n, v, _ := strings.Cut(s, "==")
		f.Closure = append(f.Closure, planner.Dist{Name: n, Version: v})
	}
	r.in.Functions = append(r.in.Functions, f)
	return r
}

func split(t *testing.T, in planner.Input) (*planner.Plan, *planner.TargetPlan) {
	t.Helper()
	p, err := planner.Split(in)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, in, p)
	if len(p.Targets) == 0 {
		return p, nil
	}
	return p, &p.Targets[0]
}

func function(t *testing.T, tp *planner.TargetPlan, name string) planner.FunctionPlan {
	t.Helper()
	for _, f := range tp.Functions {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no function %s", name)
	return planner.FunctionPlan{}
}

// contents maps each of a function's layers to its "name==version" list.
func contents(t *testing.T, tp *planner.TargetPlan, fn string) [][]string {
	t.Helper()
	var out [][]string
	for _, name := range function(t, tp, fn).Layers {
		for _, l := range tp.Layers {
			if l.Name == name {
				var pk []string
				for _, r := range l.Packages {
					pk = append(pk, r.Name+"=="+r.Version)
				}
				out = append(out, pk)
			}
		}
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(strings.Join(a, ","), strings.Join(b, ",")) })
	return out
}

func equalContents(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

func TestSharedAndOwnPackages(t *testing.T) {
	r := newRepo().
		size("boto3==1.34", 1*mb).size("botocore==1.34", 60*mb).size("requests==2.31", 2*mb).size("pandas==2.2", 40*mb).
		fn("api", "boto3==1.34", "botocore==1.34", "requests==2.31").
		fn("etl", "boto3==1.34", "botocore==1.34", "pandas==2.2")
	_, tp := split(t, r.in)
	if got, want := contents(t, tp, "api"), [][]string{{"boto3==1.34", "botocore==1.34"}, {"requests==2.31"}}; !equalContents(got, want) {
		t.Errorf("api layers = %v, want %v", got, want)
	}
	if got, want := contents(t, tp, "etl"), [][]string{{"boto3==1.34", "botocore==1.34"}, {"pandas==2.2"}}; !equalContents(got, want) {
		t.Errorf("etl layers = %v, want %v", got, want)
	}
	if len(tp.Layers) != 3 {
		t.Errorf("%d layers, want 3", len(tp.Layers))
	}
	for _, f := range tp.Functions {
		if *f.ExtraBytes != 0 {
			t.Errorf("%s receives %d extra bytes", f.Name, *f.ExtraBytes)
		}
	}
}

func TestGroupRule(t *testing.T) {
	r := newRepo().
		size("boto3==1.34", 1*mb).size("botocore==1.34", 60*mb).size("s3transfer==0.10", 1*mb).size("jmespath==1.0", mb/10).
		fn("a", "boto3==1.34", "botocore==1.34", "s3transfer==0.10", "jmespath==1.0").
		fn("b", "botocore==1.34", "jmespath==1.0").
		fn("c", "jmespath==1.0")
	// Without the rule, c's jmespath and b's botocore follow their users.
	_, tp := split(t, r.in)
	if got := contents(t, tp, "c"); !equalContents(got, [][]string{{"jmespath==1.0"}}) {
		t.Errorf("without a group, c gets %v", got)
	}
	// With the rule, every function's members of the group sit in one layer.
	max := 1.0
	r.in.Rules = planner.Rules{Groups: []planner.Group{{Name: "aws", Packages: []string{"boto3", "botocore", "s3transfer", "jmespath"}}}, MaxExtra: &max}
	_, tp = split(t, r.in)
	for _, fn := range []string{"a", "b", "c"} {
		if got := contents(t, tp, fn); len(got) != 1 {
			t.Errorf("%s gets the aws group in %d layers: %v", fn, len(got), got)
		}
	}
	for _, l := range tp.Layers {
		if !slices.Equal(l.Groups, []string{"aws"}) || !strings.HasPrefix(l.Name, "aws-") {
			t.Errorf("layer %s: groups %v", l.Name, l.Groups)
		}
	}
}

func TestForcedImage(t *testing.T) {
	r := newRepo().size("numpy==2.0", 30*mb).size("torch==2.3", 200*mb).
		fn("train", "numpy==2.0", "torch==2.3").
		fn("score", "numpy==2.0")
	r.in.Rules.Images = []string{"train"}
	_, tp := split(t, r.in)
	train := function(t, tp, "train")
	if train.PackageType != planner.PackageImage || train.Reason != `package = "image" in layers.toml` || len(train.Layers) != 0 {
		t.Errorf("train = %+v", train)
	}
	if len(train.Packages) != 2 {
		t.Errorf("image packages = %v", train.Packages)
	}
	// torch is needed by the image only: no layer holds it.
	for _, l := range tp.Layers {
		if slices.ContainsFunc(l.Packages, func(r planner.PackageRef) bool { return r.Name == "torch" }) {
			t.Errorf("layer %s holds torch", l.Name)
		}
	}
}

func TestOverSize(t *testing.T) {
	// aws-cdk #26900: pandas + openpyxl = 276,132,097 bytes.
	r := newRepo().size("pandas==2.0", 270_000_000).size("openpyxl==3.1", 6_132_097).
		fn("report", "pandas==2.0", "openpyxl==3.1")
	r.in.Functions[0].CodeBytes = 1_204
	_, tp := split(t, r.in)
	f := function(t, tp, "report")
	want := "closure 276,132,097 B + code 1,204 B exceeds the 262,144,000 B limit"
	if f.PackageType != planner.PackageImage || f.Reason != want {
		t.Errorf("report: %s %q, want image %q", f.PackageType, f.Reason, want)
	}
	if len(tp.Layers) != 0 {
		t.Errorf("layers %v", tp.Layers)
	}
}

func TestUnknownSizesNeverMakeImages(t *testing.T) {
	r := newRepo().size("big==1", 200*mb).
		fn("f", "big==1", "mystery==1", "other==1")
	r.in.Limits.FunctionUnzippedBytes = 201 * mb
	_, tp := split(t, r.in)
	f := function(t, tp, "f")
	if f.PackageType != planner.PackageLayers {
		t.Fatalf("f is an image: %s", f.Reason)
	}
	if f.ClosureBytes != nil || f.UnzippedBytes != nil {
		t.Errorf("sizes should be unknown: %+v", f)
	}
	for _, l := range tp.Layers {
		known := !slices.ContainsFunc(l.Packages, func(r planner.PackageRef) bool { return r.Name != "big" })
		if (l.UnzippedBytes != nil) != known {
			t.Errorf("layer %v: size %v", l.Packages, l.UnzippedBytes)
		}
	}
	// The known part alone over the limit does make an image.
	r.size("other==1", 2*mb)
	_, tp = split(t, r.in)
	f = function(t, tp, "f")
	if f.PackageType != planner.PackageImage || !strings.Contains(f.Reason, "closure 202,000,000 B (at least; 1 package sizes unknown)") {
		t.Errorf("f: %s %q", f.PackageType, f.Reason)
	}
}

func TestBudgetOverflowMerges(t *testing.T) {
	r := newRepo().size("a==1", 10*mb).size("b==1", 10*mb).size("c==1", mb).
		fn("f1", "a==1", "b==1", "c==1").
		fn("f2", "a==1").
		fn("f3", "b==1")
	r.in.Limits.LayersPerFunction = 2
	_, tp := split(t, r.in)
	// f1 needs three sharing classes in two layers: c joins a or b, and f2
	// or f3 receives it as 1 MB of extra bytes (10%, within max_extra).
	if got := function(t, tp, "f1").Layers; len(got) != 2 {
		t.Fatalf("f1 layers: %v", got)
	}
	var extra int64
	for _, fn := range []string{"f2", "f3"} {
		f := function(t, tp, fn)
		if len(f.Layers) != 1 {
			t.Errorf("%s: %d layers", fn, len(f.Layers))
		}
		extra += *f.ExtraBytes
	}
	if extra != mb {
		t.Errorf("%d extra bytes, want %d", extra, mb)
	}
	var stored int64
	for _, l := range tp.Layers {
		stored += *l.UnzippedBytes
		if l.Classes != 0 && l.Classes != 1 && len(l.Packages) != 2 {
			t.Errorf("layer %v", l)
		}
	}
	if stored != 21*mb {
		t.Errorf("stored %d bytes, want every package once", stored)
	}
	// Without room for extra bytes, f1 copies what does not fit.
	none := 0.0
	r.in.Rules.MaxExtra = &none
	_, tp = split(t, r.in)
	if got := contents(t, tp, "f1"); !equalContents(got, [][]string{{"a==1"}, {"b==1", "c==1"}}) {
		t.Errorf("f1 layers without max_extra: %v", got)
	}
}

func TestReservedLayers(t *testing.T) {
	r := newRepo().size("a==1", mb).size("b==1", mb).size("c==1", mb).
		fn("f1", "a==1", "b==1").
		fn("f2", "a==1", "c==1").
		fn("f3", "a==1", "b==1")
	r.in.Limits = planner.Limits{LayersPerFunction: 3, ReservedLayers: 2}
	_, tp := split(t, r.in)
	for _, f := range tp.Functions {
		if len(f.Layers) != 1 {
			t.Errorf("%s attaches %v, budget is 1", f.Name, f.Layers)
		}
	}
	if f1, f3 := function(t, tp, "f1"), function(t, tp, "f3"); f1.Layers[0] != f3.Layers[0] {
		t.Errorf("f1 and f3 have the same closure but different layers")
	}
	r.in.Limits.ReservedLayers = 3
	_, tp = split(t, r.in)
	want := "needs 1 layer but only 0 are available (3 per function - 3 reserved)"
	for _, f := range tp.Functions {
		if f.PackageType != planner.PackageImage || f.Reason != want {
			t.Errorf("%s: %s %q", f.Name, f.PackageType, f.Reason)
		}
	}
}

func TestLocalPackages(t *testing.T) {
	r := newRepo().size("requests==2.31", 2*mb).
		fn("a", "requests==2.31").
		fn("b", "requests==2.31")
	common := planner.Dist{Name: "common", Version: "0.1.0", Source: "path:libs/common", Local: true}
	r.in.Sizes[planner.Unit{Target: py312, Name: "common", Version: "0.1.0", Source: "path:libs/common"}] = planner.Size{Bytes: 50_000, Kind: planner.SizeMeasured}
	for i := range r.in.Functions {
		r.in.Functions[i].Closure = append(r.in.Functions[i].Closure, common)
	}
	_, tp := split(t, r.in)
	if got := contents(t, tp, "a"); !equalContents(got, [][]string{{"common==0.1.0", "requests==2.31"}}) {
		t.Errorf("local in layers: %v", got)
	}
	r.in.LocalWithCode = true
	_, tp = split(t, r.in)
	a := function(t, tp, "a")
	if got := contents(t, tp, "a"); !equalContents(got, [][]string{{"requests==2.31"}}) {
		t.Errorf("local with code: layers %v", got)
	}
	if len(a.CodePackages) != 1 || a.CodePackages[0].Name != "common" || *a.UnzippedBytes != 1_000+50_000+2*mb {
		t.Errorf("local with code: %+v", a)
	}
}

func TestTargetsArePlannedApart(t *testing.T) {
	arm := planner.Target{Runtime: "python3.12", Architecture: "arm64"}
	r := newRepo().size("numpy==2.0", 30*mb).fn("x86", "numpy==2.0")
	r.in.Functions = append(r.in.Functions, planner.Function{Name: "arm", Target: arm, Closure: planner.Closure{{Name: "numpy", Version: "2.0"}}})
	p, _ := split(t, r.in)
	if len(p.Targets) != 2 || p.Targets[0].Target != arm || p.Targets[1].Target != py312 {
		t.Fatalf("targets %+v", p.Targets)
	}
	a, x := p.Targets[0].Layers[0], p.Targets[1].Layers[0]
	if a.Name == x.Name {
		t.Errorf("the same layer name %s for two targets", a.Name)
	}
	if a.UnzippedBytes != nil {
		t.Errorf("arm64 numpy has no size, got %d", *a.UnzippedBytes)
	}
}

var layerName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,140}$`)

func TestLayerNames(t *testing.T) {
	long := strings.Repeat("p", planner.MaxPrefixLength)
	r := newRepo().size("a==1", mb).fn("f", "a==1", strings.Repeat("x", 300)+"==1")
	r.in.Rules.Prefix = long
	_, tp := split(t, r.in)
	for _, l := range tp.Layers {
		if !layerName.MatchString(l.Name) || !strings.HasPrefix(l.Name, long+"-") {
			t.Errorf("bad name %q", l.Name)
		}
	}
	r.in.Rules.Prefix = "myapp_"
	_, tp = split(t, r.in)
	if n := tp.Layers[0].Name; !strings.HasPrefix(n, "myapp_a-") {
		t.Errorf("name %q", n)
	}
}

func TestInvalidInput(t *testing.T) {
	bad := 1.5
	for name, in := range map[string]planner.Input{
		"duplicate function": newRepo().fn("f", "a==1").fn("f", "b==1").in,
		"two versions":       newRepo().fn("f", "a==1", "A==2").in,
		"two groups":         {Rules: planner.Rules{Groups: []planner.Group{{Name: "x", Packages: []string{"a"}}, {Name: "y", Packages: []string{"A"}}}}},
		"bad prefix":         {Rules: planner.Rules{Prefix: "my app"}},
		"long prefix":        {Rules: planner.Rules{Prefix: strings.Repeat("p", planner.MaxPrefixLength+1)}},
		"max extra":          {Rules: planner.Rules{MaxExtra: &bad}},
		"negative limit":     {Limits: planner.Limits{ReservedLayers: -1}},
		"reserved > layers":  {Limits: planner.Limits{LayersPerFunction: 2, ReservedLayers: 3}},
		"nameless function":  newRepo().fn("", "a==1").in,
	} {
		if _, err := planner.Split(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Django":             "django",
		"zope.interface":     "zope-interface",
		"typing_extensions":  "typing-extensions",
		"Foo.-_Bar":          "foo-bar",
		"charset-normalizer": "charset-normalizer",
	} {
		if got := planner.NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExplain(t *testing.T) {
	r := newRepo().size("pandas==2.0", 270_000_000).size("requests==2.31", 2*mb).size("boto3==1.34", mb).
		fn("api", "requests==2.31", "boto3==1.34").
		fn("web", "requests==2.31").
		fn("report", "pandas==2.0", "requests==2.31")
	p, tp := split(t, r.in)
	api := function(t, tp, "api")
	for name, want := range map[string][]string{
		"api":      {"function api (python3.12/x86_64): 2 of 5 layers", api.Layers[0], api.Layers[1]},
		"report":   {"container image", "exceeds the 262,144,000 B limit"},
		"Requests": {"package requests", "2.31: in 1 layer attached by 2 functions", "used by 2 functions (api, web)", "in the image of function report"},
	} {
		got, ok := p.Explain(name)
		if !ok {
			t.Errorf("Explain(%q): not found", name)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("Explain(%q) = %q, missing %q", name, got, w)
			}
		}
	}
	if _, ok := p.Explain("nothing"); ok {
		t.Error("Explain(nothing) found something")
	}
}

func TestPlanJSON(t *testing.T) {
	_, tp := split(t, newRepo().size("a==1", mb).fn("f", "a==1").fn("g").in)
	b, err := json.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"package_type":"layers"`, `"layers":[]`, `"unzipped_bytes":1000000`, `"closure_bytes":1000000`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

// TestPrevious: with the previous plan (read back from its JSON, as a
// caller stores it), a function gaining a package leaves every other
// function's layers as they were, and those layers say they were kept; a
// function that now resolves another version gives up the layer holding
// the old one.
func TestPrevious(t *testing.T) {
	r := newRepo().
		size("numpy==2.0", 30*mb).size("pandas==2.2", 40*mb).size("boto3==1.34", mb).size("botocore==1.34", 60*mb).
		size("requests==2.31", 2*mb).size("requests==2.32", 2*mb).size("orjson==3.10", mb).
		fn("etl-a", "numpy==2.0", "pandas==2.2", "boto3==1.34", "botocore==1.34").
		fn("etl-b", "numpy==2.0", "pandas==2.2", "boto3==1.34", "botocore==1.34", "requests==2.31").
		fn("api-a", "boto3==1.34", "botocore==1.34", "requests==2.31").
		fn("api-b", "boto3==1.34", "botocore==1.34", "requests==2.31")
	p, before := split(t, r.in)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var prev planner.Plan
	if err := json.Unmarshal(b, &prev); err != nil {
		t.Fatal(err)
	}
	r.in.Functions[0].Closure = append(r.in.Functions[0].Closure, planner.Dist{Name: "orjson", Version: "3.10"})
	r.in.Functions[3].Closure[2].Version = "2.32"
	r.in.Previous = &prev
	q, after := split(t, r.in)
	for _, fn := range []string{"etl-b", "api-a"} {
		if b, a := function(t, before, fn).Layers, function(t, after, fn).Layers; !slices.Equal(a, b) {
			t.Errorf("%s: layers %v became %v", fn, b, a)
		}
	}
	for _, l := range after.Layers {
		if want := slices.Contains(l.Functions, "etl-b"); l.Kept != want {
			t.Errorf("layer %s of %v: kept %v, want %v", l.Name, l.Functions, l.Kept, want)
		}
	}
	if got, _ := q.Explain("etl-b"); !strings.Contains(got, "kept unchanged from the previous plan") {
		t.Errorf("Explain(etl-b) = %q, want its layers kept", got)
	}
	for _, l := range contents(t, after, "api-b") {
		if slices.Contains(l, "requests==2.31") {
			t.Errorf("api-b still receives requests 2.31: %v", contents(t, after, "api-b"))
		}
	}
	if !slices.ContainsFunc(contents(t, after, "etl-a"), func(l []string) bool { return slices.Contains(l, "orjson==3.10") }) {
		t.Errorf("etl-a lacks orjson: %v", contents(t, after, "etl-a"))
	}
}

// TestHoist checks the hoist of step 4: with two layers per function, four
// functions needing numpy, lib and their own package have no slot left for
// lib, which the rounds cannot merge into numpy's layer (two functions
// need numpy alone and lib exceeds their MaxExtra), so each copies it into
// its own layer. Step 4 may give those two up to three times MaxExtra: lib
// then moves into numpy's layer and is stored once.
func TestHoist(t *testing.T) {
	r := newRepo().size("numpy==2.0", 50*mb).size("lib==1.0", 8*mb)
	for _, f := range []string{"f1", "f2", "f3", "f4", "f5", "f6"} {
		r.size(f+"-own==1.0", 10*mb)
	}
	r.fn("f1", "numpy==2.0", "lib==1.0", "f1-own==1.0").
		fn("f2", "numpy==2.0", "lib==1.0", "f2-own==1.0").
		fn("f3", "numpy==2.0", "lib==1.0", "f3-own==1.0").
		fn("f4", "numpy==2.0", "lib==1.0", "f4-own==1.0").
		fn("f5", "numpy==2.0", "f5-own==1.0").
		fn("f6", "numpy==2.0", "f6-own==1.0")
	r.in.Limits.LayersPerFunction = 2
	_, tp := split(t, r.in)
	var holders []planner.Layer
	for _, l := range tp.Layers {
		if slices.ContainsFunc(l.Packages, func(p planner.PackageRef) bool { return p.Name == "lib" }) {
			holders = append(holders, l)
		}
	}
	if len(holders) != 1 || !slices.ContainsFunc(holders[0].Packages, func(p planner.PackageRef) bool { return p.Name == "numpy" }) {
		t.Fatalf("lib is stored in %d layers, want once, with numpy: %+v", len(holders), holders)
	}
	if len(holders[0].Functions) != 6 {
		t.Errorf("numpy's layer with lib is attached by %v, want all six functions", holders[0].Functions)
	}
}

// holders returns the layers holding a package of the given name.
func holders(tp *planner.TargetPlan, name string) []planner.Layer {
	var out []planner.Layer
	for _, l := range tp.Layers {
		if slices.ContainsFunc(l.Packages, func(p planner.PackageRef) bool { return p.Name == name }) {
			out = append(out, l)
		}
	}
	return out
}

// TestHoistRatio checks that hoist never puts a package into a layer more
// than twenty times its size: a 1 MB lib that three functions copy into
// their own layers (two layers per function; each function has a 50 MB
// package of its own, too large for anyone else) stays out of numpy's
// 100 MB layer, whether a quarter of the functions attaching it need lib
// (three of eight) or fewer (three of sixteen). Otherwise the large
// layer's content, hence its name, would hinge on the few functions that
// need something small, and planned from scratch, one of them changing
// renames it.
func TestHoistRatio(t *testing.T) {
	for _, functions := range []int{8, 16} {
		r := newRepo().size("numpy==2.0", 100*mb).size("lib==1.0", 1*mb)
		for i := range functions {
			own := fmt.Sprintf("f%02d-own==1.0", i)
			r.size(own, 50*mb)
			if i < 3 {
				r.fn(fmt.Sprintf("f%02d", i), "numpy==2.0", "lib==1.0", own)
			} else {
				r.fn(fmt.Sprintf("f%02d", i), "numpy==2.0", own)
			}
		}
		r.in.Limits.LayersPerFunction = 2
		_, tp := split(t, r.in)
		hs := holders(tp, "lib")
		if len(hs) != 3 {
			t.Errorf("%d functions: lib is stored in %d layers, want 3 (one per function needing it)", functions, len(hs))
		}
		for _, l := range hs {
			if slices.ContainsFunc(l.Packages, func(p planner.PackageRef) bool { return p.Name == "numpy" }) {
				t.Errorf("%d functions: lib is in numpy's layer %s", functions, l.Name)
			}
		}
	}
}

// TestPruneKeepsLayer checks that prune leaves a layer alone when dropping
// a copy would change it by less than a twentieth: four functions need a
// (50 MB), p (0.5 MB) and y (20 MB), others need a alone. With two others,
// most of a's functions need p, so a's layer carries a copy of p too and
// the four receive p twice; with four others it does not. Either way y's
// layer keeps p, hence its content and name: two functions that need
// neither p nor y do not rebuild it.
func TestPruneKeepsLayer(t *testing.T) {
	var names []string
	for _, others := range []int{2, 4} {
		r := newRepo().size("a==1.0", 50*mb).size("p==1.0", mb/2).size("y==1.0", 20*mb)
		for i := range 4 + others {
			if i < 4 {
				r.fn(fmt.Sprintf("f%02d", i), "a==1.0", "p==1.0", "y==1.0")
			} else {
				r.fn(fmt.Sprintf("f%02d", i), "a==1.0")
			}
		}
		_, tp := split(t, r.in)
		hs := holders(tp, "y")
		if len(hs) != 1 {
			t.Fatalf("%d others: y is in %d layers, want 1", others, len(hs))
		}
		if !slices.ContainsFunc(hs[0].Packages, func(p planner.PackageRef) bool { return p.Name == "p" }) {
			t.Errorf("%d others: y's layer holds %v, want p too", others, hs[0].Packages)
		}
		names = append(names, hs[0].Name)
	}
	if names[0] != names[1] {
		t.Errorf("y's layer is %s with two others and %s with four", names[0], names[1])
	}
}

// TestLayerNameHints checks a layer is named after what its functions ask
// for (the largest of those), else after its largest package, a group
// standing for its members; and that a layer of the previous plan keeps
// its name when its content and prefix are the same.
func TestLayerNameHints(t *testing.T) {
	web := func(direct ...string) *repo {
		r := newRepo().
			size("annotated-doc==0.1", mb/100).size("fastapi==0.115", mb/2).size("starlette==0.40", 2*mb).size("pydantic-core==2.27", 5*mb).
			fn("a", "annotated-doc==0.1", "fastapi==0.115", "starlette==0.40", "pydantic-core==2.27").
			fn("b", "annotated-doc==0.1", "fastapi==0.115", "starlette==0.40", "pydantic-core==2.27")
		for i := range r.in.Functions {
			r.in.Functions[i].Direct = direct
		}
		return r
	}
	aws := func(direct ...string) *repo {
		r := newRepo().
			size("async-timeout==4.0", mb/100).size("boto3==1.35", mb).size("botocore==1.35", 60*mb).
			fn("a", "async-timeout==4.0", "boto3==1.35", "botocore==1.35").
			fn("b", "async-timeout==4.0", "boto3==1.35", "botocore==1.35")
		r.in.Functions[0].Direct = direct
		return r
	}
	grouped := aws("async-timeout", "boto3")
	grouped.in.Rules.Groups = []planner.Group{{Name: "sdk", Packages: []string{"boto3", "botocore"}}}
	for _, c := range []struct {
		name string
		in   planner.Input
		want string
	}{
		{"asked for beats larger", web("fastapi").in, "fastapi-"},
		{"the largest of those asked for", aws("async-timeout", "boto3").in, "boto3-"},
		{"names normalised", aws("Async_Timeout").in, "async-timeout-"},
		{"the largest when none is asked for", web().in, "pydantic-core-"},
		{"a group for its members", grouped.in, "sdk-"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, tp := split(t, c.in)
			if len(tp.Layers) != 1 || !strings.HasPrefix(tp.Layers[0].Name, c.want) {
				t.Fatalf("layers %v, want one named %s…", targetLayers(tp), c.want)
			}
		})
	}

	// The previous plan named the same content otherwise: the name stays,
	// unless it was made with another prefix.
	r := web("fastapi")
	p, tp := split(t, r.in)
	hash := tp.Layers[0].Name[len("fastapi-"):]
	p.Targets[0].Layers[0].Name = "annotated-doc-" + hash
	for i := range p.Targets[0].Functions {
		p.Targets[0].Functions[i].Layers = []string{"annotated-doc-" + hash}
	}
	r.in.Previous = p
	if _, tp := split(t, r.in); targetLayers(tp)[0] != "annotated-doc-"+hash {
		t.Errorf("with the previous plan: layers %v, want annotated-doc-%s", targetLayers(tp), hash)
	}
	r.in.Rules.Prefix = "annotated"
	if _, tp := split(t, r.in); targetLayers(tp)[0] != "annotated-fastapi-"+hash {
		t.Errorf("with another prefix: layers %v, want annotated-fastapi-%s", targetLayers(tp), hash)
	}
}

func targetLayers(tp *planner.TargetPlan) []string {
	var out []string
	for _, l := range tp.Layers {
		out = append(out, l.Name)
	}
	return out
}
