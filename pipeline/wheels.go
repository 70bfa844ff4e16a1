package pipeline

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/parallel"
	"github.com/layers-dev/layers/internal/pyindex"
	"github.com/layers-dev/layers/internal/wheeltag"
	"github.com/layers-dev/layers/resolver"
)

// WheelProblem is a package of a target that no wheel its runtime loads
// can install: refused (AvailableNone, a compiled package whose wheels
// are all for other runtimes), or built from source (AvailableSource, a
// release with an sdist and no compiled code).
type WheelProblem struct {
	Name         string                `json:"name"`
	Version      string                `json:"version"`
	Availability resolver.Availability `json:"availability"`
	Message      string                `json:"message"`
	// File and Line locate the entry that pins the package.
	File      string   `json:"file,omitempty"`
	Line      int      `json:"line,omitempty"`
	Functions []string `json:"functions"`
	// Fix is the newest release with a wheel the runtime loads, when the
	// index could be asked.
	Fix *WheelFix `json:"fix,omitempty"`
}

// WheelFix is a release that has a wheel the runtime loads, and how to
// pin it.
type WheelFix struct {
	Version string `json:"version"`
	// Below is the release after Version on the index, the upper bound
	// that leaves it out ("" when Version is the newest).
	Below        string `json:"below,omitempty"`
	UV           string `json:"uv"`
	Poetry       string `json:"poetry"`
	Requirements string `json:"requirements"`
}

// Refused reports whether the build refuses the package.
func (p WheelProblem) Refused() bool { return p.Availability == resolver.AvailableNone }

// Text is the problem for people: the message, where it is pinned and
// the fix.
func (p WheelProblem) Text() string {
	var b strings.Builder
	b.WriteString(p.Message)
	if p.File != "" {
		fmt.Fprintf(&b, "\n    pinned at %s", p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		noun := "function"
		if len(p.Functions) > 1 {
			noun = "functions"
		}
		fmt.Fprintf(&b, " (%s %s)", noun, strings.Join(p.Functions, ", "))
	}
	if f := p.Fix; f != nil {
		fmt.Fprintf(&b, "\n    %s %s is the newest release with a wheel it loads; pin it:", p.Name, f.Version)
		fmt.Fprintf(&b, "\n      uv:           %s", f.UV)
		fmt.Fprintf(&b, "\n      Poetry:       %s", f.Poetry)
		fmt.Fprintf(&b, "\n      requirements: %s", f.Requirements)
	}
	return b.String()
}

// wheelCheck decides, per target, which packages have no wheel their
// runtime loads: from the files the locks list, and for packages whose
// inputs list none (pinned requirements) from the index, when askFiles is
// set and an index is configured. With fill set, what the index tells is
// written into the closures' packages, so that the builder installs a
// release with an sdist only from its sdist.
type wheelCheck struct {
	cfg    *config.Config
	getenv func(string) string
	// askFiles asks the index for the files of packages whose inputs list
	// none; askFixes for a release that has a wheel, when one is refused.
	askFiles, askFixes bool
	fill               bool
	ca                 []byte
	warn               func(string)

	mu      sync.Mutex
	clients map[string]*pyindex.Client
	pages   map[string][]pyindex.File // index + "\x00" + project
}

// pkgAt is a package of a target: tr.Functions[fi].Packages[pi].
type pkgAt struct{ fi, pi int }

func newWheelCheck(cfg *config.Config, getenv func(string) string, askFiles, askFixes, fill bool, ca []byte, warn func(string)) *wheelCheck {
	return &wheelCheck{cfg: cfg, getenv: getenv, askFiles: askFiles, askFixes: askFixes, fill: fill, ca: ca, warn: warn,
		clients: map[string]*pyindex.Client{}, pages: map[string][]pyindex.File{}}
}

// problems returns the wheel problems of one target, refused ones first,
// each sorted by name.
func (w *wheelCheck) problems(ctx context.Context, tr *resolver.TargetResult) []WheelProblem {
	byUnit := map[string]*WheelProblem{}
	var order []string
	var unknown []pkgAt
	for fi := range tr.Functions {
		c := &tr.Functions[fi]
		for pi, p := range c.Packages {
			if p.Source != resolver.SourceRegistry {
				continue
			}
			key := p.Name + "==" + p.Version + "\x00" + p.LockIndex()
			if wp, ok := byUnit[key]; ok {
				if wp != nil {
					wp.Functions = append(wp.Functions, c.Name)
				}
				continue
			}
			chk := resolver.CheckWheels(p, tr.Runtime, tr.Arch)
			if chk.Availability == resolver.AvailableUnknown {
				unknown = append(unknown, pkgAt{fi, pi})
			}
			if chk.Availability != resolver.AvailableNone && chk.Availability != resolver.AvailableSource {
				byUnit[key] = nil
				continue
			}
			file, line := resolver.PinPosition(w.cfg.Root, p)
			byUnit[key] = &WheelProblem{Name: p.Name, Version: p.Version, Availability: chk.Availability, Message: chk.Reason,
				File: file, Line: line, Functions: []string{c.Name}}
			order = append(order, key)
		}
	}
	if w.askFiles && len(unknown) > 0 {
		for _, u := range w.fromIndex(ctx, tr, unknown) {
			key := u.Name + "==" + u.Version + "\x00"
			if byUnit[key] == nil {
				order = append(order, key)
			}
			byUnit[key] = u
		}
	}
	var out []WheelProblem
	for _, k := range order {
		if p := byUnit[k]; p != nil {
			out = append(out, *p)
		}
	}
	if w.askFixes {
		w.fixes(ctx, tr, out)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Refused() != out[j].Refused() {
			return out[i].Refused()
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// fromIndex asks the index for the files of packages whose inputs list
// none (several at once), and returns their problems.
func (w *wheelCheck) fromIndex(ctx context.Context, tr *resolver.TargetResult, unknown []pkgAt) []*WheelProblem {
	type ask struct{ index, name string }
	var asks []ask
	seen := map[ask]bool{}
	for _, u := range unknown {
		c := &tr.Functions[u.fi]
		a := ask{w.indexFor(c.Packages[u.pi], c.Index), c.Packages[u.pi].Name}
		if a.index != "" && !seen[a] {
			seen[a] = true
			asks = append(asks, a)
		}
	}
	_ = parallel.ForEach(ctx, indexRequests, len(asks), func(ctx context.Context, i int) error {
		w.page(ctx, asks[i].index, asks[i].name)
		return nil
	})
	byKey := map[string]*WheelProblem{}
	var keys []string
	for _, u := range unknown {
		c := &tr.Functions[u.fi]
		p := &c.Packages[u.pi]
		files, ok := w.page(ctx, w.indexFor(*p, c.Index), p.Name)
		if !ok {
			continue
		}
		release := pyindex.Release(files, p.Name, p.Version)
		if len(release) == 0 {
			continue
		}
		if w.fill {
			for _, f := range release {
				if strings.HasSuffix(f, ".whl") {
					p.Wheels = append(p.Wheels, resolver.Wheel{Filename: f})
				} else {
					p.Sdist = true
				}
			}
		}
		key := p.Name + "==" + p.Version
		if wp, ok := byKey[key]; ok {
			wp.Functions = append(wp.Functions, c.Name)
			continue
		}
		chk := resolver.CheckIndexFiles(*p, release, tr.Runtime, tr.Arch)
		if chk.Availability != resolver.AvailableNone && chk.Availability != resolver.AvailableSource {
			continue
		}
		file, line := resolver.PinPosition(w.cfg.Root, *p)
		byKey[key] = &WheelProblem{Name: p.Name, Version: p.Version, Availability: chk.Availability, Message: chk.Reason,
			File: file, Line: line, Functions: []string{c.Name}}
		keys = append(keys, key)
	}
	out := make([]*WheelProblem, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

// indexRequests bounds the requests to an index at once.
const indexRequests = 8

// fixes fills the Fix of the refused problems from the index, asking for
// them at once.
func (w *wheelCheck) fixes(ctx context.Context, tr *resolver.TargetResult, problems []WheelProblem) {
	rt, err := wheeltag.RuntimeFor(tr.Runtime, tr.Arch)
	if err != nil {
		return
	}
	index := map[string]string{} // name -> index URL
	for _, c := range tr.Functions {
		for _, p := range c.Packages {
			if _, ok := index[p.Name]; !ok {
				index[p.Name] = w.indexFor(p, c.Index)
			}
		}
	}
	_ = parallel.ForEach(ctx, indexRequests, len(problems), func(ctx context.Context, i int) error {
		p := &problems[i]
		if !p.Refused() {
			return nil
		}
		files, ok := w.page(ctx, index[p.Name], p.Name)
		if !ok {
			return nil
		}
		if v, next, ok := pyindex.Newest(files, p.Name, rt); ok {
			p.Fix = wheelFix(p.Name, v, next)
		}
		return nil
	})
}

func wheelFix(name, version, next string) *WheelFix {
	bound := "==" + version
	if next != "" {
		bound = "<" + next
	}
	return &WheelFix{Version: version, Below: next,
		UV:           fmt.Sprintf("uv add '%s%s' (or in [tool.uv] constraint-dependencies)", name, bound),
		Poetry:       fmt.Sprintf("poetry add '%s%s'", name, bound),
		Requirements: fmt.Sprintf("%s==%s", name, version)}
}

// indexFor returns the index a package comes from: the one its lock
// names, else its requirements file's --index-url, else the environment's
// (pip's, then uv's); "" when nothing names one.
func (w *wheelCheck) indexFor(p resolver.Package, o resolver.IndexOptions) string {
	if u := p.LockIndex(); u != "" {
		return u
	}
	if o.IndexURL != "" {
		return placeholder(o.IndexURL)
	}
	for _, k := range []string{"PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"} {
		if v := w.getenv(k); v != "" {
			return placeholder(v)
		}
	}
	return ""
}

// placeholder returns "" for an index under .invalid, which stands for
// the default index in fixtures and examples (see Package.LockIndex), and
// index otherwise.
func placeholder(index string) string {
	return resolver.Package{Source: resolver.SourceRegistry, URL: index}.LockIndex()
}

// page returns the files index lists for project, asking once per run; a
// failure is a warning, once per index.
func (w *wheelCheck) page(ctx context.Context, index, project string) ([]pyindex.File, bool) {
	if index == "" {
		return nil, false
	}
	key := index + "\x00" + project
	w.mu.Lock()
	if files, ok := w.pages[key]; ok {
		w.mu.Unlock()
		return files, files != nil
	}
	c, ok := w.clients[index]
	if !ok {
		var err error
		if c, err = pyindex.New(index, w.ca); err != nil {
			w.warn(fmt.Sprintf("wheels: %v", err))
		}
		w.clients[index] = c
	}
	w.mu.Unlock()
	var files []pyindex.File
	if c != nil {
		var err error
		if files, err = c.Files(ctx, project); err != nil {
			w.warn(fmt.Sprintf("wheels: %v", err))
			files = nil
		} else if files == nil {
			files = []pyindex.File{}
		}
	}
	w.mu.Lock()
	w.pages[key] = files
	w.mu.Unlock()
	return files, files != nil
}

// refusal is the input error a build stops with when some package has no
// wheel its runtime loads: at the first one's pin, naming them all.
func refusal(t config.Target, problems []WheelProblem) error {
	var refused []WheelProblem
	for _, p := range problems {
		if p.Refused() {
			refused = append(refused, p)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	var b strings.Builder
	for i, p := range refused {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.Text())
	}
	fmt.Fprintf(&b, "\n%s: lock releases that have a wheel for it; `layers build` installs nothing until then", t)
	return &diag.Error{Path: refused[0].File, Line: refused[0].Line, Msg: b.String()}
}
