package publish

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/golden"
)

func sampleOutputs() *Outputs {
	arn := func(name string, v int) string {
		return "arn:aws:lambda:eu-west-1:123456789012:layer:" + name + ":" + string(rune('0'+v))
	}
	return &Outputs{
		Format: OutputsFormat, Region: "eu-west-1", Account: "123456789012", InputsSHA256: strings.Repeat("1", 64),
		Functions: map[string]map[string]FunctionOutput{
			"orders": {
				"x86_64": {Runtime: "python3.12", PackageType: "layers", Layers: []string{arn("acme-aws-1a2b3c", 3), arn("acme-web-4d5e6f", 1)}},
				"arm64":  {Runtime: "python3.12", PackageType: "layers", Layers: []string{arn("acme-aws-7a8b9c", 2)}},
			},
			"my-reports": {
				"x86_64": {Runtime: "python3.12", PackageType: "image", Layers: []string{},
					ImageURI: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/functions@sha256:" + strings.Repeat("b", 64)},
			},
			"ping": {"x86_64": {Runtime: "python3.13", PackageType: "layers", Layers: []string{}}},
		},
		Layers: map[string]LayerOutput{
			"acme-aws-1a2b3c": {ARN: arn("acme-aws-1a2b3c", 3), LayerARN: "arn:aws:lambda:eu-west-1:123456789012:layer:acme-aws-1a2b3c",
				Version: 3, SHA256: strings.Repeat("c", 64), CodeSha256: "zMzM", CompatibleRuntimes: []string{"python3.12"}, CompatibleArchitectures: []string{"x86_64"}},
		},
	}
}

func TestOutputsFormats(t *testing.T) {
	o := sampleOutputs()
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			var buf bytes.Buffer
			if err := o.Encode(&buf, f); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "outputs."+f, buf.String())
		})
	}
	if err := o.Encode(&bytes.Buffer{}, "yaml"); err == nil || !strings.Contains(err.Error(), "json, tfvars, env, sam") {
		t.Errorf("unknown format: err = %v", err)
	}
}

func TestOutputsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "outputs.json")
	if err := WriteOutputs(path, sampleOutputs()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadOutputs(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sampleOutputs()) {
		t.Errorf("read back %+v", got)
	}
	os.WriteFile(path, []byte(`{"format": 2}`), 0o644)
	if _, err := ReadOutputs(path); err == nil || !strings.Contains(err.Error(), "format 2") {
		t.Errorf("other format: err = %v", err)
	}
}

func TestOutputsNameCollision(t *testing.T) {
	o := &Outputs{Functions: map[string]map[string]FunctionOutput{
		"my-fn": {"x86_64": {PackageType: "layers"}},
		"my_fn": {"x86_64": {PackageType: "layers"}},
	}}
	if err := o.Encode(&bytes.Buffer{}, "env"); err == nil || !strings.Contains(err.Error(), "LAYERS_MY_FN_X86_64_LAYERS") {
		t.Errorf("err = %v, want the colliding name", err)
	}
}
