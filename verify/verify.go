package verify

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/parallel"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
)

// Options configure Run.
type Options struct {
	// Engine runs the runtime images; nil dials the engine the
	// environment names. Unused Offline.
	Engine engine.Engine
	// Jobs bounds the containers running at once; 0 means the CPUs.
	Jobs int
	// Function limits the run to the function of that name.
	Function string
	// Offline only checks the distributions' metadata: no engine.
	Offline bool
	// Strict fails modules that only lack an optional dependency.
	Strict bool
	// Pull pulls the runtime images even when the engine has them.
	Pull bool
	// Runs is how many times each import is timed; the fastest counts.
	// 0 means 2.
	Runs int
	// Timeout bounds one import; 0 means two minutes.
	Timeout time.Duration
	// Progress receives one line per function; nil discards them.
	Progress func(string)
}

// Run verifies the functions of the build at cfg.Root and writes the
// results to ResultFile (merged with the other functions' earlier results
// when Function names one). A function that fails makes the error a
// *FailedError; the result is returned with it.
func Run(ctx context.Context, cfg *config.Config, o Options) (*Result, error) {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	if o.Runs <= 0 {
		o.Runs = 2
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	m, err := manifest.Read(cfg.Root)
	if err != nil {
		return nil, err
	}
	excluded := map[string]bool{}
	for _, x := range cfg.Exclude {
		excluded[pep508.NormalizeName(x)] = true
	}

	type job struct {
		t   *manifest.Target
		f   manifest.Function
		res FunctionResult
		err error
	}
	var jobs []*job
	found := false
	for ti := range m.Targets {
		t := &m.Targets[ti]
		for _, f := range t.Functions {
			if o.Function != "" && f.Name != o.Function {
				continue
			}
			found = true
			jobs = append(jobs, &job{t: t, f: f})
		}
	}
	if o.Function != "" && !found {
		return nil, fmt.Errorf("no function %q in the build manifest", o.Function)
	}
	if !o.Offline && o.Engine == nil && len(jobs) > 0 {
		d, err := engine.Dial(ctx)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		o.Engine = d
	}
	v := &verifier{cfg: cfg, o: o, m: m, excluded: excluded, images: map[config.Target]*imageOnce{}}
	// Every function's outcome is kept: a failure does not stop the others.
	err = parallel.ForEach(ctx, o.Jobs, len(jobs), func(ctx context.Context, i int) error {
		j := jobs[i]
		j.res, j.err = v.function(ctx, j.t, j.f)
		if j.err == nil {
			o.Progress(progressLine(&j.res, o.Strict))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Format: ResultFormat, InputsSHA256: m.InputsSHA256, Offline: o.Offline, Functions: []FunctionResult{}}
	var failed []string
	for _, j := range jobs {
		if j.err != nil {
			return nil, fmt.Errorf("verify function %s (%s/%s): %w", j.f.Name, j.t.Runtime, j.t.Architecture, j.err)
		}
		res.Functions = append(res.Functions, j.res)
		if j.res.Failed(o.Strict) {
			failed = append(failed, fmt.Sprintf("%s (%s/%s)", j.f.Name, j.t.Runtime, j.t.Architecture))
		}
	}
	if !o.Offline {
		if err := writeResult(cfg.Root, merge(cfg.Root, res, o.Function != "")); err != nil {
			return nil, err
		}
	}
	if len(failed) > 0 {
		return res, &FailedError{Functions: failed}
	}
	return res, nil
}

// merge keeps the earlier results of the functions a run limited to one
// function did not verify, when they are about the same build.
func merge(root string, r *Result, partial bool) *Result {
	if !partial {
		return r
	}
	old, err := ReadResult(root)
	if err != nil || old == nil || old.InputsSHA256 != r.InputsSHA256 || old.Offline {
		return r
	}
	out := *r
	out.Functions = nil
	have := map[string]bool{}
	for _, f := range r.Functions {
		have[f.Name+" "+f.Runtime+" "+f.Architecture] = true
	}
	for _, f := range old.Functions {
		if !have[f.Name+" "+f.Runtime+" "+f.Architecture] {
			out.Functions = append(out.Functions, f)
		}
	}
	out.Functions = append(out.Functions, r.Functions...)
	sort.SliceStable(out.Functions, func(i, j int) bool {
		a, b := out.Functions[i], out.Functions[j]
		if a.Runtime+a.Architecture != b.Runtime+b.Architecture {
			return a.Runtime+a.Architecture < b.Runtime+b.Architecture
		}
		return a.Name < b.Name
	})
	return &out
}

func progressLine(f *FunctionResult, strict bool) string {
	verdict := "ok"
	if f.Failed(strict) {
		verdict = "FAILED"
	}
	s := fmt.Sprintf("verify %s (%s/%s): %s, %d modules, %d unsatisfied requirements", f.Name, f.Runtime, f.Architecture,
		verdict, len(f.Modules), len(f.Problems))
	if f.ImportMicros != nil {
		s += ", cold import " + Millis(*f.ImportMicros)
		if f.SourceImportMicros != nil {
			s += " (" + Millis(*f.SourceImportMicros) + " without byte code)"
		}
	}
	return s
}

// verifier holds what every function's verification shares.
type verifier struct {
	cfg      *config.Config
	o        Options
	m        *manifest.Manifest
	excluded map[string]bool
	mu       sync.Mutex
	images   map[config.Target]*imageOnce
}

// imageOnce resolves a target's runtime image once for all its functions.
type imageOnce struct {
	once sync.Once
	ref  string
	err  error
}

func (v *verifier) function(ctx context.Context, t *manifest.Target, f manifest.Function) (FunctionResult, error) {
	res := FunctionResult{Name: f.Name, Runtime: t.Runtime, Architecture: t.Architecture, PackageType: string(f.PackageType),
		Layers: f.Layers, Modules: []ModuleResult{}, Problems: []Problem{}}
	target := config.Target{Runtime: t.Runtime, Architecture: t.Architecture}
	if f.PackageType == planner.PackageImage {
		return v.image(ctx, t, f, target, res)
	}
	files := map[string]string{}
	for _, l := range t.Layers {
		files[l.Name] = filepath.Join(v.cfg.Root, filepath.FromSlash(l.File))
	}
	for _, name := range f.Layers {
		if _, ok := files[name]; !ok {
			return res, fmt.Errorf("layer %s is not in the build manifest", name)
		}
	}
	tree, err := OpenTree(target.PythonVersion(), f.Layers, func(name string) string { return files[name] })
	if err != nil {
		return res, err
	}
	defer tree.Close()

	needed := closure(f, t)
	env, err := pep508.TargetEnv(t.Runtime, t.Architecture)
	if err != nil {
		return res, err
	}
	res.Problems = CheckRequirements(needed, tree.Dists, env, v.excluded)
	if res.Problems == nil {
		res.Problems = []Problem{}
	}
	var mods []Module
	seen := map[string]bool{}
	for _, n := range needed {
		d, ok := tree.Dists[n]
		if !ok {
			continue
		}
		names, left := Modules(d, tree)
		for _, m := range names {
			if !seen[m] {
				seen[m] = true
				mods = append(mods, Module{Name: m, Dist: d.Name})
			}
		}
		for _, m := range sortedKeys(left) {
			res.Notes = append(res.Notes, fmt.Sprintf("%s: %s left out: %s", d.Name, m, left[m]))
		}
	}
	fc := v.cfg.For(f.Name)
	var code []archive.File
	if fc.Handler != "" {
		mod, attr, err := splitHandler(fc.Handler)
		if err != nil {
			return res, err
		}
		mods = append(mods, Module{Name: mod, Attr: attr})
		if code, err = functionCode(v.cfg.Root, f.Path, fc.Source); err != nil {
			return res, err
		}
	}
	if v.o.Offline {
		return res, nil
	}
	img, err := v.runtimeImage(ctx, target)
	if err != nil {
		return res, err
	}
	res.Image = img
	out, err := runImports(ctx, v.o, runSpec{
		image: img, platform: target.Platform(), python: target.PythonVersion(),
		modules: mods, layers: tree.Files(), code: code,
	})
	if err != nil {
		return res, err
	}
	provided := providedTops(tree)
	for _, p := range res.Problems {
		// A module missing because a required distribution is missing is
		// no optional dependency.
		if r, err := pep508.ParseRequirement(p.Requirement); err == nil && p.Kind == ProblemMissing {
			provided[r.Name] = true
		}
	}
	fillImports(&res, mods, out, provided, v.o.Strict)
	return res, nil
}

// closure returns the distributions the function needs from its layers:
// what the manifest records, else (older manifests) everything its layers
// deliver.
func closure(f manifest.Function, t *manifest.Target) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p planner.PackageRef) {
		if !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p.Name)
		}
	}
	if len(f.Packages) > 0 {
		for _, p := range f.Packages {
			add(p)
		}
	} else {
		attached := map[string]bool{}
		for _, l := range f.Layers {
			attached[l] = true
		}
		for _, l := range t.Layers {
			if attached[l.Name] {
				for _, p := range l.Packages {
					add(p)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func (v *verifier) runtimeImage(ctx context.Context, target config.Target) (string, error) {
	v.mu.Lock()
	io, ok := v.images[target]
	if !ok {
		io = &imageOnce{}
		v.images[target] = io
	}
	v.mu.Unlock()
	io.once.Do(func() {
		ref := v.cfg.Verify.Image
		if ref == "" {
			ref = target.LambdaImage()
		}
		if _, err := engine.EnsureImage(ctx, v.o.Engine, ref, target.Platform(), v.o.Pull); err != nil {
			io.err = fmt.Errorf("runtime image %s: %w", ref, err)
			return
		}
		io.ref = ref
	})
	return io.ref, io.err
}

// image verifies a function packaged as a container image: its handler's
// module imports in the image built for it.
func (v *verifier) image(ctx context.Context, t *manifest.Target, f manifest.Function, target config.Target, res FunctionResult) (FunctionResult, error) {
	var img *manifest.Image
	for i := range t.Images {
		if t.Images[i].Function == f.Name {
			img = &t.Images[i]
		}
	}
	handler := v.cfg.For(f.Name).Handler
	if img != nil && img.Handler != "" {
		handler = img.Handler
	}
	switch {
	case img == nil || img.Tag == "":
		res.Unverified = "its image is not built"
		return res, nil
	case img.ImageID == "" && img.Registry != "":
		res.Unverified = "its image was found in the registry (" + img.Registry + ") and not built here: verify it where it was built"
		return res, nil
	case handler == "":
		res.Unverified = "no handler is set ([function." + f.Name + "] handler) for its image"

		return res, nil
	case v.o.Offline:
		res.Unverified = "an image function has nothing to check offline"
		return res, nil
	}
	mod, attr, err := splitHandler(handler)
	if err != nil {
		return res, err
	}
	res.Image = img.Tag
	mods := []Module{{Name: mod, Attr: attr}}
	out, err := runImports(ctx, v.o, runSpec{image: img.Tag, platform: target.Platform(), python: target.PythonVersion(), modules: mods})
	if err != nil {
		return res, err
	}
	fillImports(&res, mods, out, nil, v.o.Strict)
	return res, nil
}

// splitHandler splits "pkg.module.function" into its module and function.
func splitHandler(h string) (string, string, error) {
	i := strings.LastIndex(h, ".")
	if i <= 0 || i == len(h)-1 || !dottedName.MatchString(h) {
		return "", "", fmt.Errorf("handler %q: want module.function", h)
	}
	return h[:i], h[i+1:], nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
