package publish

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/manifest"
)

// GCOptions are a gc run's settings beyond layers.toml.
type GCOptions struct {
	// Keep is how many of the newest versions of each layer survive,
	// besides those the outputs reference.
	Keep int
	// DryRun lists what would be deleted and deletes nothing.
	DryRun bool
	// Region, Profile and Outputs are as in Options.
	Region, Profile, Outputs string
	// Jobs bounds the layers handled at once; 0 means 4.
	Jobs     int
	Progress func(string)

	backoff retry.BackoffDelayer
}

// GCLayer is what gc did to one layer.
type GCLayer struct {
	Name    string
	Kept    []int64
	Deleted []int64 // or, in a dry run, would delete
	Err     error
}

// GCResult is a gc run.
type GCResult struct {
	DryRun bool
	Layers []GCLayer
}

// GC deletes the versions of this project's layers that are older than
// the newest o.Keep and that the current outputs do not reference. The
// project's layers are those the build manifest and the outputs name and,
// when [layers] prefix is set, every layer with the prefix whose versions
// layers published (their description carries the content hash). Functions
// already deployed with a deleted version keep working (Lambda keeps their
// copy); new deployments cannot use it.
//
// The outputs file must exist: without it gc cannot tell which versions
// are in use.
func GC(ctx context.Context, cfg *config.Config, o GCOptions) (*GCResult, error) {
	if o.Keep < 0 {
		return nil, fmt.Errorf("--keep %d: must be 0 or more", o.Keep)
	}
	if o.Jobs <= 0 {
		o.Jobs = defaultJobs
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	path := o.Outputs
	if path == "" {
		path = filepath.Join(cfg.Root, filepath.FromSlash(cfg.Publish.Outputs))
	}
	outs, err := ReadOutputs(path)
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}
	inUse := map[string]bool{}
	names := map[string]bool{}
	for name, l := range outs.Layers {
		names[name] = true
		inUse[l.ARN] = true
	}
	for _, fns := range outs.Functions {
		for _, f := range fns {
			for _, arn := range f.Layers {
				inUse[arn] = true
			}
		}
	}
	m, err := manifest.Read(cfg.Root)
	switch {
	case errors.Is(err, manifest.ErrNoManifest):
	case err != nil:
		return nil, err
	default:
		for name := range m.LayersByName() {
			names[name] = true
		}
	}
	awsCfg, err := LoadAWSConfig(ctx, withBackoff(AWSOptionsFor(cfg, o.Region, o.Profile), o.backoff))
	if err != nil {
		return nil, err
	}
	lc := newLambda(awsCfg)
	if prefix := cfg.Layers.Prefix; prefix != "" {
		// As the planner names layers.
		if !strings.HasSuffix(prefix, "-") && !strings.HasSuffix(prefix, "_") {
			prefix += "-"
		}
		if err := prefixedLayers(ctx, lc, prefix, names); err != nil {
			return nil, err
		}
	}
	sorted := slices.Sorted(func(yield func(string) bool) {
		for n := range names {
			if !yield(n) {
				return
			}
		}
	})
	res := &GCResult{DryRun: o.DryRun, Layers: make([]GCLayer, len(sorted))}
	forEach(ctx, o.Jobs, len(sorted), func(i int) {
		res.Layers[i] = gcLayer(ctx, lc, sorted[i], o.Keep, inUse, o.DryRun, progress)
	}, func(i int, err error) {
		res.Layers[i] = GCLayer{Name: sorted[i], Err: err}
	})
	var errs []error
	for _, l := range res.Layers {
		if l.Err != nil {
			errs = append(errs, l.Err)
		}
	}
	return res, errors.Join(errs...)
}

// prefixedLayers adds to names every layer whose name starts with prefix
// and whose newest version layers published.
func prefixedLayers(ctx context.Context, lc Lambda, prefix string, names map[string]bool) error {
	var marker *string
	for {
		out, err := lc.ListLayers(ctx, &lambda.ListLayersInput{Marker: marker})
		if err != nil {
			return fmt.Errorf("list layers: %w", err)
		}
		for _, l := range out.Layers {
			name := aws.ToString(l.LayerName)
			if strings.HasPrefix(name, prefix) && l.LatestMatchingVersion != nil &&
				descriptionSHA256(aws.ToString(l.LatestMatchingVersion.Description)) != "" {
				names[name] = true
			}
		}
		if out.NextMarker == nil || *out.NextMarker == "" || (marker != nil && *marker == *out.NextMarker) {
			return nil
		}
		marker = out.NextMarker
	}
}

func gcLayer(ctx context.Context, lc Lambda, name string, keep int, inUse map[string]bool, dry bool, progress func(string)) GCLayer {
	r := GCLayer{Name: name}
	items, err := listVersions(ctx, lc, name)
	if err != nil {
		r.Err = err
		return r
	}
	slices.SortFunc(items, func(a, b types.LayerVersionsListItem) int { return cmp.Compare(b.Version, a.Version) })
	for i, it := range items {
		if i < keep || inUse[aws.ToString(it.LayerVersionArn)] {
			r.Kept = append(r.Kept, it.Version)
			continue
		}
		if !dry {
			_, err := lc.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(it.Version)})
			if err != nil {
				r.Err = fmt.Errorf("delete layer %s version %d: %w", name, it.Version, err)
				return r
			}
			progress(fmt.Sprintf("layer %s: deleted version %d", name, it.Version))
		}
		r.Deleted = append(r.Deleted, it.Version)
	}
	return r
}

// WriteSummary writes a table of the run's layers to w.
func (r *GCResult) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "DELETED"
	if r.DryRun {
		head = "TO DELETE"
	}
	fmt.Fprintf(tw, "LAYER\tKEPT\t%s\n", head)
	deleted := 0
	for _, l := range r.Layers {
		d := versions(l.Deleted)
		if l.Err != nil {
			d += " (failed: " + l.Err.Error() + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.Name, versions(l.Kept), d)
		deleted += len(l.Deleted)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verb := "deleted"
	if r.DryRun {
		verb = "to delete (dry run)"
	}
	_, err := fmt.Fprintf(w, "%d layers: %d versions %s\n", len(r.Layers), deleted, verb)
	return err
}

func versions(vs []int64) string {
	if len(vs) == 0 {
		return "-"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ",")
}
