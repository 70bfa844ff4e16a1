package planner_test

import (
	"slices"
	"testing"

	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/planner/synth"
)

// quality is what the benchmarks report about a plan.
type quality struct {
	stored, lower         int64   // bytes of all layers; of every distinct package once
	extraMedian, extraP95 float64 // extra bytes per function / its closure bytes
	layers, images        int
}

func (q quality) ratio() float64 { return float64(q.stored) / float64(q.lower) }

func sizeOf(in planner.Input, t planner.Target, r planner.PackageRef) int64 {
	return in.Sizes[planner.Unit{Target: t, Name: r.Name, Version: r.Version, Source: r.Source}].Bytes
}

func measure(in planner.Input, p *planner.Plan) quality {
	var q quality
	var extras []float64
	for _, tp := range p.Targets {
		distinct := map[planner.PackageRef]bool{}
		for _, l := range tp.Layers {
			q.layers++
			for _, r := range l.Packages {
				q.stored += sizeOf(in, tp.Target, r)
				if !distinct[r] {
					distinct[r] = true
					q.lower += sizeOf(in, tp.Target, r)
				}
			}
		}
		for _, f := range tp.Functions {
			if f.PackageType == planner.PackageImage {
				q.images++
				continue
			}
			if f.ClosureBytes != nil && *f.ClosureBytes > 0 && f.ExtraBytes != nil {
				extras = append(extras, float64(*f.ExtraBytes)/float64(*f.ClosureBytes))
			}
		}
	}
	q.extraMedian, q.extraP95 = quantile(extras, 0.5), quantile(extras, 0.95)
	return q
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[min(int(q*float64(len(xs))), len(xs)-1)]
}

// change is what happens to the layers when one function gains a package.
type change struct {
	churn     float64 // bytes of layers whose content is new / bytes of all layers, after
	unrelated float64 // bytes of layers the function did not use that are gone / all such bytes
}

func layerSizes(p *planner.Plan) map[string]int64 {
	m := map[string]int64{}
	for _, tp := range p.Targets {
		for _, l := range tp.Layers {
			if l.UnzippedBytes != nil {
				m[l.Name] = *l.UnzippedBytes
			} else {
				m[l.Name] = 0
			}
		}
	}
	return m
}

func diff(before, after *planner.Plan, fn string) change {
	old, cur := layerSizes(before), layerSizes(after)
	var changed, total int64
	for name, n := range cur {
		total += n
		if _, ok := old[name]; !ok {
			changed += n
		}
	}
	used := map[string]bool{}
	for _, tp := range before.Targets {
		for _, f := range tp.Functions {
			if f.Name == fn {
				for _, l := range f.Layers {
					used[l] = true
				}
			}
		}
	}
	var gone, unrelated int64
	for name, n := range old {
		if used[name] {
			continue
		}
		unrelated += n
		if _, ok := cur[name]; !ok {
			gone += n
		}
	}
	c := change{churn: float64(changed) / float64(max(total, 1))}
	if unrelated > 0 {
		c.unrelated = float64(gone) / float64(unrelated)
	}
	return c
}

// churnTrials is the number of single-package changes churn is averaged on.
const churnTrials = 60

// churnStats is what churnTrials single-package changes do to a plan, each
// planned twice: from scratch, and with the plan before the change as
// Input.Previous (what users have: the plan they published last).
type churnStats struct {
	mean, worst, unrelated             float64   // from scratch
	prevMean, prevWorst, prevUnrelated float64   // with the previous plan
	prevRatio                          float64   // mean stored/lower with the previous plan
	churns, prevChurns                 []float64 // each change's churn, for quantiles
}

// measureChurn plans churnTrials variants of in, each with one function
// gaining one package, and returns the mean and worst churn and the mean
// share of unrelated layer bytes that changed, with and without the
// previous plan p.
func measureChurn(t testing.TB, m *synth.Monorepo, in planner.Input, p *planner.Plan) churnStats {
	return measureChurnN(t, m, in, p, churnTrials)
}

// measureChurnN is measureChurn over the given number of changes.
func measureChurnN(t testing.TB, m *synth.Monorepo, in planner.Input, p *planner.Plan, trials int) churnStats {
	var s churnStats
	churnTrials := float64(trials)
	for i := range trials {
		in, fn := m.AddPackage(in, uint64(i))
		p1, err := planner.Split(in)
		if err != nil {
			t.Fatal(err)
		}
		c := diff(p, p1, fn)
		s.mean += c.churn / churnTrials
		s.unrelated += c.unrelated / churnTrials
		s.worst = max(s.worst, c.churn)
		s.churns = append(s.churns, c.churn)
		in.Previous = p
		p2, err := planner.Split(in)
		if err != nil {
			t.Fatal(err)
		}
		c = diff(p, p2, fn)
		s.prevMean += c.churn / churnTrials
		s.prevUnrelated += c.unrelated / churnTrials
		s.prevWorst = max(s.prevWorst, c.churn)
		s.prevChurns = append(s.prevChurns, c.churn)
		s.prevRatio += measure(in, p2).ratio() / churnTrials
	}
	return s
}

// baseline is what users have today: one layer per function (each holding
// the function's whole closure) or one layer holding the union of all
// closures. Functions over the size limit are left out, as the planner
// makes them images.
type baseline func(in planner.Input) (stored int64, extras []float64, layers map[string]int64)

func fits(in planner.Input, f planner.Function) (closure int64, ok bool) {
	for _, d := range f.Closure {
		closure += in.Sizes[planner.Unit{Target: f.Target, Name: d.Name, Version: d.Version, Source: d.Source}].Bytes
	}
	return closure, closure+f.CodeBytes <= planner.DefaultFunctionUnzippedBytes
}

func layerPerFunction(in planner.Input) (int64, []float64, map[string]int64) {
	var stored int64
	var extras []float64
	layers := map[string]int64{}
	for _, f := range in.Functions {
		closure, ok := fits(in, f)
		if !ok {
			continue
		}
		stored += closure
		extras = append(extras, 0)
		key := f.Name
		for _, d := range f.Closure {
			key += "|" + d.Name + "==" + d.Version
		}
		layers[key] = closure
	}
	return stored, extras, layers
}

func unionLayer(in planner.Input) (int64, []float64, map[string]int64) {
	seen := map[planner.Dist]bool{}
	var union int64
	var closures []int64
	key := ""
	for _, f := range in.Functions {
		closure, ok := fits(in, f)
		if !ok {
			continue
		}
		closures = append(closures, closure)
		for _, d := range f.Closure {
			if !seen[d] {
				seen[d] = true
				union += in.Sizes[planner.Unit{Target: f.Target, Name: d.Name, Version: d.Version, Source: d.Source}].Bytes
				key += "|" + d.Name + "==" + d.Version
			}
		}
	}
	var extras []float64
	for _, c := range closures {
		if c > 0 {
			extras = append(extras, float64(union-c)/float64(c))
		}
	}
	return union, extras, map[string]int64{key: union}
}

// baselineChurn is churnStats for a baseline.
func baselineChurn(m *synth.Monorepo, b baseline) float64 {
	_, _, before := b(m.Input)
	var mean float64
	for i := range churnTrials {
		in, _ := m.AddPackage(m.Input, uint64(i))
		_, _, after := b(in)
		var changed, total int64
		for k, n := range after {
			total += n
			if _, ok := before[k]; !ok {
				changed += n
			}
		}
		mean += float64(changed) / float64(max(total, 1)) / churnTrials
	}
	return mean
}
