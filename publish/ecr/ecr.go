// Package ecr owns the publishing of container images to Amazon ECR: the
// functions `layers build` shipped as images because they cannot fit in
// layers. It makes sure the [image] repository exists (created with
// scan-on-push and tag immutability as configured) and lets Lambda pull
// from it, pushes each image through the container engine with ECR's
// registry credentials unless the registry already has its tag, and
// returns the image's URI with its digest, which a function's ImageUri
// takes.
//
// The registry endpoint can be overridden ([image] registry, or
// LAYERS_REGISTRY) for pull-through caches and proxies, and for tests,
// where moto's authorization token names a registry that does not exist.
// The ECR control plane does not see an overriding registry's content, so
// with an override the registry is asked too before a push.
package ecr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/docker/docker/api/types/registry"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/publish"
)

// Engine is what pushing needs of the container engine; *engine.Docker
// has it.
type Engine interface {
	Tag(ctx context.Context, source, target string) error
	Untag(ctx context.Context, ref string) error
	Push(ctx context.Context, ref, auth string, progress func(string)) (string, error)
}

var _ Engine = (*engine.Docker)(nil)

var _ publish.ImagePublisher = (*Publisher)(nil)

// Options are the [image] settings publishing uses.
type Options struct {
	// Repository is the ECR repository every image goes to.
	Repository string
	// ScanOnPush and TagImmutability apply to a repository this package
	// creates; an existing repository keeps its settings.
	ScanOnPush      bool
	TagImmutability bool
	// Registry is host[:port] pushes go to instead of the registry ECR's
	// authorization token names; "" for none.
	Registry string
	// Progress receives the engine's push status lines; nil discards them.
	Progress func(string)
}

// OptionsFor returns the options of cfg's [image] section, LAYERS_REGISTRY
// (read through getenv) overriding [image] registry.
func OptionsFor(cfg *config.Config, getenv func(string) string) Options {
	o := Options{
		Repository:      cfg.Image.Repository,
		ScanOnPush:      cfg.Image.ScanOnPush,
		TagImmutability: cfg.Image.TagImmutability,
		Registry:        cfg.Image.Registry,
	}
	if r := getenv("LAYERS_REGISTRY"); r != "" {
		o.Registry = r
	}
	return o
}

// Publisher publishes images to one ECR repository. It is safe for
// concurrent use: publish pushes several images at once.
type Publisher struct {
	o       Options
	loadAWS func(context.Context) (aws.Config, error)
	dial    func(context.Context) (Engine, io.Closer, error)
	http    *http.Client

	mu     sync.Mutex
	client *ecr.Client
	eng    Engine
	closer io.Closer
	repo   *types.Repository // once it is known to exist, with Lambda's pull
	auth   *credentials
}

// credentials are ECR's registry credentials and the registry they name.
type credentials struct {
	user, password string
	host           string // the token's registry, host[:port]
	expires        time.Time
}

// policySid names the statement that lets Lambda pull.
const policySid = "LayersLambdaPull"

// httpTimeout bounds a registry look-up.
const httpTimeout = 30 * time.Second

// New returns a Publisher using awsCfg for ECR and e for pushes.
func New(awsCfg aws.Config, e Engine, o Options) *Publisher {
	p := newPublisher(o)
	p.loadAWS = func(context.Context) (aws.Config, error) { return awsCfg, nil }
	p.dial = func(context.Context) (Engine, io.Closer, error) { return e, nil, nil }
	return p
}

// ForConfig returns the Publisher of `layers publish` for cfg: the AWS
// configuration of publish.LoadAWSConfig (region and profile from the
// flags, "" for none, over [publish]) and the engine the environment
// names. Both are set up on first use, so a run without images needs
// neither. Close releases the engine.
func ForConfig(cfg *config.Config, region, profile string) *Publisher {
	p := newPublisher(OptionsFor(cfg, os.Getenv))
	p.loadAWS = func(ctx context.Context) (aws.Config, error) {
		return publish.LoadAWSConfig(ctx, publish.AWSOptionsFor(cfg, region, profile))
	}
	p.dial = func(ctx context.Context) (Engine, io.Closer, error) {
		d, err := engine.Dial(ctx)
		if err != nil {
			return nil, nil, err
		}
		return d, d, nil
	}
	return p
}

func newPublisher(o Options) *Publisher {
	return &Publisher{o: o, http: &http.Client{Timeout: httpTimeout}}
}

// Close releases the engine ForConfig dialled.
func (p *Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closer != nil {
		err := p.closer.Close()
		p.closer, p.eng = nil, nil
		return err
	}
	return nil
}

// RemoteTag returns the tag an image gets in the repository: the
// function, the architecture and the content key's prefix, so that one
// repository holds every function's images and a tag names one content.
func RemoteTag(t manifest.Target, img manifest.Image) string {
	var b strings.Builder
	for _, r := range img.Function {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return fmt.Sprintf("%s-%s-%s", b.String(), t.Architecture, img.ContentKey[:16])
}

// PublishImage implements publish.ImagePublisher: the repository is made
// ready, then the image is pushed unless the registry has its tag. In a
// dry run nothing changes, and an image to push gets the URI with its tag
// (its digest is only known once pushed).
func (p *Publisher) PublishImage(ctx context.Context, t manifest.Target, img manifest.Image, dryRun bool) (publish.ImageResult, error) {
	if p.o.Repository == "" {
		return publish.ImageResult{}, errors.New("no [image] repository in layers.toml")
	}
	if img.Tag == "" || len(img.ContentKey) < 16 {
		return publish.ImageResult{}, fmt.Errorf("the build manifest has no built image for function %s: run `layers build`", img.Function)
	}
	tag := RemoteTag(t, img)
	client, err := p.ecr(ctx)
	if err != nil {
		return publish.ImageResult{}, err
	}
	repo, err := p.repository(ctx, client, dryRun)
	if err != nil {
		return publish.ImageResult{}, err
	}
	if repo == nil { // a dry run, and no repository yet
		creds, err := p.credentials(ctx, client)
		if err != nil {
			return publish.ImageResult{}, err
		}
		return publish.ImageResult{URI: creds.host + "/" + p.o.Repository + ":" + tag, Pushed: true}, nil
	}
	uri := aws.ToString(repo.RepositoryUri)
	digest, err := p.existing(ctx, client, tag)
	if err != nil {
		return publish.ImageResult{}, err
	}
	if digest != "" {
		return publish.ImageResult{URI: uri + "@" + digest}, nil
	}
	if dryRun {
		return publish.ImageResult{URI: uri + ":" + tag, Pushed: true}, nil
	}
	digest, err = p.push(ctx, client, img.Tag, tag)
	if err != nil {
		return publish.ImageResult{}, err
	}
	return publish.ImageResult{URI: uri + "@" + digest, Pushed: true}, nil
}

// Holds implements pipeline.ImageRegistry: the URI of img's image in the
// repository, "" when the repository (or the image) does not exist yet.
// It creates nothing.
func (p *Publisher) Holds(ctx context.Context, t manifest.Target, img manifest.Image) (string, error) {
	if p.o.Repository == "" || len(img.ContentKey) < 16 {
		return "", nil
	}
	client, err := p.ecr(ctx)
	if err != nil {
		return "", err
	}
	repo, err := describeRepository(ctx, client, p.o.Repository)
	if err != nil || repo == nil {
		return "", err
	}
	digest, err := p.existing(ctx, client, RemoteTag(t, img))
	if err != nil || digest == "" {
		return "", err
	}
	return aws.ToString(repo.RepositoryUri) + "@" + digest, nil
}

func (p *Publisher) ecr(ctx context.Context) (*ecr.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	cfg, err := p.loadAWS(ctx)
	if err != nil {
		return nil, err
	}
	p.client = ecr.NewFromConfig(cfg)
	return p.client, nil
}

// repository returns the repository, created when missing and with a
// policy that lets Lambda pull; in a dry run nil when missing.
func (p *Publisher) repository(ctx context.Context, c *ecr.Client, dryRun bool) (*types.Repository, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repo != nil {
		return p.repo, nil
	}
	name := p.o.Repository
	repo, err := describeRepository(ctx, c, name)
	if err != nil {
		return nil, err
	}
	if dryRun {
		return repo, nil // changes nothing, so checks again next time
	}
	if repo == nil {
		mutability := types.ImageTagMutabilityMutable
		if p.o.TagImmutability {
			mutability = types.ImageTagMutabilityImmutable
		}
		out, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{
			RepositoryName:             aws.String(name),
			ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: p.o.ScanOnPush},
			ImageTagMutability:         mutability,
		})
		var exists *types.RepositoryAlreadyExistsException
		switch {
		case errors.As(err, &exists): // another run created it meanwhile
			if repo, err = describeRepository(ctx, c, name); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, fmt.Errorf("create ECR repository %s: %w", name, err)
		default:
			repo = out.Repository
		}
		if repo == nil {
			return nil, fmt.Errorf("ECR repository %s: created, then not found", name)
		}
	}
	if err := ensurePolicy(ctx, c, name); err != nil {
		return nil, err
	}
	p.repo = repo
	return repo, nil
}

func describeRepository(ctx context.Context, c *ecr.Client, name string) (*types.Repository, error) {
	out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	var missing *types.RepositoryNotFoundException
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe ECR repository %s: %w", name, err)
	}
	for i := range out.Repositories {
		if aws.ToString(out.Repositories[i].RepositoryName) == name {
			return &out.Repositories[i], nil
		}
	}
	return nil, nil
}

// pullActions are what Lambda needs to pull an image from a repository.
var pullActions = []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}

// ensurePolicy makes the repository's policy let lambda.amazonaws.com
// pull. A policy without such a statement gets one added: the others,
// written by people or infrastructure code, stay as they are.
func ensurePolicy(ctx context.Context, c *ecr.Client, name string) error {
	var text string
	out, err := c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String(name)})
	var none *types.RepositoryPolicyNotFoundException
	switch {
	case errors.As(err, &none):
	case err != nil:
		return fmt.Errorf("read the policy of ECR repository %s: %w", name, err)
	default:
		text = aws.ToString(out.PolicyText)
	}
	merged, changed, err := withLambdaPull(text)
	if err != nil {
		return fmt.Errorf("the policy of ECR repository %s: %w", name, err)
	}
	if !changed {
		return nil
	}
	if _, err := c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(name), PolicyText: aws.String(merged)}); err != nil {
		return fmt.Errorf("let Lambda pull from ECR repository %s: %w", name, err)
	}
	return nil
}

// withLambdaPull returns policy (JSON, "" for none) with a statement
// letting Lambda pull, and whether it had to add one.
func withLambdaPull(policy string) (string, bool, error) {
	doc := map[string]any{}
	if strings.TrimSpace(policy) != "" {
		if err := json.Unmarshal([]byte(policy), &doc); err != nil {
			return "", false, fmt.Errorf("not JSON: %w", err)
		}
	}
	var statements []any
	switch s := doc["Statement"].(type) {
	case nil:
	case []any:
		statements = s
	case map[string]any:
		statements = []any{s}
	default:
		return "", false, errors.New("its Statement is neither a list nor an object")
	}
	for _, s := range statements {
		if lambdaCanPull(s) {
			return policy, false, nil
		}
	}
	if _, ok := doc["Version"]; !ok {
		doc["Version"] = "2012-10-17"
	}
	doc["Statement"] = append(statements, map[string]any{
		"Sid":       policySid,
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "lambda.amazonaws.com"},
		"Action":    pullActions,
	})
	data, err := json.Marshal(doc)
	if err != nil {
		return "", false, err
	}
	return string(data), true, nil
}

// lambdaCanPull reports whether a statement allows lambda.amazonaws.com
// both pull actions, unconditionally.
func lambdaCanPull(s any) bool {
	st, ok := s.(map[string]any)
	if !ok || st["Effect"] != "Allow" || st["Condition"] != nil {
		return false
	}
	principal, _ := st["Principal"].(map[string]any)
	if !contains(principal["Service"], "lambda.amazonaws.com") {
		return false
	}
	for _, a := range pullActions {
		if !contains(st["Action"], a) && !contains(st["Action"], "ecr:*") {
			return false
		}
	}
	return true
}

// contains reports whether v, a JSON string or list of strings, holds s.
func contains(v any, s string) bool {
	switch v := v.(type) {
	case string:
		return v == s
	case []any:
		for _, x := range v {
			if x == s {
				return true
			}
		}
	}
	return false
}

// existing returns the digest of the image tagged tag, "" when the
// repository has none. ECR's DescribeImages answers for ECR itself; with
// an overriding registry, the registry is asked as well: it is where the
// pushes go, and ECR may never see them (a local registry in tests, a
// cache that forwards later).
func (p *Publisher) existing(ctx context.Context, c *ecr.Client, tag string) (string, error) {
	out, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{
		RepositoryName: aws.String(p.o.Repository),
		ImageIds:       []types.ImageIdentifier{{ImageTag: aws.String(tag)}},
	})
	var missing *types.ImageNotFoundException
	switch {
	case errors.As(err, &missing):
	case err != nil:
		return "", fmt.Errorf("describe image %s:%s in ECR: %w", p.o.Repository, tag, err)
	default:
		for _, d := range out.ImageDetails {
			if d.ImageDigest != nil {
				return *d.ImageDigest, nil
			}
		}
	}
	if p.o.Registry == "" {
		return "", nil
	}
	creds, err := p.credentials(ctx, c)
	if err != nil {
		return "", err
	}
	return p.headManifest(ctx, creds, tag)
}

// manifestAccept is what a registry may answer a manifest request with.
// Without it a v2 registry converts to the deprecated schema 1 and
// answers with that digest.
var manifestAccept = strings.Join([]string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.index.v1+json",
}, ", ")

// headManifest asks the overriding registry for tag's manifest, with
// ECR's credentials, and returns its digest ("" when it has none).
func (p *Publisher) headManifest(ctx context.Context, creds *credentials, tag string) (string, error) {
	u := registryURL(p.o.Registry) + "/v2/" + p.o.Repository + "/manifests/" + url.PathEscape(tag)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", manifestAccept)
	req.SetBasicAuth(creds.user, creds.password)
	resp, err := p.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("ask registry %s for %s:%s: %w", p.o.Registry, p.o.Repository, tag, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", nil
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("ask registry %s for %s:%s: %s", p.o.Registry, p.o.Repository, tag, resp.Status)
	}
	d := resp.Header.Get("Docker-Content-Digest")
	if !strings.HasPrefix(d, "sha256:") {
		return "", fmt.Errorf("registry %s answered for %s:%s without a digest", p.o.Registry, p.o.Repository, tag)
	}
	return d, nil
}

// registryURL is the base URL of a registry host: plain HTTP on the
// loopback, where the engine allows it too, HTTPS elsewhere.
func registryURL(host string) string {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || h == "localhost" {
		return "http://" + host
	}
	return "https://" + host
}

// credentials returns ECR's registry credentials, fetched once and again
// when they come close to expiring.
func (p *Publisher) credentials(ctx context.Context, c *ecr.Client) (*credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.auth != nil && (p.auth.expires.IsZero() || time.Until(p.auth.expires) > 10*time.Minute) {
		return p.auth, nil
	}
	out, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("ECR authorization token: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return nil, errors.New("ECR authorization token: none returned")
	}
	a := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(a.AuthorizationToken))
	if err != nil {
		return nil, fmt.Errorf("ECR authorization token: %w", err)
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, errors.New("ECR authorization token: not user:password")
	}
	host := aws.ToString(a.ProxyEndpoint)
	if u, err := url.Parse(host); err == nil && u.Host != "" {
		host = u.Host
	}
	p.auth = &credentials{user: user, password: password, host: host, expires: aws.ToTime(a.ExpiresAt)}
	return p.auth, nil
}

// push tags the local image for the registry, pushes it and returns the
// manifest digest. The registry tag is removed again: the local tag the
// build gave stays the image's name.
func (p *Publisher) push(ctx context.Context, c *ecr.Client, local, tag string) (string, error) {
	creds, err := p.credentials(ctx, c)
	if err != nil {
		return "", err
	}
	e, err := p.engine(ctx)
	if err != nil {
		return "", err
	}
	host := creds.host
	if p.o.Registry != "" {
		host = p.o.Registry
	}
	ref := host + "/" + p.o.Repository + ":" + tag
	auth, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: creds.user, Password: creds.password, ServerAddress: host})
	if err != nil {
		return "", err
	}
	if err := e.Tag(ctx, local, ref); err != nil {
		return "", fmt.Errorf("push %s: %w (was it removed since `layers build`?)", local, err)
	}
	defer e.Untag(context.WithoutCancel(ctx), ref)
	digest, err := e.Push(ctx, ref, auth, p.o.Progress)
	if err != nil {
		return "", err
	}
	return digest, nil
}

func (p *Publisher) engine(ctx context.Context) (Engine, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eng != nil {
		return p.eng, nil
	}
	e, closer, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	p.eng, p.closer = e, closer
	return e, nil
}
