package ecr

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/manifest"
)

func TestWithLambdaPull(t *testing.T) {
	other := `{"Version":"2012-10-17","Statement":[{"Sid":"CI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:*"}]}`
	granted := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:DescribeImages"]}}`
	conditional := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringLike":{"aws:sourceArn":"arn:aws:lambda:us-east-1:1:function:x"}}}]}`
	for _, c := range []struct {
		name, in   string
		changed    bool
		statements int
	}{
		{"none", "", true, 1},
		{"another statement", other, true, 2},
		{"already granted", granted, false, 1},
		{"granted under a condition", conditional, true, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, changed, err := withLambdaPull(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if changed != c.changed {
				t.Errorf("changed = %t, want %t", changed, c.changed)
			}
			var doc struct {
				Version   string
				Statement json.RawMessage
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v in %s", err, out)
			}
			var list []map[string]any
			if err := json.Unmarshal(doc.Statement, &list); err != nil {
				list = []map[string]any{{}} // a single statement object, left as it was
			}
			if len(list) != c.statements {
				t.Errorf("%d statements, want %d: %s", len(list), c.statements, out)
			}
			if c.changed {
				if doc.Version != "2012-10-17" || !strings.Contains(out, `"Sid":"LayersLambdaPull"`) ||
					!strings.Contains(out, `"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]`) {
					t.Errorf("policy %s lacks Lambda's pull statement", out)
				}
				if c.in != "" && !strings.Contains(out, `"Principal":{"AWS":"arn:aws:iam::123456789012:root"}`) && c.name == "another statement" {
					t.Errorf("the existing statement was dropped: %s", out)
				}
			}
		})
	}
	if _, _, err := withLambdaPull("{not json"); err == nil {
		t.Error("a malformed policy is accepted")
	}
}

func TestRemoteTag(t *testing.T) {
	img := manifest.Image{Function: "big report!", ContentKey: strings.Repeat("0123456789abcdef", 4)}
	if got := RemoteTag(manifest.Target{Architecture: "arm64"}, img); got != "big-report--arm64-0123456789abcdef" {
		t.Errorf("RemoteTag = %s", got)
	}
}

func TestOptionsFor(t *testing.T) {
	cfg := config.Default(t.TempDir())
	cfg.Image = config.Image{Repository: "r1", ScanOnPush: true, TagImmutability: true, Registry: "proxy.example.invalid"}
	o := OptionsFor(cfg, func(string) string { return "" })
	if o.Repository != "r1" || !o.ScanOnPush || !o.TagImmutability || o.Registry != "proxy.example.invalid" {
		t.Errorf("options %+v", o)
	}
	o = OptionsFor(cfg, func(k string) string {
		if k == "LAYERS_REGISTRY" {
			return "127.0.0.1:5000"
		}
		return ""
	})
	if o.Registry != "127.0.0.1:5000" {
		t.Errorf("LAYERS_REGISTRY does not override [image] registry: %s", o.Registry)
	}
}

func TestRegistryURL(t *testing.T) {
	for host, want := range map[string]string{
		"127.0.0.1:5000":        "http://127.0.0.1:5000",
		"localhost:5000":        "http://localhost:5000",
		"[::1]:5000":            "http://[::1]:5000",
		"proxy.example.invalid": "https://proxy.example.invalid",
	} {
		if got := registryURL(host); got != want {
			t.Errorf("registryURL(%s) = %s, want %s", host, got, want)
		}
	}
}
