package publish

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkNoChangePublish publishes a 50-layer build that is already
// published, against moto through a counting proxy: the API calls and
// bytes uploaded per run are what a CI job pays on a push that changed no
// dependency (target: no upload, no new version).
func BenchmarkNoChangePublish(b *testing.B) {
	s := moto(b)
	p := newProxy(b, s)
	mustBucket(b, s, "zips")
	var layers []testLayer
	for i := range 50 {
		l := testLayer{name: fmt.Sprintf("t-layer-%02d", i)}
		if i%10 == 0 {
			l.size, l.seed = 4000, uint64(i) // every tenth goes through S3
		}
		layers = append(layers, l)
	}
	r := newRepo(b, "[publish]\ns3_bucket = \"zips\"\n", layers...)
	r.cfg.Publish.InlineMaxBytes = 2000
	ctx := context.Background()
	if _, err := Publish(ctx, r.cfg, opts()); err != nil {
		b.Fatal(err)
	}
	p.reset()
	b.ResetTimer()
	for b.Loop() {
		res, err := Publish(ctx, r.cfg, opts())
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range res.Layers {
			if l.Action != ActionReuse {
				b.Fatalf("%s: %s on a no-change publish", l.Name, l.Action)
			}
		}
	}
	b.StopTimer()
	calls, uploaded := p.total()
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(uploaded)/float64(b.N), "bytes-uploaded/op")
	if n := p.count("PublishLayerVersion"); n != 0 {
		b.Fatalf("%d PublishLayerVersion calls", n)
	}
	for name, n := range versionCount(b, s, "t-layer-00", "t-layer-01") {
		if n != 1 {
			b.Fatalf("%s has %d versions", name, n)
		}
	}
	b.Logf("calls by operation over %d runs: %v", b.N, p.snapshot())
}
