package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/bytesize"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/parallel"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/remote"
	"github.com/layers-dev/layers/stamp"
)

// Options are a publish run's settings beyond layers.toml.
type Options struct {
	// Region and Profile override [publish] region and profile ("" for
	// none).
	Region, Profile string
	// Outputs is the outputs file, as given (relative to the working
	// directory); "" means [publish] outputs under the root.
	Outputs string
	// DryRun decides every action and changes nothing: no upload, no
	// version, no permission, no outputs file.
	DryRun bool
	// Jobs bounds the layers handled at once; 0 means 4.
	Jobs int
	// Tool is the layers version, as `layers build` was given it: part of
	// the inputs digest that tells a stale manifest.
	Tool string
	// Getenv reads the environment (SOURCE_DATE_EPOCH); nil means os.Getenv.
	Getenv func(string) string
	// Images pushes the functions packaged as images; a manifest with
	// images and no Images is an error before anything is published.
	Images ImagePublisher
	// Progress receives one line per step; nil discards them.
	Progress func(string)
	// CacheURL and CacheReadOnly select the remote tier (see
	// remote.SettingsFor) that the published plan is stored in, so that a
	// fresh runner plans from what is live in AWS.
	CacheURL      string
	CacheReadOnly bool

	// backoff replaces the retry backoff in tests.
	backoff retry.BackoffDelayer
	// multipartThreshold replaces the transfer manager's in tests.
	multipartThreshold int64
}

const defaultJobs = 4

// Action is what publish did, or would do, for a layer.
type Action string

const (
	ActionReuse     Action = "reuse"      // a version with the same content exists
	ActionPublish   Action = "publish"    // a new version from the inline zip
	ActionPublishS3 Action = "publish-s3" // a new version from the zip in S3
)

// LayerResult is what happened to one layer.
type LayerResult struct {
	Name   string
	Action Action
	// Version and ARN are the version used; 0 and "" in a dry run that
	// would publish, and when Err is set.
	Version int64
	ARN     string
	// S3Key is the zip's object for ActionPublishS3.
	S3Key string
	// UploadedBytes is the zip bytes sent, inline or to S3 (0 for a reuse
	// or an object already in the bucket), or that would be in a dry run.
	UploadedBytes int64
	// SharesAdded and SharesRemoved count permission statements changed.
	SharesAdded, SharesRemoved int
	Err                        error
}

// ImageOutcome is what happened to one function's image.
type ImageOutcome struct {
	Function, Runtime, Architecture string
	Result                          ImageResult
	Err                             error
}

// Result is a publish run.
type Result struct {
	DryRun bool
	Layers []LayerResult // by name
	Images []ImageOutcome
	// Outputs are what was written to OutputsPath; nil when the run failed
	// or was a dry run.
	Outputs     *Outputs
	OutputsPath string
	// PlanStored is where the published plan was stored for the next
	// fresh runner ("" when there is no writable remote tier).
	PlanStored string
}

// job is one distinct layer of the manifest and the targets it serves.
type job struct {
	layer manifest.Layer
	spec  layerSpec
	path  string
	viaS3 bool
}

// Publish publishes the build of the repository cfg describes: every layer
// of .layers/build.json as a Lambda layer version (reusing one with the
// same content), shared as [publish] share_with says, every image through
// o.Images, and the outputs file for infrastructure code. It never builds.
//
// Layers are independent: when some fail the others still finish, the
// Result says which were published, no outputs file is written, and the
// error names the failures. A rerun reuses what the failed run published.
func Publish(ctx context.Context, cfg *config.Config, o Options) (*Result, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Jobs <= 0 {
		o.Jobs = defaultJobs
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	unlock, err := manifest.Lock(ctx, cfg.Root, func() {
		progress(fmt.Sprintf("waiting for another layers run on %s to finish", manifest.Dir))
	})
	if err != nil {
		return nil, err
	}
	defer unlock()
	m, err := stamp.ReadFresh(ctx, cfg, o.Tool, o.Getenv)
	if err != nil {
		return nil, err
	}
	jobs, err := prepare(cfg, m)
	if err != nil {
		return nil, err
	}
	if o.Images == nil {
		for _, t := range m.Targets {
			if len(t.Images) > 0 {
				return nil, fmt.Errorf("function %s (%s/%s) is packaged as a container image and this run has no image publisher", t.Images[0].Function, t.Runtime, t.Architecture)
			}
		}
	}
	awsCfg, err := LoadAWSConfig(ctx, withBackoff(AWSOptionsFor(cfg, o.Region, o.Profile), o.backoff))
	if err != nil {
		return nil, err
	}
	p := &publisher{
		cfg: cfg, o: o, progress: progress,
		lambda: newLambda(awsCfg), s3: newS3(awsCfg), policy: NewRetryer(o.backoff),
	}
	res := &Result{DryRun: o.DryRun, Layers: make([]LayerResult, len(jobs))}
	forEach(ctx, o.Jobs, len(jobs), func(i int) {
		res.Layers[i] = p.layer(ctx, jobs[i])
	}, func(i int, err error) {
		res.Layers[i] = LayerResult{Name: jobs[i].layer.Name, Err: err}
	})
	var failed []string
	for _, l := range res.Layers {
		if l.Err != nil {
			failed = append(failed, l.Name)
		}
	}
	if len(failed) > 0 {
		return res, &PartialError{Failed: failed, Errs: layerErrs(res.Layers)}
	}
	byName := map[string]LayerResult{}
	for _, l := range res.Layers {
		byName[l.Name] = l
	}
	res.Images = p.images(ctx, m)
	for _, im := range res.Images {
		if im.Err != nil {
			return res, fmt.Errorf("image of function %s (%s/%s): %w", im.Function, im.Runtime, im.Architecture, im.Err)
		}
	}
	if o.DryRun {
		return res, nil
	}
	out := outputs(awsCfg.Region, m, byName, res.Images)
	path := o.Outputs
	if path == "" {
		path = filepath.Join(cfg.Root, filepath.FromSlash(cfg.Publish.Outputs))
	}
	if err := WriteOutputs(path, out); err != nil {
		return res, err
	}
	res.Outputs, res.OutputsPath = out, path
	res.PlanStored = p.storePlan(ctx)
	return res, nil
}

func withBackoff(a AWSOptions, b retry.BackoffDelayer) AWSOptions {
	a.backoff = b
	return a
}

// prepare returns the distinct layers of m, sorted by name, after checking
// what can be checked before any call: each zip is the one built, a layer
// name means one content, and a zip too big to send inline has a bucket.
func prepare(cfg *config.Config, m *manifest.Manifest) ([]*job, error) {
	byName := map[string]*job{}
	for _, t := range m.Targets {
		for _, l := range t.Layers {
			j, ok := byName[l.Name]
			if !ok {
				j = &job{layer: l, spec: layerSpec{Name: l.Name, SHA256: l.SHA256, CodeSha256: l.CodeSha256},
					path: filepath.Join(cfg.Root, filepath.FromSlash(l.File))}
				byName[l.Name] = j
			} else if j.layer.SHA256 != l.SHA256 {
				return nil, fmt.Errorf("%s: layer %s has two contents (%s and %s): run `layers build`", manifest.File, l.Name, j.layer.SHA256, l.SHA256)
			}
			if !slices.Contains(j.spec.Runtimes, t.Runtime) {
				j.spec.Runtimes = append(j.spec.Runtimes, t.Runtime)
			}
			if !slices.Contains(j.spec.Architectures, t.Architecture) {
				j.spec.Architectures = append(j.spec.Architectures, t.Architecture)
			}
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range byName {
			if !yield(n) {
				return
			}
		}
	})
	jobs := make([]*job, 0, len(names))
	var tooBig []string
	for _, n := range names {
		j := byName[n]
		sum, _, size, err := digest.File(j.path)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w: run `layers build`", n, err)
		}
		if sum != j.layer.SHA256 || size != j.layer.ZippedBytes {
			return nil, fmt.Errorf("layer %s: %s changed since the build: run `layers build`", n, j.layer.File)
		}
		if size > cfg.Publish.InlineMaxBytes {
			j.viaS3 = true
			if cfg.Publish.S3Bucket == "" {
				tooBig = append(tooBig, fmt.Sprintf("%s (%d bytes)", n, size))
			}
		}
		jobs = append(jobs, j)
	}
	if len(tooBig) > 0 {
		return nil, fmt.Errorf("layers over [publish] inline_max_bytes = %d must go through S3, and [publish] s3_bucket is not set: %s", cfg.Publish.InlineMaxBytes, strings.Join(tooBig, ", "))
	}
	return jobs, nil
}

// publisher holds a run's clients.
type publisher struct {
	cfg      *config.Config
	o        Options
	progress func(string)
	lambda   Lambda
	s3       S3
	policy   aws.RetryerV2
}

// layer finds or publishes one layer's version, then shares it.
func (p *publisher) layer(ctx context.Context, j *job) LayerResult {
	r := LayerResult{Name: j.layer.Name, Action: ActionPublish}
	if j.viaS3 {
		r.Action = ActionPublishS3
		r.S3Key = objectKey(p.cfg.Publish.S3Prefix, j.layer.SHA256)
	}
	fail := func(err error) LayerResult {
		r.Err = err
		p.progress(fmt.Sprintf("layer %s: failed: %v", r.Name, err))
		return r
	}
	v, err := findVersion(ctx, p.lambda, j.spec)
	if err != nil {
		return fail(err)
	}
	if v != nil {
		r.Action, r.Version, r.ARN = ActionReuse, v.Number, v.ARN
		p.progress(fmt.Sprintf("layer %s: reuse version %d", r.Name, v.Number))
		return p.share(ctx, r, fail)
	}
	if p.o.DryRun {
		if j.viaS3 {
			there, err := objectExists(ctx, p.s3, p.cfg.Publish.S3Bucket, r.S3Key, j.layer.ZippedBytes)
			if err != nil {
				return fail(err)
			}
			if !there {
				r.UploadedBytes = j.layer.ZippedBytes
			}
		} else {
			r.UploadedBytes = j.layer.ZippedBytes
		}
		p.progress(fmt.Sprintf("layer %s: would %s", r.Name, describe(r, true)))
		return r
	}
	in := &lambda.PublishLayerVersionInput{
		LayerName:   aws.String(j.layer.Name),
		Description: aws.String(description(j.layer.SHA256, j.layer.Packages)),
		Content:     &types.LayerVersionContentInput{},
	}
	for _, rt := range j.spec.Runtimes {
		in.CompatibleRuntimes = append(in.CompatibleRuntimes, types.Runtime(rt))
	}
	for _, a := range j.spec.Architectures {
		in.CompatibleArchitectures = append(in.CompatibleArchitectures, types.Architecture(a))
	}
	if p.cfg.Publish.LicenseInfo != "" {
		in.LicenseInfo = aws.String(p.cfg.Publish.LicenseInfo)
	}
	if j.viaS3 {
		n, err := uploadZip(ctx, p.s3, p.cfg.Publish.S3Bucket, r.S3Key, j.path, j.layer.ZippedBytes, p.o.multipartThreshold)
		if err != nil {
			return fail(err)
		}
		r.UploadedBytes = n
		in.Content.S3Bucket, in.Content.S3Key = aws.String(p.cfg.Publish.S3Bucket), aws.String(r.S3Key)
	} else {
		zip, err := os.ReadFile(j.path)
		if err != nil {
			return fail(fmt.Errorf("layer %s: %w", r.Name, err))
		}
		in.Content.ZipFile = zip
		r.UploadedBytes = int64(len(zip))
	}
	v, err = publishVersion(ctx, p.lambda, p.policy, j.spec, in)
	if err != nil {
		return fail(err)
	}
	r.Version, r.ARN = v.Number, v.ARN
	p.progress(fmt.Sprintf("layer %s: published version %d", r.Name, v.Number))
	return p.share(ctx, r, fail)
}

func (p *publisher) share(ctx context.Context, r LayerResult, fail func(error) LayerResult) LayerResult {
	if p.o.DryRun {
		return r
	}
	// A version just published has no policy: nothing to read or remove.
	if r.Action != ActionReuse && len(p.cfg.Publish.ShareWith) == 0 {
		return r
	}
	added, removed, err := share(ctx, p.lambda, p.policy, r.Name, r.Version, p.cfg.Publish.ShareWith)
	r.SharesAdded, r.SharesRemoved = added, removed
	if err != nil {
		return fail(err)
	}
	return r
}

// images publishes the image of every function packaged as one.
func (p *publisher) images(ctx context.Context, m *manifest.Manifest) []ImageOutcome {
	type image struct {
		t   manifest.Target
		img manifest.Image
	}
	var todo []image
	for _, t := range m.Targets {
		for _, img := range t.Images {
			todo = append(todo, image{t, img})
		}
	}
	out := make([]ImageOutcome, len(todo))
	for i, im := range todo {
		out[i] = ImageOutcome{Function: im.img.Function, Runtime: im.t.Runtime, Architecture: im.t.Architecture}
	}
	forEach(ctx, p.o.Jobs, len(todo), func(i int) {
		t, img := todo[i].t, todo[i].img
		res, err := p.o.Images.PublishImage(ctx, t, img, p.o.DryRun)
		if err == nil {
			verb := "pushed"
			if !res.Pushed {
				verb = "already in the registry"
			}
			if p.o.DryRun {
				verb = "checked"
			}
			p.progress(fmt.Sprintf("image %s (%s/%s): %s %s", img.Function, t.Runtime, t.Architecture, verb, res.URI))
		}
		out[i].Result, out[i].Err = res, err
	}, func(i int, err error) { out[i].Err = err })
	return out
}

// forEach calls fn(i) for i in [0, n), at most jobs at once, and keeps
// going when some fail: each call records its own outcome. Once ctx is
// done it starts no more calls; each item left gets skipped(i, ctx.Err())
// instead, so that every item still has an outcome.
func forEach(ctx context.Context, jobs, n int, fn func(i int), skipped func(i int, err error)) {
	ran := make([]bool, n)
	err := parallel.ForEach(ctx, jobs, n, func(_ context.Context, i int) error {
		ran[i] = true
		fn(i)
		return nil
	})
	if err == nil {
		return
	}
	for i, ok := range ran {
		if !ok {
			skipped(i, err)
		}
	}
}

// outputs assembles the outputs of a run where every layer and image
// resolved.
func outputs(region string, m *manifest.Manifest, layers map[string]LayerResult, images []ImageOutcome) *Outputs {
	out := &Outputs{Format: OutputsFormat, Region: region, InputsSHA256: m.InputsSHA256,
		Functions: map[string]map[string]FunctionOutput{}, Layers: map[string]LayerOutput{}}
	uri := map[[3]string]string{}
	for _, im := range images {
		uri[[3]string{im.Function, im.Runtime, im.Architecture}] = im.Result.URI
	}
	for _, t := range m.Targets {
		for _, l := range t.Layers {
			r := layers[l.Name]
			lo := out.Layers[l.Name]
			if lo.ARN == "" {
				lo = LayerOutput{ARN: r.ARN, LayerARN: layerARN(r.ARN), Version: r.Version, SHA256: l.SHA256, CodeSha256: l.CodeSha256,
					CompatibleRuntimes: []string{}, CompatibleArchitectures: []string{}}
			}
			if !slices.Contains(lo.CompatibleRuntimes, t.Runtime) {
				lo.CompatibleRuntimes = append(lo.CompatibleRuntimes, t.Runtime)
			}
			if !slices.Contains(lo.CompatibleArchitectures, t.Architecture) {
				lo.CompatibleArchitectures = append(lo.CompatibleArchitectures, t.Architecture)
			}
			out.Layers[l.Name] = lo
			if out.Account == "" {
				out.Account = arnAccount(r.ARN)
			}
		}
		add := func(fn string, f FunctionOutput) {
			if out.Functions[fn] == nil {
				out.Functions[fn] = map[string]FunctionOutput{}
			}
			out.Functions[fn][t.Architecture] = f
		}
		for _, f := range t.Functions {
			fo := FunctionOutput{Runtime: t.Runtime, PackageType: string(f.PackageType), Layers: []string{}}
			if fo.PackageType == "" {
				fo.PackageType = config.PackageLayers
			}
			if fo.PackageType == config.PackageImage {
				fo.ImageURI = uri[[3]string{f.Name, t.Runtime, t.Architecture}]
			} else {
				for _, name := range f.Layers {
					fo.Layers = append(fo.Layers, layers[name].ARN)
				}
			}
			add(f.Name, fo)
		}
		for _, img := range t.Images {
			if _, ok := out.Functions[img.Function][t.Architecture]; !ok {
				add(img.Function, FunctionOutput{Runtime: t.Runtime, PackageType: config.PackageImage, Layers: []string{},
					ImageURI: uri[[3]string{img.Function, t.Runtime, t.Architecture}]})
			}
		}
	}
	return out
}

// layerARN drops the version from a layer version ARN.
func layerARN(versionARN string) string {
	if i := strings.LastIndexByte(versionARN, ':'); i > 0 {
		return versionARN[:i]
	}
	return versionARN
}

// arnAccount returns the account field of an ARN.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// PartialError is a run where some layers failed; the others were
// published (see Result.Layers) and a rerun reuses them.
type PartialError struct {
	Failed []string
	Errs   []error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d layer(s) failed, no outputs written: %v", len(e.Failed), errors.Join(e.Errs...))
}

func (e *PartialError) Unwrap() []error { return e.Errs }

func layerErrs(ls []LayerResult) []error {
	var errs []error
	for _, l := range ls {
		if l.Err != nil {
			errs = append(errs, l.Err)
		}
	}
	return errs
}

// describe says what happened (or, dry, would happen) to a layer.
func describe(r LayerResult, dry bool) string {
	switch {
	case r.Err != nil:
		return "failed"
	case r.Action == ActionReuse && dry:
		return fmt.Sprintf("reuse version %d", r.Version)
	case r.Action == ActionReuse:
		return "reused"
	case r.Action == ActionPublishS3 && r.UploadedBytes > 0 && dry:
		return "upload to S3 then publish"
	case r.Action == ActionPublishS3 && dry:
		return "publish from S3 (already uploaded)"
	case dry:
		return "publish"
	case r.Action == ActionPublishS3 && r.UploadedBytes > 0:
		return "uploaded to S3, published"
	case r.Action == ActionPublishS3:
		return "published from S3"
	default:
		return "published"
	}
}

// WriteSummary writes a table of the run's layers and images to w.
func (r *Result) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LAYER\tACTION\tVERSION\tUPLOADED")
	var uploaded int64
	counts := map[string]int{}
	for _, l := range r.Layers {
		ver := "-"
		if l.Version > 0 {
			ver = fmt.Sprint(l.Version)
		}
		act := describe(l, r.DryRun)
		if l.SharesAdded > 0 || l.SharesRemoved > 0 {
			act += fmt.Sprintf(" (+%d/-%d shares)", l.SharesAdded, l.SharesRemoved)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Name, act, ver, humanBytes(l.UploadedBytes))
		uploaded += l.UploadedBytes
		switch {
		case l.Err != nil:
			counts["failed"]++
		case l.Action == ActionReuse:
			counts["reused"]++
		default:
			counts["new"]++
		}
	}
	for _, im := range r.Images {
		act := "pushed"
		switch {
		case im.Err != nil:
			act = "failed"
		case !im.Result.Pushed:
			act = "in registry"
		case r.DryRun:
			act = "push"
		}
		fmt.Fprintf(tw, "image %s/%s\t%s\t%s\t\n", im.Function, im.Architecture, act, shortImageRef(im.Result.URI))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verb := "published"
	if r.DryRun {
		verb = "to publish (dry run)"
	}
	_, err := fmt.Fprintf(w, "%d layers: %d %s, %d reused, %d failed; %s uploaded\n",
		len(r.Layers), counts["new"], verb, counts["reused"], counts["failed"], humanBytes(uploaded))
	if err == nil && r.OutputsPath != "" {
		_, err = fmt.Fprintf(w, "outputs: %s\n", r.OutputsPath)
	}
	return err
}

// humanBytes is a size in the summary: "0" for nothing uploaded, in MiB at
// most (a layer is far below a GiB).
func humanBytes(n int64) string {
	if n == 0 {
		return "0"
	}
	return bytesize.BinaryUpTo(n, bytesize.MiB)
}

// shortImageRef keeps the table narrow: a URI's digest, shortened, or its
// tag (a dry run has no digest yet). The outputs carry the whole URI.
func shortImageRef(uri string) string {
	if _, digest, ok := strings.Cut(uri, "@"); ok {
		if len(digest) > len("sha256:")+12 {
			digest = digest[:len("sha256:")+12]
		}
		return digest
	}
	if i := strings.LastIndex(uri, ":"); i > strings.LastIndex(uri, "/") {
		return uri[i+1:]
	}
	return uri
}

// storePlan stores the plan of what was just published in the remote tier,
// where builds and plans on a fresh runner start from it. It is best
// effort, as the tier is, and returns where the plan went.
func (p *publisher) storePlan(ctx context.Context) string {
	warn := func(s string) { p.progress("warning: " + s) }
	tier, err := remote.Open(ctx, remote.SettingsFor(p.cfg, p.o.CacheURL, p.o.CacheReadOnly, p.o.Getenv), warn)
	if err != nil || !tier.Writes() {
		if err != nil {
			warn(err.Error())
		}
		return ""
	}
	data, err := os.ReadFile(p.cfg.PlanPath())
	if err != nil || manifest.ParsePlan(data) == nil {
		warn(fmt.Sprintf("no plan to store for the next fresh runner: %s is missing or unreadable", p.cfg.Layers.PlanFile))
		return ""
	}
	key := remote.PlanKey(p.cfg.Layers.Prefix)
	tier.Store(ctx, key, data, false)
	if tier.Stats().Uploads == 0 {
		return ""
	}
	p.progress(fmt.Sprintf("plan: stored in %s/%s for fresh runners", tier.Location(), key))
	return tier.Location() + "/" + key
}
