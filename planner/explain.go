package planner

import (
	"fmt"
	"slices"
	"strings"
)

// Explain returns a short text saying, for a function name, how it is
// deployed (its layers and why, or why it is an image) and, for a
// distribution name, where each of its versions went and why. It reports
// false when no function or distribution has that name.
func (p *Plan) Explain(name string) (string, bool) {
	var b strings.Builder
	found := false
	for i := range p.Targets {
		tp := &p.Targets[i]
		for j := range tp.Functions {
			if tp.Functions[j].Name == name {
				p.explainFunction(&b, tp, &tp.Functions[j])
				found = true
			}
		}
	}
	pkg := NormalizeName(name)
	for i := range p.Targets {
		if p.explainPackage(&b, &p.Targets[i], pkg) {
			found = true
		}
	}
	return b.String(), found
}

// String returns the target as runtime/architecture, e.g. python3.12/arm64.
func (t Target) String() string { return t.Runtime + "/" + t.Architecture }

func bytesText(n *int64) string {
	if n == nil {
		return "unknown size"
	}
	return groupDigits(*n) + " B"
}

func (p *Plan) explainFunction(b *strings.Builder, tp *TargetPlan, f *FunctionPlan) {
	est := ""
	if f.Estimated {
		est = " (estimated)"
	}
	if f.PackageType == PackageImage {
		fmt.Fprintf(b, "function %s (%s): container image\n", f.Name, tp.Target)
		fmt.Fprintf(b, "  why: %s\n", f.Reason)
		fmt.Fprintf(b, "  the image holds its code (%s B) and %s (%s%s)\n", groupDigits(f.CodeBytes), plural(len(f.Packages), "package"), bytesText(f.ClosureBytes), est)
		return
	}
	budget := p.Limits.LayersPerFunction - p.Limits.ReservedLayers
	fmt.Fprintf(b, "function %s (%s): %d of %d layers (%d per function - %d reserved)\n",
		f.Name, tp.Target, len(f.Layers), budget, p.Limits.LayersPerFunction, p.Limits.ReservedLayers)
	fmt.Fprintf(b, "  size: %s of %s B with code%s", bytesText(f.UnzippedBytes), groupDigits(p.Limits.FunctionUnzippedBytes), est)
	if f.ExtraBytes != nil && f.ClosureBytes != nil && *f.ClosureBytes > 0 {
		fmt.Fprintf(b, "; extra bytes it does not need: %s (%.1f%% of its %s B of packages; max_extra %.0f%% for most functions, %.0f%% at most)",
			groupDigits(*f.ExtraBytes), 100*float64(*f.ExtraBytes)/float64(*f.ClosureBytes), groupDigits(*f.ClosureBytes), 100*p.MaxExtra, 300*p.MaxExtra)
	}
	b.WriteString("\n")
	if len(f.CodePackages) > 0 {
		fmt.Fprintf(b, "  local packages shipped with its code: %s\n", refNames(f.CodePackages))
	}
	if f.NeededLayers > budget {
		fmt.Fprintf(b, "  its packages fall into %d sharing classes (packages needed by exactly the same functions), more than its %d layers: it attaches the layers that deliver most of them, merged where the extra bytes stay within max_extra (three times it for fewer than half of the functions), and what no shared layer delivers is copied into a function layer\n", f.NeededLayers, budget)
	}
	for _, name := range f.Layers {
		l := tp.layer(name)
		if l == nil {
			continue
		}
		fmt.Fprintf(b, "  - %s: %s\n", l.Name, l.summary())
	}
}

// layer finds a layer by name.
func (tp *TargetPlan) layer(name string) *Layer {
	i, ok := slices.BinarySearchFunc(tp.Layers, name, func(l Layer, n string) int { return strings.Compare(l.Name, n) })
	if !ok {
		return nil
	}
	return &tp.Layers[i]
}

// summary says what a layer holds, who uses it and why it exists.
func (l *Layer) summary() string {
	var why []string
	if l.Kind == LayerFunction {
		why = append(why, "function layer: packages no shared layer delivered to its functions")
	} else {
		switch {
		case l.Classes > 1:
			why = append(why, fmt.Sprintf("%d sharing classes merged to fit layer budgets", l.Classes))
		case l.Classes == 1:
			why = append(why, "one sharing class: packages needed by the same functions")
		}
		if len(l.Copied) > 0 {
			why = append(why, fmt.Sprintf("%s copied in because most of its functions need them", plural(len(l.Copied), "package")))
		}
	}
	if len(l.Groups) > 0 {
		why = append(why, "group "+strings.Join(l.Groups, ", "))
	}
	if l.Kept {
		why = append(why, "kept unchanged from the previous plan")
	}
	return fmt.Sprintf("%s, %s, used by %s; %s", plural(len(l.Packages), "package"), bytesText(l.UnzippedBytes), functionsText(l.Functions), strings.Join(why, "; "))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func functionsText(fns []string) string {
	if len(fns) == 1 {
		return "function " + fns[0]
	}
	if len(fns) <= 3 {
		return fmt.Sprintf("%d functions (%s)", len(fns), strings.Join(fns, ", "))
	}
	return fmt.Sprintf("%d functions (%s, ...)", len(fns), strings.Join(fns[:3], ", "))
}

func refNames(refs []PackageRef) string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.String()
	}
	return strings.Join(names, ", ")
}

func hasPackage(refs []PackageRef, name string) (PackageRef, bool) {
	for _, r := range refs {
		if r.Name == name {
			return r, true
		}
	}
	return PackageRef{}, false
}

// explainPackage writes where a distribution went in one target: for each
// version, the layers holding it (the most used first) and the functions
// receiving it another way.
func (p *Plan) explainPackage(b *strings.Builder, tp *TargetPlan, name string) bool {
	type place struct {
		layer *Layer
		ref   PackageRef
	}
	byVersion := map[string][]place{}
	var versions []string
	add := func(v string) {
		if !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
	}
	for i := range tp.Layers {
		l := &tp.Layers[i]
		if r, ok := hasPackage(l.Packages, name); ok {
			add(r.release())
			byVersion[r.release()] = append(byVersion[r.release()], place{l, r})
		}
	}
	var other []string
	for i := range tp.Functions {
		f := &tp.Functions[i]
		if r, ok := hasPackage(f.Packages, name); ok {
			other = append(other, fmt.Sprintf("  %s in the image of function %s: %s", r.release(), f.Name, f.Reason))
		}
		if r, ok := hasPackage(f.CodePackages, name); ok {
			other = append(other, fmt.Sprintf("  %s shipped with the code of function %s (local package)", r.release(), f.Name))
		}
	}
	if len(versions) == 0 && len(other) == 0 {
		return false
	}
	slices.Sort(versions)
	fmt.Fprintf(b, "package %s (%s):\n", name, tp.Target)
	const shown = 4
	for _, v := range versions {
		ps := byVersion[v]
		slices.SortStableFunc(ps, func(x, y place) int { return len(y.layer.Functions) - len(x.layer.Functions) })
		users := 0
		for _, pl := range ps {
			users += len(pl.layer.Functions)
		}
		fmt.Fprintf(b, "  %s: in %s attached by %s\n", v, plural(len(ps), "layer"), plural(users, "function"))
		for _, pl := range ps[:min(len(ps), shown)] {
			why := pl.layer.summary()
			if slices.Contains(pl.layer.Copied, name) {
				why += "; copied in here, it also lives in other layers"
			}
			fmt.Fprintf(b, "    %s: %s\n", pl.layer.Name, why)
		}
		if len(ps) > shown {
			fmt.Fprintf(b, "    and %s more\n", plural(len(ps)-shown, "layer"))
		}
	}
	for _, line := range other {
		b.WriteString(line + "\n")
	}
	return true
}
