package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/buildinfo"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/remote"
	"github.com/layers-dev/layers/resolver"
)

// passEnv are the host variables every build container gets: a private
// index and its credentials, pip's network settings, proxies. Host paths
// (PIP_CERT, PIP_FIND_LINKS) mean nothing in a container and stay out.
var passEnv = []string{
	"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT", "PIP_RETRIES",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}

// containerEnv returns the passEnv variables set on the host, as KEY=value.
func containerEnv(getenv func(string) string) []string {
	var env []string
	for _, k := range passEnv {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// runDefaults are the options build and plan default alike.
type runDefaults struct {
	Getenv   func(string) string
	Tool     string
	CacheDir string
	// lookup is Getenv as the resolver reads the environment: nil, the
	// process's, unless the caller injected its own.
	lookup func(string) (string, bool)
}

// fill fills in the defaults: the process environment, the "dev" version
// and cache.DefaultDir.
func (d *runDefaults) fill() error {
	d.lookup = resolver.Lookup(d.Getenv)
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	d.Tool = buildinfo.Tool(d.Tool)
	if d.CacheDir == "" {
		dir, err := cache.DefaultDir(d.Getenv)
		if err != nil {
			return err
		}
		d.CacheDir = dir
	}
	return nil
}

// hostCABundleVars are the variables through which the host's Python
// tools already trust a CA bundle, in the order caBundle tries them.
var hostCABundleVars = []string{"PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"}

// caBundle reads the CA bundle pip in the containers trusts: the one
// LAYERS_CA_BUNDLE names, else [build] ca_bundle, else the one the host's
// Python tools trust (PIP_CERT, REQUESTS_CA_BUNDLE, SSL_CERT_FILE), so a
// machine behind a proxy that re-signs TLS works as its pip does.
func caBundle(cfg *config.Config, getenv func(string) string) ([]byte, error) {
	p, from := getenv("LAYERS_CA_BUNDLE"), "LAYERS_CA_BUNDLE"
	if p == "" && cfg.Build.CABundle != "" {
		p, from = cfg.Build.CABundle, "[build] ca_bundle"
		if !filepath.IsAbs(p) {
			p = filepath.Join(cfg.Root, filepath.FromSlash(p))
		}
	}
	for _, v := range hostCABundleVars {
		if p != "" {
			break
		}
		p, from = getenv(v), v
	}
	if p == "" {
		return nil, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("CA bundle (%s): %w", from, err)
	}
	if !strings.Contains(string(data), "-----BEGIN CERTIFICATE-----") {
		return nil, fmt.Errorf("CA bundle %s (%s) holds no PEM certificate", p, from)
	}
	return data, nil
}

// previousPlan returns the plan a build or a plan starts from, and where
// it came from: the plan file ([layers] plan_file, by default the last
// local build's), else the plan last published, from the remote tier.
// Without either, planning starts from scratch, which is correct but may
// reshuffle layers: in CI (CI=true) a warning says so.
func previousPlan(ctx context.Context, cfg *config.Config, tier *remote.Tier, getenv func(string) string, warn func(string)) (*planner.Plan, string) {
	if p := manifest.ReadPlan(cfg.PlanPath()); p != nil {
		return p, cfg.Layers.PlanFile
	}
	key := remote.PlanKey(cfg.Layers.Prefix)
	if data, err := tier.Fetch(ctx, key); err == nil {
		if p := manifest.ParsePlan(data); p != nil {
			return p, tier.Location() + "/" + key
		}
	}
	if getenv("CI") == "true" {
		where := "no remote cache is set ([cache] url, LAYERS_CACHE_URL)"
		if tier != nil {
			where = "the remote cache holds no published plan"
		}
		warn(fmt.Sprintf("no previous plan: %s is missing and %s; planning from scratch, so layers may reshuffle", cfg.Layers.PlanFile, where))
	}
	return nil, ""
}
