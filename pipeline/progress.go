package pipeline

import (
	"sync"

	"github.com/layers-dev/layers/config"
)

// Stage is a part of a build that progress events count steps of.
type Stage string

const (
	StageBuildImage Stage = "build image" // a target's build image found or pulled
	StageResolve    Stage = "resolve"     // unpinned closures resolved with pip
	StageUnits      Stage = "units"       // units installed, or found in the cache
	StageLayers     Stage = "layers"      // layer zips written, or kept unchanged
	StageImages     Stage = "images"      // container images built, or found unchanged
)

// Event is the progress of one stage of one target: Done of its Total
// steps have finished. A stage starts with an event without a Line and
// Done 0 (or Done unchanged when Total grows: a container image can need
// units the layers did not); each finished step then sends the Line
// Progress gets, and a finished stage has Done equal to Total.
type Event struct {
	Stage  Stage
	Target config.Target
	Done   int
	Total  int
	Line   string // "" for a stage's start
}

// stageOf keys the reporter's counters.
type stageOf struct {
	stage  Stage
	target config.Target
}

// reporter turns a build's steps into Events and Progress lines, one call
// at a time: the builder and the resolutions report from several
// goroutines.
type reporter struct {
	mu       sync.Mutex
	progress func(string)
	events   func(Event)
	notice   func(string) // nil: notices go to progress
	done     map[stageOf]int
	total    map[stageOf]int
	// units is the target whose units the builder is installing: its
	// events do not name one, and targets are built one after another.
	units config.Target
}

// start adds n steps to a stage of t.
func (r *reporter) start(s Stage, t config.Target, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == StageUnits {
		r.units = t
	}
	k := r.key(s, t)
	r.total[k] += n
	r.emit(Event{Stage: s, Target: t, Done: r.done[k], Total: r.total[k]})
}

// step counts one finished step of a stage of t, described by line.
func (r *reporter) step(s Stage, t config.Target, line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stepLocked(s, t, line)
}

func (r *reporter) stepLocked(s Stage, t config.Target, line string) {
	k := r.key(s, t)
	r.done[k]++
	r.emit(Event{Stage: s, Target: t, Done: r.done[k], Total: r.total[k], Line: line})
}

// unit counts one finished unit of the target being installed.
func (r *reporter) unit(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stepLocked(StageUnits, r.units, line)
}

// finish marks a stage of t finished: the builder reports a unit that
// several specs share once.
func (r *reporter) finish(s Stage, t config.Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.key(s, t)
	if r.done[k] < r.total[k] {
		r.done[k] = r.total[k]
		r.emit(Event{Stage: s, Target: t, Done: r.done[k], Total: r.total[k]})
	}
}

func (r *reporter) key(s Stage, t config.Target) stageOf {
	if r.done == nil {
		r.done, r.total = map[stageOf]int{}, map[stageOf]int{}
	}
	return stageOf{s, t}
}

// line shows a line that belongs to no stage, progress display or not.
func (r *reporter) line(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.notice != nil:
		r.notice(s)
	case r.progress != nil:
		r.progress(s)
	}
}

// warning shows a warning line.
func (r *reporter) warning(s string) { r.line("warning: " + s) }

func (r *reporter) emit(e Event) {
	if r.events != nil {
		r.events(e)
	}
	if e.Line != "" && r.progress != nil {
		r.progress(e.Line)
	}
}
