package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/layers-dev/layers/planner"
)

func TestReadWrite(t *testing.T) {
	root := t.TempDir()
	if _, err := Read(root); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("Read of an unbuilt repository = %v, want ErrNoManifest", err)
	}
	size := int64(42)
	m := &Manifest{Format: Format, Tool: "test", InputsSHA256: "abc", SourceDateEpoch: 315532800, Targets: []Target{{
		Runtime: "python3.12", Architecture: "x86_64",
		Image:     BuildImage{Ref: "img", ID: "sha256:1", Platform: "linux/amd64"},
		Layers:    []Layer{{Name: "acme-aws-0123", File: DistDir + "/acme-aws-0123.zip", Packages: []planner.PackageRef{{Name: "boto3", Version: "1.0"}}, Functions: []string{"orders"}}},
		Functions: []Function{{Name: "orders", Path: "functions/orders", PackageType: planner.PackageLayers, Layers: []string{"acme-aws-0123"}, UnzippedBytes: &size}},
		Images:    []Image{},
	}}}
	if err := Write(root, m); err != nil {
		t.Fatal(err)
	}
	got, err := Read(root)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("Read after Write =\n%+v\nwant\n%+v", got, m)
	}
	if l := got.LayersByName(); len(l) != 1 || l["acme-aws-0123"].Functions[0] != "orders" {
		t.Errorf("LayersByName = %+v", l)
	}
	if l := (*Manifest)(nil).LayersByName(); len(l) != 0 {
		t.Errorf("nil manifest has layers %v", l)
	}
}

func TestReadRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"other format": {`{"format": 99}`, "format 99, this layers reads format 1"},
		"not JSON":     {`{"format": `, ".layers/build.json: unexpected end of JSON input"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, Dir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(Path(root), []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(root)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
