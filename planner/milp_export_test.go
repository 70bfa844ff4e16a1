package planner_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/planner/synth"
)

var (
	milpOut   = flag.String("milp.out", "", "TestExportInstances: write small generated instances and the greedy plan's figures to this JSON file")
	milpSizes = flag.String("milp.sizes", "20,40,60", "TestExportInstances: comma-separated function counts")
	milpSeeds = flag.Int("milp.seeds", 3, "TestExportInstances: seeds 1..N per shape and size")
)

// milpInstance is one generated monorepo as bench/milp.py reads it: the
// functions deployed with layers, their closures as indices into units,
// the limits, and what the greedy planner stored.
type milpInstance struct {
	Shape          string         `json:"shape"`
	Functions      int            `json:"functions"`
	Seed           uint64         `json:"seed"`
	Budget         int            `json:"budget"`
	SizeLimit      int64          `json:"size_limit"`
	MaxExtra       float64        `json:"max_extra"`
	Units          []milpUnit     `json:"units"`
	Fns            []milpFunction `json:"fns"`
	GreedyStored   int64          `json:"greedy_stored"`
	GreedyLayers   int            `json:"greedy_layers"`
	Lower          int64          `json:"lower"`
	GreedyExtraP50 float64        `json:"greedy_extra_p50"`
	// GreedyPlan is the greedy plan's layers, as indices into Units, and
	// each function's layers, as indices into GreedyPlan: the MILP
	// solver's starting point.
	GreedyPlan [][]int `json:"greedy_plan"`
}

type milpUnit struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Bytes   int64  `json:"bytes"`
}

type milpFunction struct {
	Name      string `json:"name"`
	CodeBytes int64  `json:"code_bytes"`
	Units     []int  `json:"units"`
	Layers    []int  `json:"layers"`
}

// TestExportInstances writes, when -milp.out is set, small generated
// monorepos of every shape for bench/milp.py, which bounds their optimum
// under the planner's constraints (a lower bound by column generation, a
// better plan where it finds one) and compares the greedy plan's stored
// bytes with both.
func TestExportInstances(t *testing.T) {
	if *milpOut == "" {
		t.Skip("-milp.out not set")
	}
	var out []milpInstance
	for _, shape := range synth.Shapes {
		for _, f := range strings.Split(*milpSizes, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			for seed := uint64(1); seed <= uint64(*milpSeeds); seed++ {
				m := synth.Generate(synth.Options{Functions: n, Seed: seed, Shape: shape})
				p, err := planner.Split(m.Input)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, exportInstance(m.Input, p, shape, n, seed))
			}
		}
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*milpOut, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// exportInstance keeps the functions the plan deploys with layers (the
// others are images, as they would be in any plan) and the units they use.
func exportInstance(in planner.Input, p *planner.Plan, shape synth.Shape, n int, seed uint64) milpInstance {
	tp := p.Targets[0]
	q := measure(in, p)
	inst := milpInstance{
		Shape: shape.String(), Functions: n, Seed: seed,
		Budget: p.Limits.LayersPerFunction - p.Limits.ReservedLayers, SizeLimit: p.Limits.FunctionUnzippedBytes, MaxExtra: p.MaxExtra,
		GreedyStored: q.stored, GreedyLayers: q.layers, Lower: q.lower, GreedyExtraP50: q.extraMedian,
	}
	index := map[planner.PackageRef]int{}
	var refs []planner.PackageRef
	for _, fp := range tp.Functions {
		if fp.PackageType != planner.PackageLayers {
			continue
		}
		for _, f := range in.Functions {
			if f.Name != fp.Name {
				continue
			}
			mf := milpFunction{Name: f.Name, CodeBytes: f.CodeBytes}
			for _, d := range f.Closure {
				r := planner.PackageRef{Name: planner.NormalizeName(d.Name), Version: d.Version, Source: d.Source, Local: d.Local}
				i, ok := index[r]
				if !ok {
					i = len(refs)
					index[r] = i
					refs = append(refs, r)
				}
				mf.Units = append(mf.Units, i)
			}
			slices.Sort(mf.Units)
			inst.Fns = append(inst.Fns, mf)
		}
	}
	layerIndex := map[string]int{}
	for _, l := range tp.Layers {
		var us []int
		for _, r := range l.Packages {
			us = append(us, index[r])
		}
		layerIndex[l.Name] = len(inst.GreedyPlan)
		inst.GreedyPlan = append(inst.GreedyPlan, us)
	}
	for i := range inst.Fns {
		for _, fp := range tp.Functions {
			if fp.Name == inst.Fns[i].Name {
				for _, name := range fp.Layers {
					inst.Fns[i].Layers = append(inst.Fns[i].Layers, layerIndex[name])
				}
			}
		}
	}
	for _, r := range refs {
		inst.Units = append(inst.Units, milpUnit{Name: r.Name, Version: fmt.Sprint(r.Version, r.Source), Bytes: sizeOf(in, tp.Target, r)})
	}
	return inst
}
