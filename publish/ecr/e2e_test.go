package ecr_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/motoserver"
	"github.com/layers-dev/layers/internal/testkit/registrytest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/pipeline"
	"github.com/layers-dev/layers/publish"
	"github.com/layers-dev/layers/publish/ecr"
	"github.com/layers-dev/layers/stamp"
)

// TestBuildPublishEndToEnd runs `layers build` and `layers publish` as
// the CLI does on a repository whose function big falls back to an image
// under a lowered limit: the outputs give big's image URI with the digest
// the registry has, beside small's layer; a second build and publish with
// nothing changed build and push nothing and give the same URI.
func TestBuildPublishEndToEnd(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Setenv(t)
	reg := registrytest.Start(t)
	d := dockertest.Engine(t)
	buildImage := dockertest.Image(t, d)
	base := dockertest.LambdaImage(t, d)

	dir := testfs.Tree(t, map[string]string{
		"layers.toml": "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n\n[limits]\nfunction_unzipped_bytes = 200000\n\n" +
			"[function.big]\nhandler = \"app.handler\"\n\n[build]\nimage = \"" + buildImage + "\"\n\n" +
			"[image]\nrepository = \"e2e\"\nbase = \"" + base + "\"\n",
		"functions/big/requirements.txt":   "six==1.16.0\nidna==3.10\n",
		"functions/big/app.py":             "import idna, six\n\n\ndef handler(event, context):\n    return idna.__version__\n",
		"functions/small/requirements.txt": "six==1.16.0\n",
		"functions/small/app.py":           "import six\n",
	})
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	cacheDir := t.TempDir()
	getenv := dockertest.Getenv(cacheDir)
	ctx := context.Background()
	run := func() (*pipeline.BuildResult, *publish.Result, int32) {
		t.Helper()
		b, err := pipeline.Build(ctx, cfg, pipeline.BuildOptions{Engine: d, CacheDir: cacheDir, Tool: "test", Getenv: getenv,
			Progress: func(s string) { t.Log(s) }})
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range b.Manifest.Targets {
			for _, img := range tm.Images {
				t.Cleanup(func() { d.Untag(context.Background(), img.Tag) })
			}
		}
		counting := &countingEngine{Docker: d}
		o := ecr.OptionsFor(cfg, func(string) string { return reg.Host })
		p, err := publish.Publish(ctx, cfg, publish.Options{Tool: "test", Getenv: getenv, Images: ecr.New(moto.Config(), counting, o),
			Progress: func(s string) { t.Log(s) }})
		if err != nil {
			t.Fatal(err)
		}
		return b, p, counting.pushes.Load()
	}

	b1, p1, pushes := run()
	if len(p1.Images) != 1 || !p1.Images[0].Result.Pushed || pushes != 1 {
		t.Fatalf("first publish: images %+v, %d pushes", p1.Images, pushes)
	}
	uri := p1.Images[0].Result.URI
	if p1.Outputs == nil {
		t.Fatal("no outputs")
	}
	if fo, ok := p1.Outputs.Functions["big"]["x86_64"]; !ok || fo.PackageType != "image" || fo.ImageURI != uri || !strings.Contains(uri, "/e2e@sha256:") {
		t.Errorf("outputs for big: %+v, want image %s", p1.Outputs.Functions["big"], uri)
	}
	if fo := p1.Outputs.Functions["small"]["x86_64"]; fo.PackageType != "layers" || len(fo.Layers) != 1 {
		t.Errorf("outputs for small: %+v, want one layer", fo)
	}
	img := b1.Manifest.Targets[0].Images[0]
	_, digest, _ := strings.Cut(uri, "@")
	singleArch(t, reg, "e2e", ecr.RemoteTag(b1.Manifest.Targets[0], img), digest)

	b2, p2, pushes := run()
	if b2.ImagesBuilt != 0 || b2.ImagesReused != 1 || b2.UnitsBuilt != 0 {
		t.Errorf("second build: %d images built, %d unchanged, %d units built", b2.ImagesBuilt, b2.ImagesReused, b2.UnitsBuilt)
	}
	if pushes != 0 || len(p2.Images) != 1 || p2.Images[0].Result.Pushed || p2.Images[0].Result.URI != uri {
		t.Errorf("second publish: %+v after %d pushes, want %s unpushed", p2.Images, pushes, uri)
	}

	// A fresh runner (an engine without the image, an empty local cache,
	// a remote cache) finds big's image in the registry and builds none;
	// publish then pushes nothing and gives the same URI.
	s3c := s3.NewFromConfig(moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cache")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Untag(ctx, img.Tag); err != nil {
		t.Fatal(err)
	}
	fresh := t.TempDir()
	registry := ecr.New(moto.Config(), d, ecr.OptionsFor(cfg, func(string) string { return reg.Host }))
	b3, err := pipeline.Build(ctx, cfg, pipeline.BuildOptions{Engine: d, CacheDir: fresh, Tool: "test", Getenv: dockertest.Getenv(fresh),
		CacheURL: "s3://cache/e2e", Registry: registry, Progress: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	im3 := b3.Manifest.Targets[0].Images[0]
	if b3.ImagesBuilt != 0 || b3.ImagesInRegistry != 1 || im3.Registry != uri || im3.ImageID != "" || im3.ContentKey != img.ContentKey {
		t.Errorf("fresh runner: %d images built, %d in the registry, image %+v; want it found at %s", b3.ImagesBuilt, b3.ImagesInRegistry, im3, uri)
	}
	if _, err := d.ImageInfo(ctx, img.Tag); err == nil {
		t.Errorf("the fresh runner built %s", img.Tag)
	}
	counting := &countingEngine{Docker: d}
	p3, err := publish.Publish(ctx, cfg, publish.Options{Tool: "test", Getenv: getenv,
		Images: ecr.New(moto.Config(), counting, ecr.OptionsFor(cfg, func(string) string { return reg.Host }))})
	if err != nil {
		t.Fatal(err)
	}
	if counting.pushes.Load() != 0 || p3.Images[0].Result.URI != uri {
		t.Errorf("publish on the fresh runner: %+v after %d pushes, want %s unpushed", p3.Images, counting.pushes.Load(), uri)
	}

	// The image holds big's code, which the inputs digest does not cover:
	// publishing after an edit without a build must refuse the old image.
	app := filepath.Join(dir, "functions", "big", "app.py")
	if err := os.WriteFile(app, []byte("import idna\n\n\ndef handler(event, context):\n    return 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = publish.Publish(ctx, cfg, publish.Options{Tool: "test", Getenv: getenv, Images: ecr.New(moto.Config(), d, ecr.OptionsFor(cfg, func(string) string { return reg.Host }))})
	if !errors.Is(err, stamp.ErrStaleManifest) || !strings.Contains(err.Error(), "function big") {
		t.Errorf("publish after editing big's code = %v, want a stale manifest naming big", err)
	}
}
