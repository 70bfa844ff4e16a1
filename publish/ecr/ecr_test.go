package ecr_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/lambdaimage"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/motoserver"
	"github.com/layers-dev/layers/internal/testkit/registrytest"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/publish/ecr"
)

var target = manifest.Target{Runtime: "python3.11", Architecture: "x86_64"}

// countingEngine counts pushes.
type countingEngine struct {
	*engine.Docker
	pushes atomic.Int32
}

func (c *countingEngine) Push(ctx context.Context, ref, auth string, progress func(string)) (string, error) {
	c.pushes.Add(1)
	return c.Docker.Push(ctx, ref, auth, progress)
}

// image builds a small image of function report from the stand-in Lambda
// base, its source holding marker (so each marker is another content),
// and removes it when t ends.
func image(t *testing.T, d *engine.Docker, marker string) manifest.Image {
	t.Helper()
	ref := dockertest.LambdaImage(t, d)
	id, err := d.ImageID(context.Background(), ref, dockertest.Platform)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	app := "MARKER = " + strconv.Quote(marker+" "+t.Name()) + "\n\ndef handler(event, context):\n    return MARKER\n"
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := digest.FunctionFiles(dir, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := lambdaimage.Build(context.Background(), d, lambdaimage.Spec{Function: "report",
		Base: builder.Image{Ref: ref, ID: id, Platform: dockertest.Platform}, Handler: "app.handler", Source: src})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Untag(context.Background(), res.Tag) })
	return manifest.Image{Function: "report", Tag: res.Tag, Handler: "app.handler", ImageID: res.ID, Platform: res.Platform,
		ContentKey: res.ContentKey, ImageBytes: res.ImageBytes}
}

// faultProxy forwards to a registry and, while failing is set, answers
// every manifest upload with 500: a push whose layers went up and whose
// last step failed.
type faultProxy struct {
	*httptest.Server
	failing atomic.Bool
}

func newFaultProxy(t *testing.T, registry string) *faultProxy {
	t.Helper()
	p := &faultProxy{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: registry})
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.failing.Load() && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}`, http.StatusInternalServerError)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *faultProxy) host() string { return strings.TrimPrefix(p.URL, "http://") }

// singleArch checks the registry's manifest for repo:tag is one image for
// linux/amd64 (Docker v2 schema 2 or OCI), never a list, with digest.
func singleArch(t *testing.T, reg *registrytest.Server, repo, tag, digest string) {
	t.Helper()
	ctx := context.Background()
	m, ok, err := reg.Manifest(ctx, repo, tag)
	if err != nil || !ok {
		t.Fatalf("registry manifest %s:%s: found %t, %v", repo, tag, ok, err)
	}
	if m.MediaType != registrytest.MediaDockerManifest && m.MediaType != registrytest.MediaOCIManifest {
		t.Errorf("manifest media type %s, want a single image manifest", m.MediaType)
	}
	if len(m.Platforms) != 0 {
		t.Errorf("manifest lists platforms %v", m.Platforms)
	}
	if m.Digest != digest {
		t.Errorf("registry digest %s, publish returned %s", m.Digest, digest)
	}
	var doc struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if err := json.Unmarshal(m.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.MediaType != "" && doc.MediaType != m.MediaType {
		t.Errorf("manifest body says %s, header %s", doc.MediaType, m.MediaType)
	}
	resp, err := http.Get("http://" + reg.Host + "/v2/" + repo + "/blobs/" + doc.Config.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cfg struct{ OS, Architecture string }
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("image config is for %s/%s", cfg.OS, cfg.Architecture)
	}
}

// TestPublishImage pushes a built image to a real registry with moto as
// ECR: the repository is created as configured with Lambda's pull policy,
// the URI carries the digest the registry has for a single-architecture
// manifest, a second publish pushes nothing, and a dry run pushes nothing
// either.
func TestPublishImage(t *testing.T) {
	moto := motoserver.Start(t)
	reg := registrytest.Start(t)
	d := dockertest.Engine(t)
	img := image(t, d, "v1")
	ctx := context.Background()
	const repo = "acme/report"

	counting := &countingEngine{Docker: d}
	p := ecr.New(moto.Config(), counting, ecr.Options{Repository: repo, ScanOnPush: true, TagImmutability: true, Registry: reg.Host})
	res, err := p.PublishImage(ctx, target, img, false)
	if err != nil {
		t.Fatal(err)
	}
	client := awsecr.NewFromConfig(moto.Config())
	repos, err := client.DescribeRepositories(ctx, &awsecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}})
	if err != nil {
		t.Fatal(err)
	}
	r := repos.Repositories[0]
	uri, digest, ok := strings.Cut(res.URI, "@")
	if !res.Pushed || !ok || uri != aws.ToString(r.RepositoryUri) || !strings.HasPrefix(digest, "sha256:") || len(digest) != 71 {
		t.Fatalf("result %+v, want the repository %s with a digest", res, aws.ToString(r.RepositoryUri))
	}
	if counting.pushes.Load() != 1 {
		t.Errorf("%d pushes, want 1", counting.pushes.Load())
	}
	if r.ImageScanningConfiguration == nil || !r.ImageScanningConfiguration.ScanOnPush || r.ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Errorf("repository created with scanning %+v, mutability %s", r.ImageScanningConfiguration, r.ImageTagMutability)
	}
	pol, err := client.GetRepositoryPolicy(ctx, &awsecr.GetRepositoryPolicyInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"lambda.amazonaws.com", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} {
		if !strings.Contains(aws.ToString(pol.PolicyText), w) {
			t.Errorf("repository policy lacks %s: %s", w, aws.ToString(pol.PolicyText))
		}
	}
	tag := ecr.RemoteTag(target, img)
	singleArch(t, reg, repo, tag, digest)

	// A new run, with nothing changed: the registry has the tag.
	again := &countingEngine{Docker: d}
	p2 := ecr.New(moto.Config(), again, ecr.Options{Repository: repo, Registry: reg.Host})
	res2, err := p2.PublishImage(ctx, target, img, false)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Pushed || res2.URI != res.URI || again.pushes.Load() != 0 {
		t.Errorf("second publish: %+v after %d pushes, want %s unpushed", res2, again.pushes.Load(), res.URI)
	}

	// A dry run of a new image decides to push and pushes nothing.
	img2 := image(t, d, "v2")
	dry, err := p2.PublishImage(ctx, target, img2, true)
	if err != nil {
		t.Fatal(err)
	}
	if !dry.Pushed || dry.URI != uri+":"+ecr.RemoteTag(target, img2) || again.pushes.Load() != 0 {
		t.Errorf("dry run: %+v after %d pushes", dry, again.pushes.Load())
	}
	if _, ok, err := reg.Manifest(ctx, repo, ecr.RemoteTag(target, img2)); ok || err != nil {
		t.Errorf("a dry run pushed: %t, %v", ok, err)
	}
}

// TestPublishImageFaults checks a failed push is reported and a rerun
// completes it: once when the manifest upload fails after the layers went
// up, once when the registry is down.
func TestPublishImageFaults(t *testing.T) {
	moto := motoserver.Start(t)
	reg := registrytest.Start(t)
	proxy := newFaultProxy(t, reg.Host)
	d := dockertest.Engine(t)
	ctx := context.Background()
	const repo = "faults"

	img := image(t, d, "fault")
	proxy.failing.Store(true)
	p := ecr.New(moto.Config(), d, ecr.Options{Repository: repo, Registry: proxy.host()})
	_, err := p.PublishImage(ctx, target, img, false)
	var pe *engine.PushError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "push "+proxy.host()+"/"+repo+":") {
		t.Fatalf("publish through a failing registry: %v, want a push error naming the image", err)
	}
	t.Logf("reported: %v", err)
	if _, ok, _ := reg.Manifest(ctx, repo, ecr.RemoteTag(target, img)); ok {
		t.Fatal("the failed push left a manifest")
	}
	proxy.failing.Store(false)
	res, err := p.PublishImage(ctx, target, img, false)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	_, digest, _ := strings.Cut(res.URI, "@")
	if !res.Pushed {
		t.Errorf("rerun: %+v", res)
	}
	singleArch(t, reg, repo, ecr.RemoteTag(target, img), digest)

	// Straight to the registry, which is down: the check before the push
	// fails, and says so.
	img2 := image(t, d, "down")
	p = ecr.New(moto.Config(), d, ecr.Options{Repository: repo, Registry: reg.Host})
	reg.Stop()
	if _, err := p.PublishImage(ctx, target, img2, false); err == nil || !strings.Contains(err.Error(), reg.Host) {
		t.Fatalf("publish to a stopped registry: %v, want an error naming it", err)
	} else {
		t.Logf("reported: %v", err)
	}
	reg.Restart()
	res2, err := p.PublishImage(ctx, target, img2, false)
	if err != nil || !res2.Pushed {
		t.Fatalf("rerun after the registry came back: %+v, %v", res2, err)
	}
	_, digest2, _ := strings.Cut(res2.URI, "@")
	singleArch(t, reg, repo, ecr.RemoteTag(target, img2), digest2)
}

// TestPublishImageKeepsPolicy checks an existing repository's policy
// keeps its statements and gains Lambda's.
func TestPublishImageKeepsPolicy(t *testing.T) {
	moto := motoserver.Start(t)
	reg := registrytest.Start(t)
	d := dockertest.Engine(t)
	ctx := context.Background()
	client := awsecr.NewFromConfig(moto.Config())
	const repo = "shared"
	if _, err := client.CreateRepository(ctx, &awsecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	ci := `{"Version":"2012-10-17","Statement":[{"Sid":"CI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:*"}]}`
	if _, err := client.SetRepositoryPolicy(ctx, &awsecr.SetRepositoryPolicyInput{RepositoryName: aws.String(repo), PolicyText: aws.String(ci)}); err != nil {
		t.Fatal(err)
	}
	img := image(t, d, "policy")
	if _, err := ecr.New(moto.Config(), d, ecr.Options{Repository: repo, Registry: reg.Host}).PublishImage(ctx, target, img, false); err != nil {
		t.Fatal(err)
	}
	pol, err := client.GetRepositoryPolicy(ctx, &awsecr.GetRepositoryPolicyInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	text := aws.ToString(pol.PolicyText)
	if !strings.Contains(text, `"Sid":"CI"`) || !strings.Contains(text, "lambda.amazonaws.com") {
		t.Errorf("policy %s", text)
	}
}

// TestForConfig publishes the way `layers publish` does: AWS from the
// environment (moto), the engine dialled on first use, the registry from
// LAYERS_REGISTRY over [image] registry.
func TestForConfig(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Setenv(t)
	reg := registrytest.Start(t)
	t.Setenv("LAYERS_REGISTRY", reg.Host)
	d := dockertest.Engine(t)
	img := image(t, d, "for-config")
	cfg := config.Default(t.TempDir())
	cfg.Image = config.Image{Repository: "cli", Registry: "unused.example.invalid"}
	p := ecr.ForConfig(cfg, "", "")
	defer p.Close()
	res, err := p.PublishImage(context.Background(), target, img, false)
	if err != nil {
		t.Fatal(err)
	}
	_, digest, _ := strings.Cut(res.URI, "@")
	if !res.Pushed {
		t.Errorf("result %+v", res)
	}
	singleArch(t, reg, "cli", ecr.RemoteTag(target, img), digest)
}
