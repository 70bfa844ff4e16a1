package pipeline

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
)

// recordedBuild is what a build sent to Events and Progress.
type recordedBuild struct {
	events  []Event
	lines   []string
	notices []string
}

func buildRecording(t *testing.T, cfg *config.Config, e engine.Engine, cacheDir string) (*BuildResult, *recordedBuild) {
	t.Helper()
	rec := &recordedBuild{}
	res, err := Build(context.Background(), cfg, BuildOptions{Engine: e, CacheDir: cacheDir, Tool: "test", Jobs: 1,
		Getenv:   func(string) string { return "" },
		Events:   func(e Event) { rec.events = append(rec.events, e) },
		Progress: func(s string) { rec.lines = append(rec.lines, s) },
		Notice:   func(s string) { rec.notices = append(rec.notices, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, rec
}

// finals checks every stage's events: it starts with Done 0 and no line,
// Done never falls nor passes Total, and it ends with Done equal to
// Total. Progress got exactly the events' lines, in order. It returns
// each stage's last event and the lines of its steps.
func (r *recordedBuild) finals(t *testing.T) (map[stageOf]Event, map[stageOf][]string) {
	t.Helper()
	var lines []string
	last := map[stageOf]Event{}
	steps := map[stageOf][]string{}
	for _, e := range r.events {
		k := stageOf{e.Stage, e.Target}
		prev, seen := last[k]
		switch {
		case !seen && (e.Done != 0 || e.Line != ""):
			t.Errorf("%s %s starts with %+v, want Done 0 and no line", e.Target, e.Stage, e)
		case seen && (e.Done < prev.Done || e.Total < prev.Total):
			t.Errorf("%s %s went back: %+v after %+v", e.Target, e.Stage, e, prev)
		case e.Done > e.Total:
			t.Errorf("%s %s: %+v is past its total", e.Target, e.Stage, e)
		}
		last[k] = e
		if e.Line != "" {
			lines = append(lines, e.Line)
			steps[k] = append(steps[k], e.Line)
		}
	}
	for k, e := range last {
		if e.Done != e.Total || e.Total == 0 {
			t.Errorf("%s %s ends at %d/%d", k.target, k.stage, e.Done, e.Total)
		}
	}
	if !slices.Equal(lines, r.lines) {
		t.Errorf("Progress got\n%s\nthe events' lines are\n%s", strings.Join(r.lines, "\n"), strings.Join(lines, "\n"))
	}
	return last, steps
}

func TestBuildEvents(t *testing.T) {
	cfg := repo(t, smallRepo)
	cacheDir := t.TempDir()
	for _, run := range []struct {
		name, unitState string
	}{{"cold", "built"}, {"rebuild", "cached"}} {
		t.Run(run.name, func(t *testing.T) {
			res, rec := buildRecording(t, cfg, &pipEngine{}, cacheDir)
			last, steps := rec.finals(t)
			if len(res.Manifest.Targets) != 2 {
				t.Fatalf("%d targets", len(res.Manifest.Targets))
			}
			stages := 0
			for _, tm := range res.Manifest.Targets {
				tgt := config.Target{Runtime: tm.Runtime, Architecture: tm.Architecture}
				// api needs six and idna, worker six and pyyaml: three units.
				if e := last[stageOf{StageUnits, tgt}]; e.Total != 3 {
					t.Errorf("%s units: %+v, want 3 in all", tgt, e)
				}
				for _, l := range steps[stageOf{StageUnits, tgt}] {
					if !strings.HasPrefix(l, "unit ") || !strings.Contains(l, "("+tgt.String()+"): "+run.unitState) {
						t.Errorf("%s unit step %q, want a %s unit of the target", tgt, l, run.unitState)
					}
				}
				if e := last[stageOf{StageLayers, tgt}]; e.Total != len(tm.Layers) || len(steps[stageOf{StageLayers, tgt}]) != len(tm.Layers) {
					t.Errorf("%s layers: %+v and %d steps, manifest has %d layers", tgt, e, len(steps[stageOf{StageLayers, tgt}]), len(tm.Layers))
				}
				if e := last[stageOf{StageBuildImage, tgt}]; e.Total != 1 || !strings.HasPrefix(e.Line, "image standin:1 for "+tgt.String()) {
					t.Errorf("%s build image: %+v", tgt, e)
				}
				stages += 3
			}
			if len(last) != stages {
				t.Errorf("events for %d stages, want %d: %v", len(last), stages, last)
			}
			// The rebuild keeps the layers of the first build's plan, and
			// says so.
			var notices []string
			if run.name == "rebuild" {
				notices = []string{"plan: starting from the plan in .layers/plan.json"}
			}
			if !slices.Equal(rec.notices, notices) {
				t.Errorf("notices %q, want %q", rec.notices, notices)
			}
		})
	}
}

func TestBuildEventsResolve(t *testing.T) {
	cfg := repo(t, unpinnedRepo)
	_, rec := buildRecording(t, cfg, &resolvingEngine{}, t.TempDir())
	last, steps := rec.finals(t)
	k := stageOf{StageResolve, config.Target{Runtime: "python3.11", Architecture: "x86_64"}}
	if e := last[k]; e.Total != 1 || len(steps[k]) != 1 || !strings.HasPrefix(steps[k][0], "resolve api (python3.11/x86_64): 2 packages") {
		t.Errorf("resolve: %+v, steps %q", e, steps[k])
	}
}
