package engine

import (
	"context"
	"errors"
	"testing"
)

// imageEngine has one image per platform once pulled; lookErr, when set,
// is what every look answers instead.
type imageEngine struct {
	Engine
	pulled  map[string]bool
	pulls   int
	lookErr error
	pullErr error
}

func (e *imageEngine) ImageID(_ context.Context, _, platform string) (string, error) {
	if e.lookErr != nil {
		return "", e.lookErr
	}
	if !e.pulled[platform] {
		return "", ErrImageNotFound
	}
	return "sha256:" + platform, nil
}

func (e *imageEngine) Pull(_ context.Context, _, platform string) error {
	e.pulls++
	if e.pullErr != nil {
		return e.pullErr
	}
	e.pulled[platform] = true
	return nil
}

func TestEnsureImage(t *testing.T) {
	ctx := context.Background()
	e := &imageEngine{pulled: map[string]bool{}}
	for _, c := range []struct {
		name  string
		pull  bool
		pulls int
	}{
		{"missing: pulled", false, 1},
		{"present: not pulled again", false, 1},
		{"pull set: pulled again", true, 2},
	} {
		id, err := EnsureImage(ctx, e, "img", "linux/arm64", c.pull)
		if err != nil || id != "sha256:linux/arm64" || e.pulls != c.pulls {
			t.Errorf("%s: %q, %v, %d pulls; want sha256:linux/arm64 and %d pulls", c.name, id, err, e.pulls, c.pulls)
		}
	}

	down := errors.New("engine down")
	e = &imageEngine{pulled: map[string]bool{}, lookErr: down}
	if _, err := EnsureImage(ctx, e, "img", "linux/amd64", false); !errors.Is(err, down) || e.pulls != 0 {
		t.Errorf("an engine that does not answer: %v, %d pulls; want its error and no pull", err, e.pulls)
	}

	refused := errors.New("pull refused")
	e = &imageEngine{pulled: map[string]bool{}, pullErr: refused}
	if _, err := EnsureImage(ctx, e, "img", "linux/amd64", false); !errors.Is(err, refused) {
		t.Errorf("a failed pull: %v, want its error", err)
	}
}
