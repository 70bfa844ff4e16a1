package planner_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/planner/synth"
)

// TestStability checks on a generated 300-function monorepo that a function
// gaining one package leaves the other layers alone: on average at most 10%
// of the bytes of layers that function did not use change, and at most 10%
// of all layer bytes are in new layers.
func TestStability(t *testing.T) {
	if testing.Short() {
		t.Skip("plans the monorepo 21 times")
	}
	m := synth.Generate(synth.Options{Functions: 300, Seed: 1})
	p, err := planner.Split(m.Input)
	if err != nil {
		t.Fatal(err)
	}
	c := measureChurn(t, m, m.Input, p)
	t.Logf("churn: mean %.1f%%, worst %.1f%%; unrelated layer bytes changed: %.1f%%", 100*c.mean, 100*c.worst, 100*c.unrelated)
	t.Logf("with the previous plan: mean %.1f%%, worst %.1f%%; unrelated: %.1f%%; stored/lower %.3f", 100*c.prevMean, 100*c.prevWorst, 100*c.prevUnrelated, c.prevRatio)
	if c.mean > 0.10 || c.unrelated > 0.10 {
		t.Errorf("churn %.1f%%, unrelated changes %.1f%%: want at most 10%%", 100*c.mean, 100*c.unrelated)
	}
	if c.prevWorst > 0.05 || c.prevUnrelated > 0.01 {
		t.Errorf("with the previous plan: worst churn %.1f%%, unrelated changes %.1f%%: want at most 5%% and 1%%", 100*c.prevWorst, 100*c.prevUnrelated)
	}
}

// TestStabilityShapes checks issue 18's targets for churn from scratch on
// a generated 300-function monorepo of every shape: one function gaining
// one package puts at most 10% of the layer bytes into new layers on
// average, at most 30% at the 90th percentile of 60 changes.
func TestStabilityShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("plans three monorepos 61 times each")
	}
	for _, shape := range synth.Shapes {
		m := synth.Generate(synth.Options{Functions: 300, Seed: 1, Shape: shape})
		p, err := planner.Split(m.Input)
		if err != nil {
			t.Fatal(err)
		}
		c := measureChurn(t, m, m.Input, p)
		mean, p90 := mean(c.churns), quantile(c.churns, 0.9)
		t.Logf("%s: churn mean %.1f%%, p90 %.1f%%, worst %.1f%%", shape, 100*mean, 100*p90, 100*c.worst)
		if mean > 0.10 || p90 > 0.30 {
			t.Errorf("%s: churn mean %.1f%%, p90 %.1f%%: want at most 10%% and 30%%", shape, 100*mean, 100*p90)
		}
	}
}

// TestStabilityByHand: services that share nothing with the changed
// function keep every layer.
func TestStabilityByHand(t *testing.T) {
	r := newRepo().
		size("boto3==1.34", mb).size("botocore==1.34", 60*mb).size("pandas==2.2", 40*mb).size("numpy==2.0", 30*mb).
		size("fastapi==0.110", 2*mb).size("pydantic==2.7", 5*mb).size("orjson==3.10", mb).
		fn("etl-a", "boto3==1.34", "botocore==1.34", "pandas==2.2", "numpy==2.0").
		fn("etl-b", "boto3==1.34", "botocore==1.34", "pandas==2.2", "numpy==2.0").
		fn("api-a", "fastapi==0.110", "pydantic==2.7").
		fn("api-b", "fastapi==0.110", "pydantic==2.7")
	_, before := split(t, r.in)
	r.in.Functions[2].Closure = append(r.in.Functions[2].Closure, planner.Dist{Name: "orjson", Version: "3.10"})
	_, after := split(t, r.in)
	for _, fn := range []string{"etl-a", "etl-b"} {
		if b, a := function(t, before, fn).Layers, function(t, after, fn).Layers; fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: layers %v became %v", fn, b, a)
		}
	}
	if got := function(t, after, "api-b").Layers; fmt.Sprint(got) != fmt.Sprint(function(t, before, "api-b").Layers) {
		t.Errorf("api-b's layers changed: %v", got)
	}
}

// TestGeneratedMonorepos checks the invariants, and that the order of the
// input does not matter, on larger generated monorepos with unknown sizes,
// groups, local packages shipped with code, tight limits and reserved
// layers.
func TestGeneratedMonorepos(t *testing.T) {
	for seed := range uint64(4) {
		m := synth.Generate(synth.Options{Functions: 150, Seed: seed, UnknownSizes: 0.1 * float64(seed), Uniform: seed == 3})
		in := m.Input
		in.LocalWithCode = seed%2 == 1
		in.Limits = planner.Limits{LayersPerFunction: 3 + int(seed), ReservedLayers: int(seed % 2), FunctionUnzippedBytes: int64(150+50*seed) * mb}
		in.Rules.Groups = []planner.Group{{Name: "base", Packages: []string{"pkg-00000", "pkg-00001", "pkg-00002"}}, {Name: "web", Packages: []string{"pkg-00030", "pkg-00031"}}}
		in.Rules.Images = []string{in.Functions[7].Name}
		in.Rules.Prefix = "mono"
		p, err := planner.Split(in)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, in, p)
		want, _ := json.Marshal(p)
		q, err := planner.Split(shuffled(in, seed))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(q); !bytes.Equal(got, want) {
			t.Errorf("seed %d: the plan depends on the input order", seed)
		}
	}
}

// TestShapes checks the invariants, and that the order of the input does
// not matter, on every generator shape, from scratch (where no layer is
// reported as kept) and with the plan
// before a one-package change as Input.Previous.
func TestShapes(t *testing.T) {
	for _, shape := range synth.Shapes {
		m := synth.Generate(synth.Options{Functions: 150, Seed: 5, Shape: shape})
		p, err := planner.Split(m.Input)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, m.Input, p)
		for _, l := range p.Targets[0].Layers {
			if l.Kept {
				t.Errorf("%s: layer %s planned from scratch is reported as kept from a previous plan", shape, l.Name)
			}
		}
		in, _ := m.AddPackage(m.Input, 1)
		in.Previous = p
		for _, in := range []planner.Input{m.Input, in} {
			p, err := planner.Split(in)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, in, p)
			want, _ := json.Marshal(p)
			q, err := planner.Split(shuffled(in, 5))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(q); !bytes.Equal(got, want) {
				t.Errorf("%s: the plan depends on the input order", shape)
			}
		}
	}
}

// TestPreviousDrift: forty changes in a row, each planned with the plan
// before it as Input.Previous, cost little churn and store not much more
// than planning the final monorepo from scratch.
func TestPreviousDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("plans the monorepo 42 times")
	}
	m := synth.Generate(synth.Options{Functions: 300, Seed: 1})
	in := m.Input
	p, err := planner.Split(in)
	if err != nil {
		t.Fatal(err)
	}
	const changes = 40
	var churn float64
	for i := range changes {
		var fn string
		in, fn = m.AddPackage(in, uint64(1000+i))
		in.Previous = p
		p1, err := planner.Split(in)
		if err != nil {
			t.Fatal(err)
		}
		churn += diff(p, p1, fn).churn / changes
		p = p1
	}
	in.Previous = nil
	fresh, err := planner.Split(in)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, in, p)
	kept, scratch := measure(in, p).ratio(), measure(in, fresh).ratio()
	t.Logf("after %d changes: stored/lower %.3f with previous plans, %.3f from scratch; mean churn %.2f%%", changes, kept, scratch, 100*churn)
	if kept > 1.05*scratch || churn > 0.02 {
		t.Errorf("stored/lower %.3f (from scratch %.3f), churn %.2f%%: want within 5%% of scratch and at most 2%%", kept, scratch, 100*churn)
	}
}
