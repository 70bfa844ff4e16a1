package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
)

// TestCABundleOrder checks which CA bundle pip in the containers trusts:
// LAYERS_CA_BUNDLE, else [build] ca_bundle, else the host's Python tools'
// own (PIP_CERT, REQUESTS_CA_BUNDLE, SSL_CERT_FILE), else none.
func TestCABundleOrder(t *testing.T) {
	dir := t.TempDir()
	pem := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\n"+name+"\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{
		"LAYERS_CA_BUNDLE": pem("layers"), "PIP_CERT": pem("pip"), "REQUESTS_CA_BUNDLE": pem("requests"), "SSL_CERT_FILE": pem("ssl"),
	}
	pem("config")
	for _, c := range []struct {
		unset  []string
		config string
		want   string
	}{
		{nil, "config", "layers"},
		{[]string{"LAYERS_CA_BUNDLE"}, "config", "config"},
		{[]string{"LAYERS_CA_BUNDLE"}, "", "pip"},
		{[]string{"LAYERS_CA_BUNDLE", "PIP_CERT"}, "", "requests"},
		{[]string{"LAYERS_CA_BUNDLE", "PIP_CERT", "REQUESTS_CA_BUNDLE"}, "", "ssl"},
		{[]string{"LAYERS_CA_BUNDLE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"}, "", ""},
	} {
		cfg := config.Default(dir)
		cfg.Build.CABundle = c.config
		getenv := func(k string) string {
			for _, u := range c.unset {
				if k == u {
					return ""
				}
			}
			return env[k]
		}
		data, err := caBundle(cfg, getenv)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if data != nil {
			got = strings.Split(string(data), "\n")[1]
		}
		if got != c.want {
			t.Errorf("unset %v, config %q: bundle %q, want %q", c.unset, c.config, got, c.want)
		}
	}
	bad := func(k string) string {
		if k == "SSL_CERT_FILE" {
			return filepath.Join(dir, "missing.pem")
		}
		return ""
	}
	if _, err := caBundle(config.Default(dir), bad); err == nil || !strings.Contains(err.Error(), "SSL_CERT_FILE") {
		t.Errorf("a missing bundle: %v, want an error naming SSL_CERT_FILE", err)
	}
}
