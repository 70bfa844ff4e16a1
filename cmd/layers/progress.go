package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/pipeline"
)

// refreshEvery is how often the bars redraw: their elapsed times tick.
const refreshEvery = 150 * time.Millisecond

// progressDisplay shows a build's progress events on w. On a terminal
// (live) every stage of every target gets a bar counting its steps, and
// the lines worth keeping (build images, resolutions, layers, container
// images) print above the bars; units only count, as there can be
// hundreds. Elsewhere (CI logs, pipes) every step is one plain line, as
// the pipeline words it. close must follow the build, failed or not, so
// the terminal is left with the bars' last state and a fresh line.
type progressDisplay struct {
	w io.Writer

	mu      sync.Mutex
	p       *mpb.Progress // nil unless live
	refresh chan any      // redraws p: its refresh is manual so close can flush it
	stop    chan struct{} // ends the redraw ticker
	ticker  sync.WaitGroup
	bars    map[stageBarKey]*stageBar
	closed  bool
}

type stageBarKey struct {
	stage  pipeline.Stage
	target config.Target
}

// stageBar is one stage's bar and what the display told it.
type stageBar struct {
	bar      *mpb.Bar
	total    int
	complete bool
	start    time.Time
	took     atomic.Int64 // the stage's time once complete; the bar reads it while drawing
}

// elapsed is the stage's time so far, or all of it once complete. mpb's
// Elapsed decorator would show nothing for a stage that finished before
// the next redraw.
func (sb *stageBar) elapsed(decor.Statistics) string {
	d := time.Duration(sb.took.Load())
	if d == 0 {
		d = time.Since(sb.start)
	}
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// newProgressDisplay returns the display for w: live when w is a terminal.
func newProgressDisplay(w io.Writer) *progressDisplay {
	if !isTerminal(w) {
		return &progressDisplay{w: w}
	}
	return newLiveDisplay(w, false, 0)
}

// newLiveDisplay returns a live display. forceTTY draws as on a terminal
// on any writer, width columns wide (0: the terminal's width): tests read
// the bars from a buffer.
func newLiveDisplay(w io.Writer, forceTTY bool, width int) *progressDisplay {
	d := &progressDisplay{w: w, refresh: make(chan any), stop: make(chan struct{}), bars: map[stageBarKey]*stageBar{}}
	d.p = mpb.New(
		mpb.WithConsoleWriter(console{cupwriter.New(w, forceTTY)}),
		mpb.WithManualRefresh(d.refresh),
		mpb.ContainerOptional(mpb.WithWidth(width), width > 0),
	)
	d.ticker.Add(1)
	go d.tick()
	return d
}

func (d *progressDisplay) tick() {
	defer d.ticker.Done()
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case now := <-t.C:
			select {
			case d.refresh <- now:
			case <-d.stop:
				return
			}
		}
	}
}

// event shows one progress event; pipeline.BuildOptions.Events.
func (d *progressDisplay) event(e pipeline.Event) {
	if d.p == nil {
		if e.Line != "" {
			fmt.Fprintln(d.w, e.Line)
		}
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if e.Line != "" && e.Stage != pipeline.StageUnits {
		// Through the container: it prints the line above the bars at the
		// next redraw instead of through them.
		fmt.Fprintln(d.p, e.Line)
	}
	// A build image is one step, and its line says it all.
	if e.Stage != pipeline.StageBuildImage && e.Total > 0 {
		d.update(e)
	}
}

// line shows a line above the bars; pipeline.BuildOptions.Notice.
func (d *progressDisplay) line(s string) {
	if d.p == nil {
		fmt.Fprintln(d.w, s)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		fmt.Fprintln(d.w, s)
		return
	}
	fmt.Fprintln(d.p, s)
}

func (d *progressDisplay) update(e pipeline.Event) {
	k := stageBarKey{e.Stage, e.Target}
	sb := d.bars[k]
	// A finished bar cannot grow: units a container image needs beyond
	// the layers' get a bar of their own.
	if sb == nil || sb.complete && e.Total > sb.total {
		sb = &stageBar{start: time.Now()}
		sb.bar = d.p.AddBar(0, // 0: no total yet, so no completion before update says so
			mpb.BarWidth(40),
			mpb.PrependDecorators(decor.Name(e.Target.String()+" "+string(e.Stage), decor.WCSyncSpaceR)),
			mpb.AppendDecorators(
				decor.CountersNoUnit("%d/%d", decor.WCSyncWidth),
				decor.OnAbort(decor.Any(sb.elapsed, decor.WCSyncSpace), "stopped"),
			),
		)
		d.bars[k] = sb
	}
	if sb.complete {
		return
	}
	sb.total = e.Total
	sb.bar.SetTotal(int64(e.Total), false)
	sb.bar.SetCurrent(int64(e.Done))
	if e.Done >= e.Total {
		sb.complete = true
		sb.took.Store(int64(max(time.Since(sb.start), time.Nanosecond)))
		sb.bar.EnableTriggerComplete()
	}
}

// close ends the display: bars whose stage did not finish (an error, or
// Ctrl-C) stop where they are, the lines not yet shown print, and the
// cursor is left on a fresh line below the bars.
func (d *progressDisplay) close() {
	if d.p == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.closed = true
	for _, sb := range d.bars {
		if !sb.complete {
			sb.bar.Abort(false)
		}
	}
	close(d.stop)
	d.ticker.Wait()
	// One last redraw shows what was written since the previous one. The
	// container stops listening only when its output failed; then there is
	// nothing left to show.
	select {
	case d.refresh <- time.Now():
	case <-time.After(time.Second):
	}
	d.p.Wait()
}

// console is mpb's terminal writer with a size even when the terminal
// reports none (a pseudo-terminal never sized, as under script(1)):
// without one the bars would stop drawing.
type console struct{ *cupwriter.Writer }

func (c console) GetTermSize() (width, height int, err error) {
	width, height, err = c.Writer.GetTermSize()
	if err != nil || width <= 0 || height <= 0 {
		return 80, 24, nil
	}
	return width, height, nil
}

// isTerminal reports whether w is a terminal. Asking the terminal, as
// mpb does, rather than looking for a character device: /dev/null is one.
func isTerminal(w io.Writer) bool {
	_, ok := w.(*os.File)
	return ok && cupwriter.New(w, false).IsTerminal()
}
