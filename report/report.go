// Package report owns `layers report`: one self-contained HTML page (inline
// CSS and SVG, no script, nothing fetched) that shows, per function, its
// layers' sizes stacked against Lambda's unzipped limit, its cold-start
// import time and its slowest imports, from the build manifest and, when
// present, the last `layers verify` results.
package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/atomicfile"
	"github.com/layers-dev/layers/internal/bytesize"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/verify"
)

// DefaultFile is where Write puts the page, relative to the root.
const DefaultFile = ".layers/report.html"

//go:embed report.html.tmpl
var pageText string

var page = template.Must(template.New("report").Parse(pageText))

// Bar geometry, in SVG user units (CSS pixels). The widths keep a row of
// the table, verdict first, within a 1280-pixel window.
const (
	barWidth    = 320.0 // a function's layers and code against the limit
	barHeight   = 18.0
	importWidth = 180.0 // the slowest function's cold import
	slowWidth   = 80.0  // a function's slowest import
)

// palette colours a function's layers in attach order; its code is grey.
var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7"}

// Options configure Write.
type Options struct {
	// Out is the page's path; "" means DefaultFile under the root.
	Out string
}

// Write reads the build manifest and the last verify results of the
// repository cfg describes and writes the page atomically. It returns the
// path written.
func Write(cfg *config.Config, o Options) (string, error) {
	m, err := manifest.Read(cfg.Root)
	if err != nil {
		return "", err
	}
	v, err := verify.ReadResult(cfg.Root)
	if err != nil {
		return "", err
	}
	out := o.Out
	if out == "" {
		out = filepath.Join(cfg.Root, filepath.FromSlash(DefaultFile))
	}
	var b bytes.Buffer
	if err := Render(&b, m, v, cfg.Limits.FunctionUnzippedBytes); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	if err := atomicfile.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	return out, nil
}

// Render writes the page for a manifest, the verify results about it (nil
// for none) and the function size limit in bytes. The page depends on
// nothing else: the same input gives the same bytes.
func Render(w io.Writer, m *manifest.Manifest, v *verify.Result, limit int64) error {
	if limit <= 0 {
		limit = config.Default("").Limits.FunctionUnzippedBytes
	}
	d := pageData{Limit: bytesize.Binary(limit), ImportWidth: importWidth}
	if v != nil {
		d.Verified = true
		d.Stale = v.InputsSHA256 != m.InputsSHA256
		d.Offline = v.Offline
	}
	results := map[string]*verify.FunctionResult{}
	if v != nil {
		for i := range v.Functions {
			f := &v.Functions[i]
			results[f.Runtime+"/"+f.Architecture+"/"+f.Name] = f
		}
	}
	var maxImport int64
	for _, f := range results {
		if f.ImportMicros != nil && *f.ImportMicros > maxImport {
			maxImport = *f.ImportMicros
		}
		if f.SourceImportMicros != nil && *f.SourceImportMicros > maxImport {
			maxImport = *f.SourceImportMicros
		}
	}
	for _, t := range m.Targets {
		td := targetData{Name: t.Runtime + "/" + t.Architecture}
		layers := map[string]manifest.Layer{}
		for _, l := range t.Layers {
			layers[l.Name] = l
		}
		for _, f := range t.Functions {
			fd := functionRow(f, layers, results[td.Name+"/"+f.Name], limit, maxImport)
			if fd.Result == nil && v != nil {
				fd.Verdict, fd.VerdictClass = "not verified", "none"
			}
			td.Functions = append(td.Functions, fd)
		}
		sort.SliceStable(td.Functions, func(i, j int) bool {
			a, b := td.Functions[i], td.Functions[j]
			if a.bytes != b.bytes {
				return a.bytes > b.bytes
			}
			return a.Name < b.Name
		})
		d.Targets = append(d.Targets, td)
	}
	if err := page.Execute(w, d); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

type pageData struct {
	Limit                    string
	ImportWidth              float64 // of the import bars
	Verified, Stale, Offline bool
	Targets                  []targetData
}

type targetData struct {
	Name      string
	Functions []functionData
}

type functionData struct {
	Name, PackageType string
	Size, Percent     string
	bytes             int64
	Over              bool
	Segments          []segment
	LimitX            float64
	Verdict           string
	VerdictClass      string
	Result            *verify.FunctionResult
	Import            string
	ImportWidth       float64
	// ByteCode says how much of Size is byte code; ByteCodeOver that
	// the byte code alone pushes the function over the limit.
	ByteCode     string
	ByteCodeOver bool
	// NoByteCode is the cold import without byte code, and Gain what
	// the byte code saves of it.
	NoByteCode         string
	NoByteCodeWidth    float64
	Gain               string
	Slowest            []slow
	Failures, Optional []verify.ModuleResult
	Problems           []string
	Width, Height      float64
}

type segment struct {
	X, Width     float64
	Colour, Name string
	Size         string
}

type slow struct {
	Module, Time string
	Width        float64
}

func functionRow(f manifest.Function, layers map[string]manifest.Layer, r *verify.FunctionResult, limit, maxImport int64) functionData {
	fd := functionData{Name: f.Name, PackageType: string(f.PackageType), Width: barWidth, Height: barHeight}
	// The bar's scale holds the limit, or the function when it is over.
	var total int64
	for _, name := range f.Layers {
		total += layers[name].UnzippedBytes
	}
	code := int64(0)
	if f.UnzippedBytes != nil {
		code = max(*f.UnzippedBytes-total, 0)
		total = *f.UnzippedBytes
	}
	scale := float64(max(limit, total))
	x := 0.0
	for i, name := range f.Layers {
		n := layers[name].UnzippedBytes
		w := barWidth * float64(n) / scale
		fd.Segments = append(fd.Segments, segment{X: x, Width: w, Colour: palette[i%len(palette)], Name: name, Size: bytesize.Binary(n)})
		x += w
	}
	image := f.PackageType == planner.PackageImage
	if code > 0 {
		w := barWidth * float64(code) / scale
		name := "function code"
		if image {
			name = "code and packages in the image"
		}
		fd.Segments = append(fd.Segments, segment{X: x, Width: w, Colour: "#9c9c9c", Name: name, Size: bytesize.Binary(code)})
	}
	fd.bytes = total
	fd.Size = bytesize.Binary(total)
	fd.Percent = fmt.Sprintf("%.0f%% of the limit", 100*float64(total)/float64(limit))
	fd.Over = total > limit && !image
	if image {
		// The zip limit does not bind an image (10 GB): the line shows
		// what it would have had to fit.
		fd.Percent = "an image: the limit does not apply"
	}
	if f.ByteCodeBytes > 0 && total > 0 {
		fd.ByteCode = fmt.Sprintf("byte code %s (%.0f%%)", bytesize.Binary(f.ByteCodeBytes), 100*float64(f.ByteCodeBytes)/float64(total))
		fd.ByteCodeOver = manifest.ByteCodePushesOver(f.UnzippedBytes, f.ByteCodeBytes, limit)
	}
	fd.LimitX = barWidth * float64(limit) / scale
	fd.Verdict, fd.VerdictClass = "sizes only", "none"
	if r == nil {
		return fd
	}
	fd.Result = r
	fd.Verdict, fd.VerdictClass = "verified", "ok"
	if r.Failed(false) {
		fd.Verdict, fd.VerdictClass = "FAILED", "failed"
	} else if r.Unverified != "" {
		fd.Verdict, fd.VerdictClass = "not verified: "+r.Unverified, "none"
	}
	if r.ImportMicros != nil && maxImport > 0 {
		fd.Import = verify.Millis(*r.ImportMicros)
		fd.ImportWidth = importWidth * float64(*r.ImportMicros) / float64(maxImport)
		if n := r.SourceImportMicros; n != nil {
			fd.NoByteCode = verify.Millis(*n)
			fd.NoByteCodeWidth = importWidth * float64(*n) / float64(maxImport)
			if *n > 0 {
				fd.Gain = fmt.Sprintf("%.0f%% faster", 100*(1-float64(*r.ImportMicros)/float64(*n)))
			}
		}
	}
	var slowest int64
	for _, m := range r.Slowest {
		slowest = max(slowest, m.Micros)
	}
	for _, m := range r.Slowest {
		s := slow{Module: m.Module, Time: verify.Millis(m.Micros)}
		if slowest > 0 {
			s.Width = slowWidth * float64(m.Micros) / float64(slowest)
		}
		fd.Slowest = append(fd.Slowest, s)
	}
	for _, m := range r.Modules {
		switch m.Status {
		case verify.StatusFailed:
			fd.Failures = append(fd.Failures, m)
		case verify.StatusOptional:
			fd.Optional = append(fd.Optional, m)
		}
	}
	for _, p := range r.Problems {
		fd.Problems = append(fd.Problems, p.String())
	}
	return fd
}
