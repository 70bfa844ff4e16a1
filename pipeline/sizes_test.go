package pipeline

import (
	"context"
	"maps"
	"slices"
	"testing"
)

// TestPlanUsesMeasuredSizes: after a build, plan takes every unit's size
// from the unit cache, under the build image the last build used when no
// engine is asked (--offline), and shows the layers the build made.
func TestPlanUsesMeasuredSizes(t *testing.T) {
	cfg := repo(t, smallRepo)
	cacheDir := t.TempDir()
	res, err := testBuild(t, cfg, &pipEngine{}, cacheDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]bool{}
	for _, tm := range res.Manifest.Targets {
		for _, l := range tm.Layers {
			built[l.Name] = true
		}
	}
	for _, o := range []PlanOptions{{Offline: true}, {Offline: true, Fresh: true}, {Engine: &pipEngine{}, Fresh: true}} {
		o.CacheDir, o.Tool = cacheDir, "test"
		doc, err := PlanWith(context.Background(), cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		planned := map[string]bool{}
		for _, td := range doc.Targets {
			if len(td.Units) != 3 {
				t.Errorf("%s: %d units, want 3", td.Runtime, len(td.Units))
			}
			for _, u := range td.Units {
				if u.Size != SizeMeasured || u.Bytes == nil || *u.Bytes <= 0 {
					t.Errorf("offline %v: unit %s: %s", o.Offline, u.Name, u.Size)
				}
			}
			for _, l := range td.Layers {
				planned[l.Name] = true
				if l.UnzippedBytes == nil || l.Estimated {
					t.Errorf("layer %s: size %v, estimated %v", l.Name, l.UnzippedBytes, l.Estimated)
				}
			}
		}
		if doc.Estimated() || !maps.Equal(planned, built) {
			t.Errorf("plan %+v: layers %v, estimated %v; the build made %v", o, slices.Sorted(maps.Keys(planned)), doc.Estimated(), slices.Sorted(maps.Keys(built)))
		}
	}
	// Another cache: nothing measured, so the plan says its sizes are not.
	doc, err := PlanWith(context.Background(), cfg, PlanOptions{Offline: true, CacheDir: t.TempDir(), Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Estimated() || doc.Targets[0].Units[0].Size != SizeUnknown {
		t.Errorf("with an empty cache: estimated %v, units %+v", doc.Estimated(), doc.Targets[0].Units)
	}
}
