package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/bytesize"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/resolver"
)

// byteCodeShare is the part of a compiled unit's unzipped bytes that is
// byte code, for sizes estimated before a build: +41% in byte code (the
// issue's figure) makes byte code 29% of what ships. bench/bytecode.sh
// measured +33% (25%) over its reference set, from +0% (orjson) to +67%
// (requests). The builder replaces estimates with measured sizes.
const byteCodeShare = 0.29

// withByteCode turns an estimate of a unit's installed sources into an
// estimate of what ships when its byte code is compiled.
func withByteCode(bytes int64, compile bool) int64 {
	if !compile {
		return bytes
	}
	return int64(float64(bytes) / (1 - byteCodeShare))
}

// estimatedByteCode is the byte code in an estimate made by withByteCode.
func estimatedByteCode(bytes int64) int64 {
	return int64(float64(bytes) * byteCodeShare)
}

// compiles reports whether a target's units are compiled.
func compiles(cfg *config.Config) bool {
	return cfg.Prune.Bytecode != config.BytecodeStrip
}

// planByteCode returns the byte code of a function's closure in a plan:
// estimated from the planner's sizes, nil when a size is unknown.
func planByteCode(cfg *config.Config, c resolver.Closure, t planner.Target, sizes map[planner.Unit]planner.Size) *int64 {
	if !compiles(cfg) {
		return nil
	}
	var n int64
	for _, p := range c.Packages {
		if p.Source == resolver.SourceLocal && cfg.Layers.LocalInCode {
			continue
		}
		s, ok := sizes[unitOf(t, p)]
		if !ok || s.Kind == planner.SizeUnknown {
			return nil
		}
		n += estimatedByteCode(s.Bytes)
	}
	return &n
}

// layerByteCode returns the byte code of each layer of a plan, from its
// units' measured byte code.
func layerByteCode(plan *planner.Plan, pt planner.Target, byUnit map[planner.Unit]builder.Unit) map[string]int64 {
	out := map[string]int64{}
	for _, p := range plan.Targets {
		for _, l := range p.Layers {
			for _, r := range l.Packages {
				out[l.Name] += byUnit[refUnit(pt, r)].ByteCode
			}
		}
	}
	return out
}

// functionByteCode returns the byte code a function ships: that of its
// layers, or of its closure's units for an image that keeps it.
func functionByteCode(cfg *config.Config, f planner.FunctionPlan, c resolver.Closure, pt planner.Target, layers map[string]int64,
	byUnit map[planner.Unit]builder.Unit) int64 {
	var n int64
	if f.PackageType == planner.PackageImage {
		if cfg.For(c.Name).Bytecode == config.BytecodeStrip {
			return 0
		}
		for _, p := range c.Packages {
			n += byUnit[unitOf(pt, p)].ByteCode
		}
		return n
	}
	for _, l := range f.Layers {
		n += layers[l]
	}
	return n
}

// byteCodeNote says which functions the byte code pushes over the limit,
// for the end of `layers plan` and `layers build`; "" for none.
func byteCodeNote(names []string, over []int64, limit int64) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("byte code pushes these functions over the size limit, so they ship as container images:\n")
	for i, n := range names {
		fmt.Fprintf(&b, "  %s: %s over %s; without byte code it would fit (`bytecode = \"strip\"` in [prune])\n", n, mib(over[i]), mib(limit))
	}
	return b.String()
}

// byteCodeDetail is what a built unit's progress line says of its byte
// code: its size, and the files that did not compile.
func byteCodeDetail(e builder.Event) string {
	s := ""
	if e.ByteCode > 0 {
		s = "; byte code " + bytesize.Decimal(e.ByteCode)
	}
	if e.NotCompiled > 0 {
		s += fmt.Sprintf("; %s not compiled", plural(e.NotCompiled, "file"))
	}
	return s
}

// writeByteCode writes what the build summary says of byte code: the files
// that did not compile, and the functions byte code pushed over the limit.
func (r *BuildResult) writeByteCode(w io.Writer) error {
	if r.NotCompiled > 0 {
		if _, err := fmt.Fprintf(w, "byte code: %s of the units built did not compile (a package's Python 2 leftovers or templates); they ship as source\n",
			plural(r.NotCompiled, "file")); err != nil {
			return err
		}
	}
	if r.Plan == nil {
		return nil
	}
	limit := r.Plan.Limits.FunctionUnzippedBytes
	var names []string
	var over []int64
	for _, t := range r.Manifest.Targets {
		for _, f := range t.Functions {
			if f.PackageType == planner.PackageImage && manifest.ByteCodePushesOver(f.UnzippedBytes, f.ByteCodeBytes, limit) {
				names, over = append(names, f.Name+" ("+t.Runtime+"/"+t.Architecture+")"), append(over, *f.UnzippedBytes-limit)
			}
		}
	}
	_, err := io.WriteString(w, byteCodeNote(names, over, limit))
	return err
}
