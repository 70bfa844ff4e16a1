package planner_test

import (
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/planner/synth"
)

// shapeSeeds is how many generated monorepos (seeds 1 to shapeSeeds)
// BenchmarkShapes averages over; shapeSizes the sizes it plans.
var (
	shapeSeeds  = flag.Int("shapes.seeds", 8, "BenchmarkShapes: seeds 1..N per shape and size")
	shapeSizes  = flag.String("shapes.sizes", "100,300,1000,3000", "BenchmarkShapes: comma-separated function counts")
	shapeTrials = flag.String("shapes.trials", "100:60,300:60,1000:20,3000:10", "BenchmarkShapes: single-package changes per monorepo, by size")
)

// trialsFor returns the number of changes BenchmarkShapes measures churn
// on for monorepos of n functions: planning 3,000 functions 120 times per
// seed would take most of an hour on 2 cores.
func trialsFor(b *testing.B, n int) int {
	for _, kv := range strings.Split(*shapeTrials, ",") {
		k, v, _ := strings.Cut(kv, ":")
		if k == strconv.Itoa(n) {
			t, err := strconv.Atoi(v)
			if err != nil {
				b.Fatal(err)
			}
			return t
		}
	}
	return churnTrials
}

// BenchmarkShapes reports the figures of BENCHMARKS.md's table for every
// generator shape and size, over seeds 1 to -shapes.seeds: stored bytes
// over the lower bound and the median and p95 extra bytes (means over
// seeds); churn from scratch when one function gains one package (mean,
// 90th percentile and worst over every change of every seed) and with
// the previous plan; CPU time and bytes allocated per plan (means).
func BenchmarkShapes(b *testing.B) {
	for _, shape := range synth.Shapes {
		for _, f := range strings.Split(*shapeSizes, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("shape=%s/functions=%d", shape, n), func(b *testing.B) {
				for b.Loop() {
					benchShape(b, shape, n)
				}
			})
		}
	}
}

func benchShape(b *testing.B, shape synth.Shape, n int) {
	seeds := *shapeSeeds
	var ratio, p50, p95, prevRatio, cpuMs, allocMB float64
	var churns, prevChurns []float64
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		m := synth.Generate(synth.Options{Functions: n, Seed: seed, Shape: shape})
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		alloc, start := ms.TotalAlloc, cpuTime()
		p, err := planner.Split(m.Input)
		if err != nil {
			b.Fatal(err)
		}
		cpuMs += float64(cpuTime()-start) / 1e6 / float64(seeds)
		runtime.ReadMemStats(&ms)
		allocMB += float64(ms.TotalAlloc-alloc) / 1e6 / float64(seeds)
		q := measure(m.Input, p)
		ratio, p50, p95 = ratio+q.ratio()/float64(seeds), p50+q.extraMedian/float64(seeds), p95+q.extraP95/float64(seeds)
		c := measureChurnN(b, m, m.Input, p, trialsFor(b, n))
		churns, prevChurns = append(churns, c.churns...), append(prevChurns, c.prevChurns...)
		prevRatio += c.prevRatio / float64(seeds)
	}
	b.ReportMetric(ratio, "stored/lower")
	b.ReportMetric(100*p50, "extra-p50-%")
	b.ReportMetric(100*p95, "extra-p95-%")
	b.ReportMetric(100*mean(churns), "churn-%")
	b.ReportMetric(100*quantile(churns, 0.9), "churn-p90-%")
	b.ReportMetric(100*quantile(churns, 1), "churn-worst-%")
	b.ReportMetric(100*mean(prevChurns), "prev-churn-%")
	b.ReportMetric(100*quantile(prevChurns, 0.9), "prev-churn-p90-%")
	b.ReportMetric(100*quantile(prevChurns, 1), "prev-churn-worst-%")
	b.ReportMetric(prevRatio, "prev-stored/lower")
	b.ReportMetric(cpuMs, "cpu-ms/plan")
	b.ReportMetric(allocMB, "MB-alloc/plan")
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}
