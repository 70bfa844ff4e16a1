package builder

import (
	"context"
	"fmt"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
)

// Image is a build image as the engine has it.
type Image struct {
	Ref      string `json:"ref"`      // as configured
	ID       string `json:"id"`       // what cache keys record: a tag can move
	Platform string `json:"platform"` // linux/amd64 or linux/arm64
}

// DefaultImage returns the SAM build image of the target's runtime and
// architecture, the image AWS's own tools build in.
func DefaultImage(t config.Target) string {
	return fmt.Sprintf("public.ecr.aws/sam/build-%s:latest-%s", t.Runtime, t.Architecture)
}

// ResolveImage returns the image ref for the target's platform, pulling it
// when the engine lacks it or when pull is set. The platform is always
// explicit, so an arm64 target never builds in an amd64 image.
func ResolveImage(ctx context.Context, e engine.Engine, ref string, t config.Target, pull bool) (Image, error) {
	plat := t.Platform()
	if plat == "" {
		return Image{}, fmt.Errorf("unknown architecture %q", t.Architecture)
	}
	id, err := engine.EnsureImage(ctx, e, ref, plat, pull)
	if err != nil {
		return Image{}, fmt.Errorf("build image for %s: %w", t, err)
	}
	return Image{Ref: ref, ID: id, Platform: plat}, nil
}
