package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker/client"
	"github.com/docker/go-connections/tlsconfig"
)

// Endpoint is where an engine is and how to reach it.
type Endpoint struct {
	// Name is the address as the user wrote it (a URL or a Docker
	// context name), for messages; "" means Host.
	Name string
	// Host is a unix://, tcp:// or ssh:// URL.
	Host string
	// TLSDir, when set, holds ca.pem, cert.pem and key.pem: a Docker
	// context's TLS material. "" means the environment's
	// (DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) for tcp:// hosts.
	TLSDir        string
	SkipTLSVerify bool
	// Source is where the address was configured ("layers.toml:12"),
	// for messages; "" for DOCKER_HOST.
	Source string
}

// EnvEndpoint returns the endpoint the environment names, the one Dial
// connects to: DOCKER_HOST, else the default socket.
func EnvEndpoint(getenv func(string) string) Endpoint {
	host := getenv(client.EnvOverrideHost)
	if host == "" {
		host = client.DefaultDockerHost
	}
	return Endpoint{Host: host}
}

// IsURL reports whether addr is an engine URL (unix://, tcp://, ssh://)
// rather than a Docker context name.
func IsURL(addr string) bool {
	for _, s := range []string{"unix://", "tcp://", "ssh://"} {
		if strings.HasPrefix(addr, s) {
			return true
		}
	}
	return false
}

// ResolveEndpoint returns the endpoint of addr: a unix://, tcp:// or
// ssh:// URL as it is, or the docker endpoint of the Docker context of
// that name, read from the docker CLI's context store
// ($DOCKER_CONFIG/contexts, else ~/.docker/contexts) as the CLI does.
// "default", the CLI's context without a stored file, is DOCKER_HOST or
// the default socket. getenv reads the environment.
func ResolveEndpoint(addr string, getenv func(string) string) (Endpoint, error) {
	if IsURL(addr) {
		return Endpoint{Name: addr, Host: addr}, nil
	}
	if addr == "default" {
		e := EnvEndpoint(getenv)
		e.Name = addr
		return e, nil
	}
	dir := getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Endpoint{}, fmt.Errorf("docker context %q: %w", addr, err)
		}
		dir = filepath.Join(home, ".docker")
	}
	sum := sha256.Sum256([]byte(addr))
	id := hex.EncodeToString(sum[:])
	meta := filepath.Join(dir, "contexts", "meta", id, "meta.json")
	data, err := os.ReadFile(meta)
	if errors.Is(err, os.ErrNotExist) {
		return Endpoint{}, fmt.Errorf("no docker context %q on this machine (no %s; `docker context ls` lists them)", addr, meta)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q: %w", addr, err)
	}
	var m struct {
		Endpoints map[string]struct {
			Host          string
			SkipTLSVerify bool
		}
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q: %s: %w", addr, meta, err)
	}
	ep, ok := m.Endpoints["docker"]
	if !ok || ep.Host == "" {
		return Endpoint{}, fmt.Errorf("docker context %q has no docker endpoint (%s)", addr, meta)
	}
	if !IsURL(ep.Host) {
		return Endpoint{}, fmt.Errorf("docker context %q: endpoint %q is not a unix://, tcp:// or ssh:// URL", addr, ep.Host)
	}
	e := Endpoint{Name: fmt.Sprintf("%s (context %s)", ep.Host, addr), Host: ep.Host, SkipTLSVerify: ep.SkipTLSVerify}
	if tls := filepath.Join(dir, "contexts", "tls", id, "docker"); strings.HasPrefix(ep.Host, "tcp://") {
		if _, err := os.Stat(tls); err == nil {
			e.TLSDir = tls
		}
	}
	return e, nil
}

// withTLSDir is client.WithTLSClientConfig for a context's TLS folder, whose
// files are all optional, as the docker CLI reads them.
func withTLSDir(dir string, skipVerify bool) client.Opt {
	return func(c *client.Client) error {
		opts := tlsconfig.Options{InsecureSkipVerify: skipVerify}
		for _, f := range []struct {
			name string
			to   *string
		}{{"ca.pem", &opts.CAFile}, {"cert.pem", &opts.CertFile}, {"key.pem", &opts.KeyFile}} {
			if p := filepath.Join(dir, f.name); fileExists(p) {
				*f.to = p
			}
		}
		tc, err := tlsconfig.Client(opts)
		if err != nil {
			return fmt.Errorf("TLS files in %s: %w", dir, err)
		}
		return client.WithHTTPClient(&http.Client{
			Transport:     &http.Transport{TLSClientConfig: tc},
			CheckRedirect: client.CheckRedirect,
		})(c)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
