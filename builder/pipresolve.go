package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/atomicfile"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/redact"
	"github.com/layers-dev/layers/remote"
	"github.com/layers-dev/layers/resolver"
)

// resolutionFormat versions the resolution cache's files and keys: a
// change in what a resolution records must not serve old answers.
const resolutionFormat = 1

// Paths inside the resolving container.
const (
	resolveSrc    = "/layers-in/src" // local packages, at their repository paths
	resolveReport = "/out/report.json"
)

// PipRequest is one function's unpinned inputs, to resolve for one target
// in its build image. The index options reach pip through the environment
// only; the selection of extras and groups is part of the cache key.
type PipRequest struct {
	// Function names the function, for messages.
	Function string
	Target   config.Target
	// Image is the build image; an empty ID asks the cache for the latest
	// resolution of the same inputs in any image (plan without an engine).
	Image Image
	resolver.Request
}

// PipResolverOptions configure a PipResolver.
type PipResolverOptions struct {
	// Engine runs pip; nil makes a PipResolver that only reads its cache.
	Engine engine.Engine
	// CacheDir is the cache's folder: resolutions live under
	// CacheDir/resolutions.
	CacheDir string
	// CABundle, when set, is a PEM bundle pip trusts in the container.
	CABundle []byte
	// Env holds KEY=value pairs the container gets, as Options.Env.
	Env []string
	// Tool is the layers version, part of every cache key.
	Tool string
	// Root is the repository root local paths are relative to.
	Root string
	// Remote, when not nil, is the remote tier behind the local cache.
	Remote *remote.Tier
}

// PipResolver completes the closures no lock pins with pip's own resolver
// in the build image, for the target's Python and platform tags, and
// caches the answers by a digest of everything that can change them.
type PipResolver struct {
	o PipResolverOptions
}

// NewPipResolver returns a PipResolver.
func NewPipResolver(o PipResolverOptions) (*PipResolver, error) {
	if o.CacheDir == "" || o.Tool == "" {
		return nil, errors.New("pip resolver: a cache folder and the tool version are needed")
	}
	return &PipResolver{o: o}, nil
}

// ResolveError is a resolution pip refused or failed.
type ResolveError struct {
	Function string
	Target   config.Target
	Err      error
	// Tail holds pip's last lines, credentials redacted.
	Tail string
	// why is what pip's whole output says of the failure.
	why pipFailure
}

func (e *ResolveError) Error() string {
	if e.why == pipTLS {
		return fmt.Sprintf("resolve function %s (%s): %s", e.Function, e.Target, tlsAdvice)
	}
	msg := fmt.Sprintf("resolve function %s (%s): %v", e.Function, e.Target, e.Err)
	if e.Tail != "" {
		msg += "\npip's last lines:\n" + indent(e.Tail)
	}
	return msg
}

// Unsatisfiable reports that pip reached the index and found no release
// that satisfies the inputs: the inputs' fault, not the machine's.
func (e *ResolveError) Unsatisfiable() bool { return e.why == pipUnsatisfiable }

// TLS reports that pip failed on the index's TLS certificate.
func (e *ResolveError) TLS() bool { return e.why == pipTLS }

func (e *ResolveError) Unwrap() error { return e.Err }

// Cached returns the cached resolution of req, if there is one: from the
// local cache, else from the remote tier, whose answer the local cache
// then keeps.
func (r *PipResolver) Cached(ctx context.Context, req PipRequest) ([]resolver.Package, bool, error) {
	inputs, err := r.inputsKey(req)
	if err != nil {
		return nil, false, err
	}
	name := "any-" + inputs
	if req.Image.ID != "" {
		name = fullKey(inputs, req.Image.ID)
	}
	path := filepath.Join(r.dir(), name+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		// A missing or unreadable entry is a local miss.
		if data, err = r.o.Remote.Fetch(ctx, remote.ResolutionKey(name+".json")); err != nil {
			return nil, false, nil
		}
		if os.MkdirAll(r.dir(), 0o755) == nil {
			_ = atomicfile.WriteFile(path, data, 0o644)
		}
	}
	var f resolutionFile
	if json.Unmarshal(data, &f) != nil || f.Format != resolutionFormat {
		return nil, false, nil
	}
	// The modification time is the last use `layers cache prune` ages
	// entries by; a read-only cache still serves the hit.
	now := time.Now()
	_ = os.Chtimes(path, now, now)
	return withInputURLs(f.Packages, req), true, nil
}

// Resolve returns the closure of req: from the cache when it has it, else
// from pip in the build image. cached says which.
func (r *PipResolver) Resolve(ctx context.Context, req PipRequest) (pkgs []resolver.Package, cached bool, err error) {
	if req.Image.ID == "" {
		return nil, false, fmt.Errorf("function %s: resolving needs a build image", req.Function)
	}
	if pkgs, ok, err := r.Cached(ctx, req); err != nil || ok {
		return pkgs, ok, err
	}
	if r.o.Engine == nil {
		return nil, false, fmt.Errorf("function %s: resolving needs a container engine", req.Function)
	}
	spec, err := r.runSpec(req)
	if err != nil {
		return nil, false, err
	}
	var data []byte
	// Retried from scratch when the engine fails mid-run (a pool's
	// engine), as the builder's batches are.
	err = engine.Retry(ctx, func(ctx context.Context) error {
		var err error
		data, err = r.run(ctx, req, spec)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	pkgs, err = ParseReport(data, resolveSrc)
	if err != nil {
		return nil, false, &ResolveError{Function: req.Function, Target: req.Target, Err: err}
	}
	pkgs = withInputURLs(pkgs, req)
	if err := r.store(ctx, req, pkgs); err != nil {
		return nil, false, err
	}
	return pkgs, false, nil
}

// run runs spec, which resolves req, in a fresh folder and returns the
// report pip wrote.
func (r *PipResolver) run(ctx context.Context, req PipRequest, spec engine.RunSpec) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "layers-resolve-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tail := engine.NewTailBuffer(16 << 10)
	spec.Stdout, spec.Stderr = tail, tail
	spec.Out = []engine.CopyOut{{Path: path.Dir(resolveReport), Extract: func(rd io.Reader) error {
		_, err := archive.ExtractTar(rd, tmp)
		return err
	}}}
	if err := r.o.Engine.Run(ctx, spec); err != nil {
		var failed *engine.FailedError
		if ctx.Err() != nil {
			return nil, ctx.Err()
		} else if errors.As(err, &failed) {
			return nil, err
		}
		var ee *engine.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("pip failed (exit status %d)", ee.Code)
		}
		out := tail.String()
		return nil, &ResolveError{Function: req.Function, Target: req.Target, Err: err, Tail: lastLines(out, 15), why: diagnosePip(out)}
	}
	data, err := os.ReadFile(filepath.Join(tmp, path.Base(resolveReport)))
	if err != nil {
		return nil, &ResolveError{Function: req.Function, Target: req.Target, Err: fmt.Errorf("pip wrote no report: %w", err)}
	}
	return data, nil
}

// runSpec returns the container run that resolves req and writes pip's
// report to resolveReport.
func (r *PipResolver) runSpec(req PipRequest) (engine.RunSpec, error) {
	reqText, locals, err := requirementsText(req.Requirements)
	if err != nil {
		return engine.RunSpec{}, fmt.Errorf("function %s: %w", req.Function, err)
	}
	conText, conLocals, err := requirementsText(req.Constraints)
	if err != nil {
		return engine.RunSpec{}, fmt.Errorf("function %s: %w", req.Function, err)
	}
	bin, err := binaryArgs(req.Target)
	if err != nil {
		return engine.RunSpec{}, err
	}
	// Requirements go in files, not on the command line: URLs may carry
	// credentials. --target is what lets pip take --platform; the dry run
	// writes nothing there.
	files := []archive.File{inFile("requirements.txt", []byte(reqText))}
	args := []string{"python3", "-m", "pip", "install", "--dry-run", "--ignore-installed",
		"--target", "/tmp/layers-resolve", "--report", resolveReport, "--quiet",
		"--root-user-action=ignore", "--disable-pip-version-check", "--no-input", "--progress-bar", "off"}
	args = append(args, bin...)
	args = append(args, "-r", path.Join(inDir, "requirements.txt"))
	if len(req.Constraints) > 0 {
		files = append(files, inFile("constraints.txt", []byte(conText)))
		args = append(args, "-c", path.Join(inDir, "constraints.txt"))
	}
	for _, rel := range slices.Sorted(slices.Values(append(locals, conLocals...))) {
		src, err := r.localSource(rel)
		if err != nil {
			return engine.RunSpec{}, fmt.Errorf("function %s: %w", req.Function, err)
		}
		files = append(files, src...)
	}
	files, env := withCA(files, r.o.Env, r.o.CABundle)
	env = mergeEnv(env, indexEnv(req.Index, ""))
	return engine.RunSpec{
		Image:    req.Image.ID,
		Platform: req.Image.Platform,
		Cmd:      []string{"sh", "-c", "mkdir -p " + path.Dir(resolveReport) + " && " + shellJoin(args)},
		Env:      env,
		Labels:   map[string]string{"layers.target": req.Target.String(), "layers.resolve": req.Function},
		In:       []engine.CopyIn{{Dir: "/", Files: files}},
	}, nil
}

// localSource returns the files of a local package (a folder or an
// archive) under resolveSrc at its repository path.
func (r *PipResolver) localSource(rel string) ([]archive.File, error) {
	dst := path.Join(strings.TrimPrefix(resolveSrc, "/"), rel)
	abs := filepath.Join(r.o.Root, filepath.FromSlash(rel))
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("local package %s: %w", rel, err)
	}
	if !fi.IsDir() {
		return []archive.File{{Name: dst, Size: fi.Size(), Open: func() (io.ReadCloser, error) { return os.Open(abs) }}}, nil
	}
	files, err := digest.LocalPackageFiles(r.o.Root, rel)
	if err != nil {
		return nil, err
	}
	for i := range files {
		files[i].Name = path.Join(dst, files[i].Name)
	}
	return files, nil
}

// requirementsText writes reqs as a requirements file for the container,
// local paths pointing under resolveSrc, and returns the local paths.
func requirementsText(reqs []resolver.Requirement) (string, []string, error) {
	var b strings.Builder
	var locals []string
	for _, r := range reqs {
		var line string
		switch {
		case r.LocalPath != "":
			if strings.HasPrefix(r.LocalPath, "../") || path.IsAbs(r.LocalPath) {
				return "", nil, fmt.Errorf("%s:%d: local package %s lies outside the repository", r.Path, r.Line, r.LocalPath)
			}
			locals = append(locals, r.LocalPath)
			u := "file://" + path.Join(resolveSrc, r.LocalPath)
			if r.Name == "" {
				line = path.Join(resolveSrc, r.LocalPath)
				break
			}
			line = withExtras(r.Name, r.Extras) + " @ " + u
		case r.URL != "" && r.Name == "":
			line = r.URL
		case r.URL != "":
			line = withExtras(r.Name, r.Extras) + " @ " + r.URL
		default:
			line = withExtras(r.Name, r.Extras) + r.Specifier.String()
		}
		b.WriteString(line)
		for _, h := range r.Hashes {
			b.WriteString(" --hash=" + h)
		}
		b.WriteString("\n")
	}
	return b.String(), locals, nil
}

func withExtras(name string, extras []string) string {
	if len(extras) == 0 {
		return name
	}
	return name + "[" + strings.Join(extras, ",") + "]"
}

// inputsKey digests everything but the image that can change req's
// answer: the requirements as pip reads them (credentials redacted), the
// index options, local packages' sources, the selection, the target and
// the tool's version.
func (r *PipResolver) inputsKey(req PipRequest) (string, error) {
	reqText, locals, err := requirementsText(req.Requirements)
	if err != nil {
		return "", err
	}
	conText, conLocals, err := requirementsText(req.Constraints)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "resolution %d\ntool %s\ntarget %s\n", resolutionFormat, r.o.Tool, req.Target)
	fmt.Fprintf(h, "requirements\n%s\nconstraints\n%s\n", redact.Text(reqText), redact.Text(conText))
	for _, kv := range indexEnv(req.Index, "") {
		k, v, _ := strings.Cut(kv, "=")
		var urls []string
		for _, u := range strings.Fields(v) {
			urls = append(urls, redact.URL(u))
		}
		fmt.Fprintf(h, "index %s %s\n", k, strings.Join(urls, " "))
	}
	fmt.Fprintf(h, "selection %s\n", strings.Join(req.Selection, " "))
	for _, rel := range slices.Sorted(slices.Values(append(locals, conLocals...))) {
		files, err := r.localSource(rel)
		if err != nil {
			return "", err
		}
		sum, err := digest.Files(files)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "local %s %s\n", rel, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fullKey(inputs, imageID string) string {
	return hashString(inputs + "\x00" + imageID)
}

// resolutionFile is one cached resolution.
type resolutionFile struct {
	Format   int                `json:"format"`
	Function string             `json:"function"` // for people reading the cache
	ImageID  string             `json:"image_id"`
	Packages []resolver.Package `json:"packages"`
}

func (r *PipResolver) dir() string { return filepath.Join(r.o.CacheDir, cache.ResolutionsDir) }

// store writes a resolution under its full key and as the latest of its
// inputs in any image, each through a temporary file and a rename so that
// concurrent builds never read half a file. URLs lose their credentials:
// withInputURLs puts them back from the inputs.
func (r *PipResolver) store(ctx context.Context, req PipRequest, pkgs []resolver.Package) error {
	inputs, err := r.inputsKey(req)
	if err != nil {
		return err
	}
	f := resolutionFile{Format: resolutionFormat, Function: req.Function, ImageID: req.Image.ID}
	for _, p := range pkgs {
		p.URL = redact.URL(p.URL)
		f.Packages = append(f.Packages, p)
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.dir(), 0o755); err != nil {
		return fmt.Errorf("resolution cache: %w", err)
	}
	for _, name := range []string{fullKey(inputs, req.Image.ID), "any-" + inputs} {
		if err := atomicfile.WriteFile(filepath.Join(r.dir(), name+".json"), data, 0o644); err != nil {
			return fmt.Errorf("resolution cache: %w", err)
		}
		// The full key names one answer; "any-" is the latest, rewritten.
		r.o.Remote.Store(ctx, remote.ResolutionKey(name+".json"), data, name != "any-"+inputs)
	}
	return nil
}

// withInputURLs gives url packages the URL their requirement names, which
// may carry credentials the report and the cache do not.
func withInputURLs(pkgs []resolver.Package, req PipRequest) []resolver.Package {
	urls := map[string]string{}
	for _, r := range append(slices.Clone(req.Requirements), req.Constraints...) {
		if r.URL != "" && r.LocalPath == "" && r.Name != "" {
			urls[r.Name] = r.URL
		}
	}
	for i, p := range pkgs {
		if u, ok := urls[p.Name]; ok && p.Source == resolver.SourceURL {
			pkgs[i].URL = u
		}
	}
	return pkgs
}

// pipReport is the part of pip's installation report
// (https://pip.pypa.io/en/stable/reference/installation-report/) a
// resolution needs.
type pipReport struct {
	Version string `json:"version"`
	Install []struct {
		IsDirect     bool `json:"is_direct"`
		DownloadInfo struct {
			URL         string `json:"url"`
			ArchiveInfo *struct {
				Hash   string            `json:"hash"`
				Hashes map[string]string `json:"hashes"`
			} `json:"archive_info"`
			VCSInfo *struct {
				VCS      string `json:"vcs"`
				CommitID string `json:"commit_id"`
			} `json:"vcs_info"`
			DirInfo *struct{} `json:"dir_info"`
		} `json:"download_info"`
		Metadata struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"metadata"`
	} `json:"install"`
}

// ParseReport turns pip's JSON installation report into a closure, sorted
// by name: index packages as registry packages with their artifact's
// hash, file URLs under srcRoot (where local packages were copied) as
// local packages at their repository path, other direct references as url
// packages.
func ParseReport(data []byte, srcRoot string) ([]resolver.Package, error) {
	var rep pipReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("pip's report: %w", err)
	}
	if rep.Version != "1" {
		return nil, fmt.Errorf("pip's report has version %q; this layers reads version 1", rep.Version)
	}
	pkgs := make([]resolver.Package, 0, len(rep.Install))
	for _, it := range rep.Install {
		name := pep508.NormalizeName(it.Metadata.Name)
		if !pep508.ValidName(it.Metadata.Name) || it.Metadata.Version == "" {
			return nil, fmt.Errorf("pip's report: an entry without a valid name and version (%q %q)", it.Metadata.Name, it.Metadata.Version)
		}
		p := resolver.Package{Name: name, Version: it.Metadata.Version, Source: resolver.SourceRegistry}
		di := it.DownloadInfo
		switch {
		case strings.HasPrefix(di.URL, "file:"):
			u, err := url.Parse(di.URL)
			if err != nil {
				return nil, fmt.Errorf("pip's report: %s: %w", name, err)
			}
			rel, ok := strings.CutPrefix(path.Clean(u.Path), strings.TrimSuffix(srcRoot, "/")+"/")
			if !ok {
				return nil, fmt.Errorf("pip's report: %s comes from %s, outside the repository", name, u.Path)
			}
			p.Source, p.Path = resolver.SourceLocal, rel
		case it.IsDirect:
			p.Source, p.URL = resolver.SourceURL, di.URL
			if di.VCSInfo != nil {
				p.URL = di.VCSInfo.VCS + "+" + di.URL + "@" + di.VCSInfo.CommitID
			}
		}
		if di.ArchiveInfo != nil && p.Source != resolver.SourceLocal {
			for _, algo := range slices.Sorted(maps.Keys(di.ArchiveInfo.Hashes)) {
				p.Hashes = append(p.Hashes, algo+":"+di.ArchiveInfo.Hashes[algo])
			}
			if len(p.Hashes) == 0 && di.ArchiveInfo.Hash != "" {
				p.Hashes = []string{strings.Replace(di.ArchiveInfo.Hash, "=", ":", 1)}
			}
			if p.Source == resolver.SourceRegistry {
				if u, err := url.Parse(di.URL); err == nil && strings.HasSuffix(u.Path, ".whl") {
					p.Wheels = []resolver.Wheel{{Filename: path.Base(u.Path)}}
					if len(p.Hashes) > 0 {
						p.Wheels[0].Hash = p.Hashes[0]
					}
				}
			}
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	for i := 1; i < len(pkgs); i++ {
		if pkgs[i].Name == pkgs[i-1].Name {
			return nil, fmt.Errorf("pip's report installs %s twice", pkgs[i].Name)
		}
	}
	return pkgs, nil
}

// lastLines returns the last n non-blank lines of s, credentials redacted.
func lastLines(s string, n int) string {
	lines := slices.DeleteFunc(strings.Split(s, "\n"), func(l string) bool { return strings.TrimSpace(l) == "" })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return redact.Text(strings.Join(lines, "\n"))
}
