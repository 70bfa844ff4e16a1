package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
)

// TestPlanStartsFromLastPlan checks the wiring of the previous-plan hint:
// with the last build's plan in .layers/plan.json, every layer still valid
// is kept (the planner's own tests cover which are); --fresh and a
// damaged file plan from scratch.
func TestPlanStartsFromLastPlan(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../testdata/demo")); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(root, manifest.Dir))
	cfg, err := config.Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plan := func(o PlanOptions) (layers, kept int, names map[string]bool) {
		t.Helper()
		o.Offline = true
		doc, err := PlanWith(ctx, cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		names = map[string]bool{}
		for _, td := range doc.Targets {
			for _, l := range td.Layers {
				layers++
				names[l.Name] = true
				if l.Kept {
					kept++
				}
			}
		}
		return layers, kept, names
	}
	fresh, kept, freshNames := plan(PlanOptions{})
	if fresh == 0 || kept != 0 {
		t.Fatalf("without a last plan: %d layers, %d kept", fresh, kept)
	}

	doc, err := PlanWith(ctx, cfg, PlanOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	last := &planner.Plan{}
	for _, p := range doc.plans {
		last.Limits, last.MaxExtra = p.Limits, p.MaxExtra
		last.Targets = append(last.Targets, p.Targets...)
	}
	if err := manifest.WritePlan(cfg.PlanPath(), last); err != nil {
		t.Fatal(err)
	}
	n, kept, names := plan(PlanOptions{})
	if n != fresh || kept != n {
		t.Errorf("from its own last plan: %d layers, %d kept; want all %d kept", n, kept, fresh)
	}
	again, err := PlanWith(ctx, cfg, PlanOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := again.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), " (kept)\n") || !strings.Contains(text.String(), "layers unchanged from the last build's plan") {
		t.Errorf("the plan does not say which layers it kept:\n%s", text.String())
	}
	for name := range freshNames {
		if !names[name] {
			t.Errorf("layer %s of the last plan is gone", name)
		}
	}
	if _, kept, _ := plan(PlanOptions{Fresh: true}); kept != 0 {
		t.Errorf("--fresh kept %d layers", kept)
	}

	// [layers] plan_file moves the hint, e.g. to a tracked file that a
	// fresh CI checkout has.
	cfg.Layers.PlanFile = "deploy/layers-plan.json"
	if _, kept, _ := plan(PlanOptions{}); kept != 0 {
		t.Errorf("plan_file %s does not exist yet, but %d layers were kept", cfg.Layers.PlanFile, kept)
	}
	if err := manifest.WritePlan(cfg.PlanPath(), last); err != nil {
		t.Fatal(err)
	}
	if n, kept, _ := plan(PlanOptions{}); kept != n {
		t.Errorf("from plan_file %s: %d of %d layers kept", cfg.Layers.PlanFile, kept, n)
	}

	if err := os.WriteFile(cfg.PlanPath(), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, kept, _ := plan(PlanOptions{}); n != fresh || kept != 0 {
		t.Errorf("with a damaged last plan: %d layers, %d kept; want a fresh plan", n, kept)
	}
}
