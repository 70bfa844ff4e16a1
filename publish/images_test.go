package publish

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
)

// recordingImages stands in for publish/ecr, which has its own tests
// against a real registry: these check the hook's wiring only.
type recordingImages struct {
	mu    sync.Mutex
	calls []string
}

func (ri *recordingImages) PublishImage(_ context.Context, t manifest.Target, img manifest.Image, dryRun bool) (ImageResult, error) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	ri.calls = append(ri.calls, fmt.Sprintf("%s %s/%s dry=%v", img.Function, t.Runtime, t.Architecture, dryRun))
	return ImageResult{URI: "127.0.0.1:5000/acme/functions@sha256:" + strings.Repeat("a", 64), Pushed: true}, nil
}

func withImage(t *testing.T, r *repo) {
	t.Helper()
	tg := &r.m.Targets[0]
	tg.Functions = append(tg.Functions, manifest.Function{Name: "reports", Path: "functions/reports", PackageType: planner.PackageImage})
	tg.Images = append(tg.Images, manifest.Image{Function: "reports", Reason: "too big", Tag: "layers/reports:abc", Handler: "app.handler"})
	if err := manifest.Write(r.root, r.m); err != nil {
		t.Fatal(err)
	}
}

func TestImagesNeedAPublisher(t *testing.T) {
	s := moto(t)
	r := newRepo(t, "", testLayer{name: "t-one"})
	withImage(t, r)
	_, err := Publish(context.Background(), r.cfg, opts())
	if err == nil || !strings.Contains(err.Error(), "reports") || !strings.Contains(err.Error(), "image") {
		t.Fatalf("err = %v, want one naming the image function", err)
	}
	if n := layerCount(t, s); n != 0 {
		t.Errorf("%d layers published before the error", n)
	}
}

func TestImagesInOutputs(t *testing.T) {
	moto(t)
	r := newRepo(t, "", testLayer{name: "t-one"})
	withImage(t, r)
	ri := &recordingImages{}
	o := opts()
	o.Images = ri
	o.DryRun = true
	if _, err := Publish(context.Background(), r.cfg, o); err != nil {
		t.Fatal(err)
	}
	o.DryRun = false
	res, err := Publish(context.Background(), r.cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"reports python3.12/x86_64 dry=true", "reports python3.12/x86_64 dry=false"}; strings.Join(ri.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q, want %q", ri.calls, want)
	}
	f := res.Outputs.Functions["reports"]["x86_64"]
	if f.PackageType != "image" || !strings.HasSuffix(f.ImageURI, "@sha256:"+strings.Repeat("a", 64)) || f.Layers == nil || len(f.Layers) != 0 {
		t.Errorf("reports output %+v", f)
	}
}

// TestSummaryImageRows: the summary names what happened to each image,
// "push" in a dry run, with the digest (or the tag) shortened.
func TestSummaryImageRows(t *testing.T) {
	const uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/functions"
	for _, tc := range []struct {
		dry    bool
		result ImageResult
		want   string
	}{
		{false, ImageResult{URI: uri + "@sha256:f160116cbe080b23e6610b2fa8a50a015c463fd2537a0f9f3bfdb66d545475c2", Pushed: true}, "image reports/x86_64  pushed  sha256:f160116cbe08"},
		{false, ImageResult{URI: uri + "@sha256:f160116cbe080b23e6610b2fa8a50a015c463fd2537a0f9f3bfdb66d545475c2"}, "image reports/x86_64  in registry  sha256:f160116cbe08"},
		{true, ImageResult{URI: uri + ":reports-x86_64-14c9b5b81ff44ca0", Pushed: true}, "image reports/x86_64  push  reports-x86_64-14c9b5b81ff44ca0"},
	} {
		r := &Result{DryRun: tc.dry, Images: []ImageOutcome{{Function: "reports", Runtime: "python3.12", Architecture: "x86_64", Result: tc.result}}}
		var b strings.Builder
		if err := r.WriteSummary(&b); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(strings.Fields(b.String()), " "); !strings.Contains(got, strings.Join(strings.Fields(tc.want), " ")) {
			t.Errorf("summary (dry run %v):\n%s\nwant a row %q", tc.dry, b.String(), tc.want)
		}
	}
}
