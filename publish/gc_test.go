package publish

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestGC(t *testing.T) {
	s := moto(t)
	ctx := context.Background()
	r := newRepo(t, "[layers]\nprefix = \"t\"\n", testLayer{name: "t-one"})
	if _, err := Publish(ctx, r.cfg, opts()); err != nil {
		t.Fatal(err)
	}
	// Versions 2-4 of t-one from later builds, and an old layer of the
	// project that no build uses any more; other-x is not the project's.
	lc := lambdaClient(s)
	pub := func(name, desc string) {
		t.Helper()
		_, err := lc.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
			LayerName: aws.String(name), Description: aws.String(desc),
			Content: &types.LayerVersionContentInput{ZipFile: []byte("PK\x05\x06" + string(make([]byte, 18)))},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	hash := func(c byte) string { return descriptionPrefix + string(slices.Repeat([]byte{c}, 64)) }
	for _, c := range []byte("abc") {
		pub("t-one", hash(c))
	}
	for _, c := range []byte("def") {
		pub("t-gone", hash(c))
	}
	pub("t-manual", "not published by layers")
	pub("other-x", hash('a'))
	pub("other-x", hash('b'))

	gopts := GCOptions{Keep: 1, DryRun: true, backoff: fastBackoff}
	res, err := GC(ctx, r.cfg, gopts)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name          string
		kept, deleted []int64
	}
	var got []row
	for _, l := range res.Layers {
		got = append(got, row{l.Name, l.Kept, l.Deleted})
	}
	want := []row{
		{"t-gone", []int64{3}, []int64{2, 1}},
		{"t-one", []int64{4, 1}, []int64{3, 2}}, // 1 is in the outputs
	}
	if !slices.EqualFunc(got, want, func(a, b row) bool {
		return a.name == b.name && slices.Equal(a.kept, b.kept) && slices.Equal(a.deleted, b.deleted)
	}) {
		t.Fatalf("gc plan %+v, want %+v", got, want)
	}
	if n := versionCount(t, s, "t-one", "t-gone"); n["t-one"] != 4 || n["t-gone"] != 3 {
		t.Fatalf("dry run deleted versions: %v", n)
	}

	gopts.DryRun = false
	if _, err := GC(ctx, r.cfg, gopts); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]int64{"t-one": {1, 4}, "t-gone": {3}, "t-manual": {1}, "other-x": {1, 2}} {
		items, err := listVersions(ctx, lc, name)
		if err != nil {
			t.Fatal(err)
		}
		var vs []int64
		for _, it := range items {
			vs = append(vs, it.Version)
		}
		slices.Sort(vs)
		if !slices.Equal(vs, want) {
			t.Errorf("%s has versions %v after gc, want %v", name, vs, want)
		}
	}
	// What the outputs reference still publishes as a reuse.
	pr, err := Publish(ctx, r.cfg, opts())
	if err != nil || pr.Layers[0].Action != ActionReuse || pr.Layers[0].Version != 1 {
		t.Errorf("publish after gc: %+v, %v", pr.Layers, err)
	}
}

func TestGCNeedsOutputs(t *testing.T) {
	r := newRepo(t, "", testLayer{name: "t-one"})
	if _, err := GC(context.Background(), r.cfg, GCOptions{Keep: 1}); err == nil {
		t.Fatal("gc without outputs did not fail")
	}
}
