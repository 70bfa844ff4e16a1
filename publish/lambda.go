package publish

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Lambda is the part of the Lambda API publish and gc call; *lambda.Client
// implements it.
type Lambda interface {
	ListLayers(context.Context, *lambda.ListLayersInput, ...func(*lambda.Options)) (*lambda.ListLayersOutput, error)
	ListLayerVersions(context.Context, *lambda.ListLayerVersionsInput, ...func(*lambda.Options)) (*lambda.ListLayerVersionsOutput, error)
	GetLayerVersion(context.Context, *lambda.GetLayerVersionInput, ...func(*lambda.Options)) (*lambda.GetLayerVersionOutput, error)
	PublishLayerVersion(context.Context, *lambda.PublishLayerVersionInput, ...func(*lambda.Options)) (*lambda.PublishLayerVersionOutput, error)
	DeleteLayerVersion(context.Context, *lambda.DeleteLayerVersionInput, ...func(*lambda.Options)) (*lambda.DeleteLayerVersionOutput, error)
	GetLayerVersionPolicy(context.Context, *lambda.GetLayerVersionPolicyInput, ...func(*lambda.Options)) (*lambda.GetLayerVersionPolicyOutput, error)
	AddLayerVersionPermission(context.Context, *lambda.AddLayerVersionPermissionInput, ...func(*lambda.Options)) (*lambda.AddLayerVersionPermissionOutput, error)
	RemoveLayerVersionPermission(context.Context, *lambda.RemoveLayerVersionPermissionInput, ...func(*lambda.Options)) (*lambda.RemoveLayerVersionPermissionOutput, error)
}

var _ Lambda = (*lambda.Client)(nil)

// layerSpec is what a layer version must be for a layer of the manifest.
type layerSpec struct {
	Name          string
	SHA256        string // hex, as in the description
	CodeSha256    string // base64, as GetLayerVersion reports it
	Runtimes      []string
	Architectures []string
}

// version is a layer version that exists.
type version struct {
	Number int64
	ARN    string
}

// listVersions returns every version of the layer called name, following
// NextMarker over all pages; a layer that does not exist has none.
func listVersions(ctx context.Context, lc Lambda, name string) ([]types.LayerVersionsListItem, error) {
	var all []types.LayerVersionsListItem
	var marker *string
	for {
		out, err := lc.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String(name), Marker: marker})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list versions of layer %s: %w", name, err)
		}
		all = append(all, out.LayerVersions...)
		// A server that ignores Marker would hand back the same page forever.
		if out.NextMarker == nil || *out.NextMarker == "" || (marker != nil && *marker == *out.NextMarker) {
			return all, nil
		}
		marker = out.NextMarker
	}
}

// findVersion returns the newest version of spec's layer with spec's
// content, or nil: its description must carry spec's hash, and
// GetLayerVersion must confirm the hash (descriptions can be edited by
// hand; code cannot), the runtimes and the architectures.
func findVersion(ctx context.Context, lc Lambda, spec layerSpec) (*version, error) {
	items, err := listVersions(ctx, lc, spec.Name)
	if err != nil {
		return nil, err
	}
	var candidates []types.LayerVersionsListItem
	for _, it := range items {
		if descriptionSHA256(aws.ToString(it.Description)) == spec.SHA256 {
			candidates = append(candidates, it)
		}
	}
	slices.SortFunc(candidates, func(a, b types.LayerVersionsListItem) int { return cmp.Compare(b.Version, a.Version) })
	for _, c := range candidates {
		out, err := lc.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String(spec.Name), VersionNumber: aws.Int64(c.Version)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue // deleted since the list
		}
		if err != nil {
			return nil, fmt.Errorf("get layer %s version %d: %w", spec.Name, c.Version, err)
		}
		if out.Content == nil || aws.ToString(out.Content.CodeSha256) != spec.CodeSha256 {
			continue
		}
		if !sameSet(spec.Runtimes, out.CompatibleRuntimes) || !sameSet(spec.Architectures, out.CompatibleArchitectures) {
			continue
		}
		return &version{Number: out.Version, ARN: aws.ToString(out.LayerVersionArn)}, nil
	}
	return nil, nil
}

func sameSet[T ~string](want []string, got []T) bool {
	g := make([]string, len(got))
	for i, v := range got {
		g[i] = string(v)
	}
	slices.Sort(g)
	w := slices.Sorted(slices.Values(want))
	return slices.Equal(slices.Compact(w), slices.Compact(g))
}

// publishVersion publishes a version of spec's layer from content.
//
// It retries on its own rather than through the SDK: a PublishLayerVersion
// whose response was lost (a reset connection, a 5xx from a proxy after
// Lambda acted) may have created the version, and a blind retry would
// create a second one. So before each retry it looks for the version by
// hash, and returns it when the lost call made it.
func publishVersion(ctx context.Context, lc Lambda, policy aws.RetryerV2, spec layerSpec, in *lambda.PublishLayerVersionInput) (*version, error) {
	var v *version
	err := retryChecked(ctx, policy,
		func() error {
			out, err := lc.PublishLayerVersion(ctx, in, once)
			if err == nil {
				v = &version{Number: out.Version, ARN: aws.ToString(out.LayerVersionArn)}
			}
			return err
		},
		func() (bool, error) {
			var err error
			v, err = findVersion(ctx, lc, spec)
			return v != nil, err
		})
	if err != nil {
		return nil, fmt.Errorf("publish layer %s: %w", spec.Name, err)
	}
	return v, nil
}

// once makes a call's SDK retryer try once: for calls that are not
// idempotent, retryChecked retries.
func once(o *lambda.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1) }

// retryChecked calls call until it succeeds, fails for good, or policy's
// attempts run out. Before each retry, after policy's delay, done reports
// whether an earlier attempt took effect although its answer was lost;
// then retryChecked returns nil without calling again.
func retryChecked(ctx context.Context, policy aws.RetryerV2, call func() error, done func() (bool, error)) error {
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil {
			return nil
		}
		if attempt >= policy.MaxAttempts() || !policy.IsErrorRetryable(err) {
			return err
		}
		delay, derr := policy.RetryDelay(attempt, err)
		if derr != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		ok, derr := done()
		if derr != nil {
			return fmt.Errorf("%w (then: %w)", err, derr)
		}
		if ok {
			return nil
		}
	}
}
