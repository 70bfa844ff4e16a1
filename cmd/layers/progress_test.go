package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/pipeline"
)

var py312 = config.Target{Runtime: "python3.12", Architecture: "x86_64"}

// buildEvents are the events of a build of one target with units units,
// two layers and one container image, as pipeline.Build sends them; with
// stopAt > 0 the build fails after that many units.
func buildEvents(units, stopAt int) []pipeline.Event {
	ev := []pipeline.Event{
		{Stage: pipeline.StageBuildImage, Target: py312, Total: 1},
		{Stage: pipeline.StageBuildImage, Target: py312, Done: 1, Total: 1, Line: "image build:1 for python3.12/x86_64: sha256:feedfeedfeed"},
		{Stage: pipeline.StageUnits, Target: py312, Total: units},
	}
	for i := 1; i <= units; i++ {
		if i == stopAt {
			return ev
		}
		ev = append(ev, pipeline.Event{Stage: pipeline.StageUnits, Target: py312, Done: i, Total: units,
			Line: fmt.Sprintf("unit pkg%d==1.0 (python3.12/x86_64): built, 1.2 MB", i)})
	}
	ev = append(ev, pipeline.Event{Stage: pipeline.StageLayers, Target: py312, Total: 2})
	for i := 1; i <= 2; i++ {
		ev = append(ev, pipeline.Event{Stage: pipeline.StageLayers, Target: py312, Done: i, Total: 2,
			Line: fmt.Sprintf("layer shared-%d: written, 3 packages, 1.0 MB zipped, 3.0 MB unzipped", i)})
	}
	return append(ev,
		pipeline.Event{Stage: pipeline.StageImages, Target: py312, Total: 1},
		pipeline.Event{Stage: pipeline.StageImages, Target: py312, Done: 1, Total: 1,
			Line: "image reports (python3.12/x86_64): acme/functions:reports-1, built in 2s, 300 MB, 500 MB with its base"})
}

func lines(ev []pipeline.Event) []string {
	var out []string
	for _, e := range ev {
		if e.Line != "" {
			out = append(out, e.Line)
		}
	}
	return out
}

// Logs get every step as a line, the pipeline's words, and nothing else.
func TestProgressDisplayLog(t *testing.T) {
	var b bytes.Buffer
	d := newProgressDisplay(&b)
	ev := buildEvents(3, 0)
	for _, e := range ev {
		d.event(e)
	}
	d.close()
	if want := strings.Join(lines(ev), "\n") + "\n"; b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	if isTerminal(&b) || isTerminal(devNull(t)) {
		t.Error("a buffer or /dev/null is taken for a terminal")
	}
}

// devNull opens /dev/null for the test. (Wrapping its descriptor in a
// second os.File would close it twice: once by that File's finalizer and
// once here, the second time closing whatever later took the number.)
func devNull(t *testing.T) *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

var (
	ansi = regexp.MustCompile(`\x1b\[[0-9]*[A-Za-z]`)
	// a bar's line: name, [filler], counter, elapsed time or "stopped".
	barLine = regexp.MustCompile(`(?m)^python3\.12/x86_64 (units|layers|images) +\[[=>\-_ ]*\] +(\d+/\d+) +(\S+) *$`)
)

// live renders ev on a live display into a buffer as a terminal would get
// it and returns the text with the terminal's escapes.
func live(t *testing.T, ev []pipeline.Event) string {
	t.Helper()
	var b bytes.Buffer
	d := newLiveDisplay(&b, true, 100)
	for _, e := range ev {
		d.event(e)
	}
	d.close()
	return b.String()
}

// screen plays out as a terminal does, with the escapes mpb writes
// (cursor up, erase below), and returns the lines left on the screen
// and its scrollback, and whether the cursor ends at a line's start.
func screen(t *testing.T, out string) ([]string, bool) {
	t.Helper()
	rows, row := []string{""}, 0
	for len(out) > 0 {
		if loc := ansi.FindStringIndex(out); loc != nil && loc[0] == 0 {
			esc := out[:loc[1]]
			out = out[loc[1]:]
			switch {
			case esc == "\x1b[J":
				rows = rows[:row+1]
				rows[row] = ""
			case strings.HasSuffix(esc, "A"):
				n := 1
				fmt.Sscanf(esc, "\x1b[%dA", &n)
				if row -= n; row < 0 {
					t.Fatalf("cursor above the screen")
				}
			default:
				t.Fatalf("unexpected escape %q", esc)
			}
			continue
		}
		c := out[0]
		out = out[1:]
		if c == '\n' {
			if row++; row == len(rows) {
				rows = append(rows, "")
			}
			continue
		}
		rows[row] += string(c)
	}
	fresh := rows[row] == "" && row == len(rows)-1
	return rows[:len(rows)-1], fresh
}

// lastFrame returns each bar's last state: stage to its counter and what
// follows it.
func lastFrame(out string) map[string][2]string {
	last := map[string][2]string{}
	for _, m := range barLine.FindAllStringSubmatch(ansi.ReplaceAllString(out, "\n"), -1) {
		last[m[1]] = [2]string{m[2], m[3]}
	}
	return last
}

func TestProgressDisplayLive(t *testing.T) {
	ev := buildEvents(35, 0)
	out := live(t, ev)
	bars := lastFrame(out)
	for stage, want := range map[string]string{"units": "35/35", "layers": "2/2", "images": "1/1"} {
		if bars[stage][0] != want || bars[stage][1] == "stopped" {
			t.Errorf("%s bar ends at %v, want %s:\n%q", stage, bars[stage], want, out)
		}
	}
	// What stays on the terminal: every line but the units', whole and
	// in order, then the bars' last state, then the cursor on a line of
	// its own.
	var want []string
	for _, l := range lines(ev) {
		if !strings.HasPrefix(l, "unit ") {
			want = append(want, l)
		}
	}
	rows, fresh := screen(t, out)
	if len(rows) != len(want)+3 || strings.Join(rows[:len(want)], "\n") != strings.Join(want, "\n") || !fresh {
		t.Fatalf("the terminal shows (cursor on a fresh line: %v)\n%s\nwant the lines\n%s\nand three bars", fresh, strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	for i, stage := range []string{"units", "layers", "images"} {
		if m := barLine.FindStringSubmatch(rows[len(want)+i]); m == nil || m[1] != stage {
			t.Errorf("bar %d is %q, want the %s bar", i, rows[len(want)+i], stage)
		}
	}
}

// A failed build leaves the bars where they stopped.
func TestProgressDisplayLiveStopped(t *testing.T) {
	out := live(t, buildEvents(35, 11))
	bars := lastFrame(out)
	if bars["units"] != [2]string{"10/35", "stopped"} || len(bars) != 1 {
		t.Errorf("bars %v, want units stopped at 10/35:\n%q", bars, out)
	}
	if rows, fresh := screen(t, out); !fresh || len(rows) != 2 {
		t.Errorf("the terminal shows (cursor on a fresh line: %v)\n%s", fresh, strings.Join(rows, "\n"))
	}
}

// Units a container image needs beyond the layers' grow the count after
// the first bar finished: they get a bar of their own that finishes too.
func TestProgressDisplayLiveUnitsGrow(t *testing.T) {
	ev := buildEvents(2, 0)
	ev = append(ev,
		pipeline.Event{Stage: pipeline.StageUnits, Target: py312, Done: 2, Total: 3},
		pipeline.Event{Stage: pipeline.StageUnits, Target: py312, Done: 3, Total: 3, Line: "unit local==0.1 (python3.12/x86_64): built, 1 kB"},
	)
	out := live(t, ev)
	n := strings.Count(ansi.ReplaceAllString(out, "\n"), "3/3")
	if bars := lastFrame(out); bars["units"][0] != "3/3" || n == 0 {
		t.Errorf("units bars end at %v:\n%q", bars, out)
	}
}
