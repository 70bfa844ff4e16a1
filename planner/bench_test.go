package planner_test

import (
	"fmt"
	"testing"

	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/planner/synth"
)

var benchSizes = []int{100, 300, 1000, 3000}

// BenchmarkSplit plans synthetic monorepos (3 distributions per function)
// and reports, besides time and memory, the quality of the plan: stored
// bytes over the lower bound (every distinct package once), the median and
// p95 of extra bytes per function relative to its closure, the mean and
// worst churn when one function gains one package, and the share of
// layers not used by that function that changed; then the same churn
// figures, and the mean stored/lower, when the change is planned with the
// plan before it as Input.Previous ("prev-").
func BenchmarkSplit(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("functions=%d", n), func(b *testing.B) {
			m := synth.Generate(synth.Options{Functions: n, Seed: 1})
			b.ReportAllocs()
			var p *planner.Plan
			start, ops := cpuTime(), 0
			for b.Loop() {
				var err error
				if p, err = planner.Split(m.Input); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(ops)/1e6, "cpu-ms/op")
			b.StopTimer()
			q := measure(m.Input, p)
			c := measureChurn(b, m, m.Input, p)
			b.ReportMetric(q.ratio(), "stored/lower")
			b.ReportMetric(100*q.extraMedian, "extra-p50-%")
			b.ReportMetric(100*q.extraP95, "extra-p95-%")
			b.ReportMetric(100*c.mean, "churn-%")
			b.ReportMetric(100*c.worst, "churn-worst-%")
			b.ReportMetric(100*c.unrelated, "unrelated-changed-%")
			b.ReportMetric(100*c.prevMean, "prev-churn-%")
			b.ReportMetric(100*c.prevWorst, "prev-churn-worst-%")
			b.ReportMetric(100*c.prevUnrelated, "prev-unrelated-changed-%")
			b.ReportMetric(c.prevRatio, "prev-stored/lower")
			b.ReportMetric(float64(q.layers), "layers")
			b.ReportMetric(float64(q.images), "images")
		})
	}
}

// BenchmarkBaseline reports the same figures for what users have today:
// one layer per function, and one layer holding everything (which breaks
// the 250 MiB limit for every function of a large monorepo).
func BenchmarkBaseline(b *testing.B) {
	for _, bl := range []struct {
		name string
		f    baseline
	}{{"layer-per-function", layerPerFunction}, {"union-layer", unionLayer}} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/functions=%d", bl.name, n), func(b *testing.B) {
				m := synth.Generate(synth.Options{Functions: n, Seed: 1})
				var stored int64
				var extras []float64
				for b.Loop() {
					stored, extras, _ = bl.f(m.Input)
				}
				b.StopTimer()
				p, err := planner.Split(m.Input)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(stored)/float64(measure(m.Input, p).lower), "stored/lower")
				b.ReportMetric(100*quantile(extras, 0.5), "extra-p50-%")
				b.ReportMetric(100*quantile(extras, 0.95), "extra-p95-%")
				b.ReportMetric(100*baselineChurn(m, bl.f), "churn-%")
			})
		}
	}
}

// BenchmarkSeeds reports the quality figures of BenchmarkSplit on 300
// functions averaged over four generated monorepos (seeds 1 to 4; the
// other benchmarks use seed 1 only), with the worst churn the worst of all.
func BenchmarkSeeds(b *testing.B) {
	const seeds = 4
	var ratio, p50, p95 float64
	var c churnStats
	for b.Loop() {
		ratio, p50, p95, c = 0, 0, 0, churnStats{}
		for seed := uint64(1); seed <= seeds; seed++ {
			m := synth.Generate(synth.Options{Functions: 300, Seed: seed})
			p, err := planner.Split(m.Input)
			if err != nil {
				b.Fatal(err)
			}
			q := measure(m.Input, p)
			ratio, p50, p95 = ratio+q.ratio()/seeds, p50+q.extraMedian/seeds, p95+q.extraP95/seeds
			s := measureChurn(b, m, m.Input, p)
			c.mean, c.unrelated, c.worst = c.mean+s.mean/seeds, c.unrelated+s.unrelated/seeds, max(c.worst, s.worst)
			c.prevMean, c.prevUnrelated, c.prevWorst = c.prevMean+s.prevMean/seeds, c.prevUnrelated+s.prevUnrelated/seeds, max(c.prevWorst, s.prevWorst)
			c.prevRatio += s.prevRatio / seeds
		}
	}
	b.ReportMetric(ratio, "stored/lower")
	b.ReportMetric(100*p50, "extra-p50-%")
	b.ReportMetric(100*p95, "extra-p95-%")
	b.ReportMetric(100*c.mean, "churn-%")
	b.ReportMetric(100*c.worst, "churn-worst-%")
	b.ReportMetric(100*c.unrelated, "unrelated-changed-%")
	b.ReportMetric(100*c.prevMean, "prev-churn-%")
	b.ReportMetric(100*c.prevWorst, "prev-churn-worst-%")
	b.ReportMetric(100*c.prevUnrelated, "prev-unrelated-changed-%")
	b.ReportMetric(c.prevRatio, "prev-stored/lower")
}

// BenchmarkMaxExtra shows the trade the knob makes on 300 functions.
func BenchmarkMaxExtra(b *testing.B) {
	m := synth.Generate(synth.Options{Functions: 300, Seed: 1})
	for _, x := range []float64{0, 0.05, 0.10, 0.15, 0.20, 0.30} {
		b.Run(fmt.Sprintf("max_extra=%.2f", x), func(b *testing.B) {
			in := m.Input
			in.Rules.MaxExtra = &x
			var p *planner.Plan
			for b.Loop() {
				var err error
				if p, err = planner.Split(in); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			q := measure(in, p)
			c := measureChurn(b, m, in, p)
			b.ReportMetric(q.ratio(), "stored/lower")
			b.ReportMetric(100*q.extraMedian, "extra-p50-%")
			b.ReportMetric(100*q.extraP95, "extra-p95-%")
			b.ReportMetric(100*c.mean, "churn-%")
			b.ReportMetric(100*c.prevMean, "prev-churn-%")
			b.ReportMetric(float64(q.layers), "layers")
		})
	}
}

// BenchmarkReserved measures what keeping layer slots free for Lambda
// extensions (Datadog, Powertools, Parameters and Secrets) costs, on 300
// functions over seeds 1 to 8: stored bytes over the lower bound, the
// median extra bytes, and the share of functions left with no free slot,
// whose deploy breaks on the first extension a team adds.
func BenchmarkReserved(b *testing.B) {
	const seeds = 8
	for _, reserved := range []int{0, 1, 2} {
		b.Run(fmt.Sprintf("reserved=%d", reserved), func(b *testing.B) {
			var ratio, p50, full float64
			for b.Loop() {
				ratio, p50, full = 0, 0, 0
				for seed := uint64(1); seed <= seeds; seed++ {
					m := synth.Generate(synth.Options{Functions: 300, Seed: seed})
					in := m.Input
					in.Limits.ReservedLayers = reserved
					p, err := planner.Split(in)
					if err != nil {
						b.Fatal(err)
					}
					q := measure(in, p)
					ratio, p50 = ratio+q.ratio()/seeds, p50+q.extraMedian/seeds
					n, noSlot := 0, 0
					for _, tp := range p.Targets {
						for _, f := range tp.Functions {
							if f.PackageType == planner.PackageLayers {
								n++
								if len(f.Layers) >= p.Limits.LayersPerFunction {
									noSlot++
								}
							}
						}
					}
					full += float64(noSlot) / float64(n) / seeds
				}
			}
			b.ReportMetric(ratio, "stored/lower")
			b.ReportMetric(100*p50, "extra-p50-%")
			b.ReportMetric(100*full, "no-free-slot-%")
		})
	}
}
