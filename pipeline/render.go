package pipeline

import (
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
)

const (
	barWidth  = 20
	sizeWidth = barWidth + 28 // bar, "123 MiB / 250 MiB (est.)"
)

// pad left-aligns s in width columns, counting runes (the bar's blocks are
// three bytes each).
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteText renders the plan for people: per target, each function with
// its layers and a size bar against the limit, each layer with its size,
// package count and sharing, the images with their reasons, the functions
// still to resolve, and the storage compared with one layer per function.
func (d *PlanDocument) WriteText(w io.Writer) error {
	var b strings.Builder
	for i, t := range d.Targets {
		if i > 0 {
			b.WriteString("\n")
		}
		d.writeTarget(&b, t)
	}
	if len(d.Targets) == 0 {
		b.WriteString("no functions found: a function is a folder holding a requirements.txt, a pyproject.toml or a pylock.toml,\n" +
			"found by the globs of `functions` in layers.toml (default: the uv workspace's members and functions/*)\n")
	}
	if d.EstimatedUnits > 0 {
		// Layers kept from the last build's plan keep their names whatever
		// the estimates say; only the others are provisional.
		kept, layers := 0, 0
		for _, t := range d.Targets {
			for _, l := range t.Layers {
				layers++
				if l.Kept {
					kept++
				}
			}
		}
		switch {
		case kept == 0:
			fmt.Fprintf(&b, "\nestimates: %d of %d package sizes are not measured (~ and (est.): from the lock files' wheels;\n"+
				"\"unknown\": no size at all), and the layers above are planned from them. `layers build` measures\n"+
				"every package and plans again: at the first build, expect other layer names and counts than these.\n", d.EstimatedUnits, d.Units)
		case kept < layers:
			fmt.Fprintf(&b, "\nestimates: %d of %d package sizes are not measured (~ and (est.)); %s marked (kept) %s\n"+
				"the last build's, the other %s planned from estimates: the next `layers build` measures\n"+
				"their packages and plans them again, so expect their names and count to change.\n",
				d.EstimatedUnits, d.Units, plural(kept, "layer"), isAre(kept), plural(layers-kept, "layer")+" "+isAre(layers-kept))
		}
	}
	d.writeLeftOut(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// writeLeftOut names the folders that look like functions and are not
// planned, and how to plan them.
func (d *PlanDocument) writeLeftOut(b *strings.Builder) {
	if len(d.LeftOut) == 0 {
		return
	}
	it, look, finds := "it", "folder looks like a function", "does not find"
	if len(d.LeftOut) > 1 {
		it, look = "them", "folders look like functions"
	}
	how := "the default discovery (the uv workspace's members and functions/*) " + finds + " " + it
	if len(d.globs) > 0 {
		how = "no glob of functions in layers.toml matches " + it
	}
	fmt.Fprintf(b, "\nnot planned: %d %s, but %s (no layers for %s):\n", len(d.LeftOut), look, how, it)
	globs := slices.Clone(d.globs)
	if len(globs) == 0 {
		globs = []string{"functions/*"}
	}
	for _, c := range d.LeftOut {
		fmt.Fprintf(b, "  %s (%s)\n", c.Dir, c.Inputs)
		g := path.Dir(c.Dir) + "/*"
		if path.Dir(c.Dir) == "." {
			g = c.Dir
		}
		if !slices.Contains(globs, g) {
			globs = append(globs, g)
		}
	}
	quoted := make([]string, len(globs))
	for i, g := range globs {
		quoted[i] = fmt.Sprintf("%q", g)
	}
	fmt.Fprintf(b, "to plan %s, set in layers.toml: functions = [%s]", it, strings.Join(quoted, ", "))
	if !d.configured || len(d.globs) == 0 {
		b.WriteString("\n(or run `layers init`, which writes globs that find every function)")
	}
	b.WriteString("\n")
}

func (d *PlanDocument) writeTarget(b *strings.Builder, t TargetDocument) {
	var images, unresolved []FunctionDocument
	for _, f := range t.Functions {
		switch {
		case len(f.Unresolved) > 0:
			unresolved = append(unresolved, f)
		case f.PackageType == planner.PackageImage:
			images = append(images, f)
		}
	}
	fmt.Fprintf(b, "%s / %s: %s, %s", t.Runtime, t.Architecture, plural(len(t.Functions), "function"), plural(len(t.Layers), "layer"))
	if len(images) > 0 {
		fmt.Fprintf(b, ", %s", plural(len(images), "container image"))
	}
	b.WriteString("\n\n")

	// Layers are referred to by a short id (L1, L2, ...) in the function table.
	ids := map[string]string{}
	for i, l := range t.Layers {
		ids[l.Name] = fmt.Sprintf("L%d", i+1)
	}
	nameWidth := len("FUNCTION")
	for _, f := range t.Functions {
		nameWidth = max(nameWidth, len(f.Name))
	}
	fmt.Fprintf(b, "%-*s  %8s  %s  %9s  %4s  %s\n", nameWidth, "FUNCTION", "PACKAGES", pad("SIZE", sizeWidth), "BYTE CODE", "FREE", "LAYERS")
	var noSlot []string
	var overNames []string
	var overBytes []int64
	var perFunction int64
	perFunctionKnown := true
	for _, f := range t.Functions {
		var layers string
		switch {
		case len(f.Unresolved) > 0:
			fmt.Fprintf(b, "%-*s  %8s  %s\n", nameWidth, f.Name, "?", "not resolved yet")
			continue
		case f.PackageType == planner.PackageImage:
			layers = "container image"
		default:
			var refs []string
			for _, l := range f.Layers {
				refs = append(refs, ids[l])
			}
			layers = strings.Join(refs, " ")
			if f.ClosureBytes == nil {
				perFunctionKnown = false
			} else {
				perFunction += *f.ClosureBytes
			}
		}
		byteCode := "-"
		if f.ByteCodeBytes != nil {
			byteCode = size(f.ByteCodeBytes, f.Estimated)
			if f.PackageType == planner.PackageImage && manifest.ByteCodePushesOver(f.UnzippedBytes, *f.ByteCodeBytes, d.limit) {
				overNames, overBytes = append(overNames, f.Name), append(overBytes, *f.UnzippedBytes-d.limit)
			}
		}
		free := "-"
		if f.FreeLayerSlots != nil {
			free = strconv.Itoa(*f.FreeLayerSlots)
			if *f.FreeLayerSlots == 0 {
				noSlot = append(noSlot, f.Name)
			}
		}
		fmt.Fprintf(b, "%-*s  %8d  %s  %9s  %4s  %s\n", nameWidth, f.Name, len(f.Packages),
			pad(sizeBar(f.UnzippedBytes, d.limit, f.Estimated), sizeWidth), byteCode, free, layers)
	}
	if len(t.Layers) > 0 {
		b.WriteString("\n")
		fmt.Fprintf(b, "%-4s  %10s  %8s  %9s  %s\n", "", "SIZE", "PACKAGES", "FUNCTIONS", "LAYER")
		var stored int64
		storedKnown := true
		kept := 0
		for _, l := range t.Layers {
			name := l.Name
			if l.Kept {
				name += " (kept)"
				kept++
			}
			fmt.Fprintf(b, "%-4s  %10s  %8d  %9d  %s\n", ids[l.Name], size(l.UnzippedBytes, l.Estimated),
				len(l.Packages), len(l.Functions), name)
			if l.UnzippedBytes == nil {
				storedKnown = false
			} else {
				stored += *l.UnzippedBytes
			}
		}
		if storedKnown && perFunctionKnown && perFunction > 0 {
			fmt.Fprintf(b, "\nstored: %s in %d layers; one layer per function would store %s (%.0f%% less)\n",
				mib(stored), len(t.Layers), mib(perFunction), 100*(1-float64(stored)/float64(perFunction)))
		}
		if kept > 0 {
			fmt.Fprintf(b, "kept: %d of %d layers unchanged from the last build's plan (--fresh plans from scratch)\n", kept, len(t.Layers))
		}
	}
	if len(images) > 0 {
		fmt.Fprintf(b, "\ncontainer images (built by `layers build`, pushed to ECR repository %s):\n", d.repository)
		for _, f := range images {
			fmt.Fprintf(b, "  %s: %s; CMD %s\n", f.Name, f.Reason, d.handlers[f.Name])
		}
	}
	if note := byteCodeNote(overNames, overBytes, d.limit); note != "" {
		b.WriteString("\n" + note)
	}
	if len(noSlot) > 0 {
		fmt.Fprintf(b, "\nno free layer slot: %s; an extension layer (Powertools, Datadog) would break %s deploy: [limits] reserved_layers = 1 keeps one free\n",
			strings.Join(noSlot, ", "), map[bool]string{true: "its", false: "their"}[len(noSlot) == 1])
	}
	if len(t.Wheels) > 0 {
		b.WriteString("\nno wheel the runtime loads:\n")
		for _, p := range t.Wheels {
			what := "refused by `layers build`"
			if !p.Refused() {
				what = "built from source"
			}
			fmt.Fprintf(b, "  %s: %s\n", what, strings.ReplaceAll(p.Text(), "\n", "\n  "))
		}
	}
	if len(unresolved) > 0 {
		b.WriteString("\nnot pinned by a lock file (the builder resolves these in the build image):\n")
		for _, f := range unresolved {
			for _, u := range f.Unresolved {
				loc := u.Path
				if u.Line > 0 {
					loc = fmt.Sprintf("%s:%d", u.Path, u.Line)
				}
				fmt.Fprintf(b, "  %s: %s: %s (%s)\n", f.Name, loc, u.Requirement, u.Reason)
			}
		}
	}
}

// sizeBar draws used against limit: "█████░░░░ 112 MiB / 250 MiB".
func sizeBar(used *int64, limit int64, estimated bool) string {
	if used == nil {
		return strings.Repeat("·", barWidth) + " size unknown"
	}
	filled := int(float64(*used) / float64(limit) * barWidth)
	if filled > barWidth {
		filled = barWidth
	}
	if filled == 0 && *used > 0 {
		filled = 1
	}
	s := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled) + " " + mib(*used) + " / " + mib(limit)
	if estimated {
		s += " (est.)"
	}
	return s
}

func size(n *int64, estimated bool) string {
	if n == nil {
		return "unknown"
	}
	if estimated {
		return "~" + mib(*n)
	}
	return mib(*n)
}

// mib formats bytes in MiB (Lambda's 250 MB limit is 250 MiB).
func mib(n int64) string {
	v := float64(n) / (1 << 20)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f MiB", v)
	case v >= 1:
		return fmt.Sprintf("%.1f MiB", v)
	default:
		return fmt.Sprintf("%.0f KiB", float64(n)/1024)
	}
}
