package publish

import (
	"context"

	"github.com/layers-dev/layers/manifest"
)

// ImagePublisher pushes the container images of functions shipped as
// images; package publish/ecr implements it. Publish calls it once per
// manifest.Image, after every layer of the run resolved.
type ImagePublisher interface {
	// PublishImage pushes the target's image for one function unless the registry has it, and returns its URI with digest (repo@sha256:...).
	PublishImage(ctx context.Context, t manifest.Target, img manifest.Image, dryRun bool) (ImageResult, error)
}

// ImageResult is what PublishImage did for one function.
type ImageResult struct {
	// URI is repository@sha256:digest, what a Lambda function's ImageUri takes.
	URI string
	// Pushed is false when the registry already had the image.
	Pushed bool
}
