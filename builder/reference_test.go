package builder_test

import (
	"bytes"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// reference is the reference set, pinned for python3.11 on
// x86_64: the web stack, the AWS SDK, pydantic with its compiled core,
// numpy and pandas. Three functions share parts of it.
var reference = map[string]string{
	"functions/api/requirements.txt": "requests==2.32.3\nurllib3==2.2.3\nidna==3.10\ncertifi==2024.8.30\ncharset-normalizer==3.4.0\n" +
		"pydantic==2.9.2\npydantic-core==2.23.4\nannotated-types==0.7.0\ntyping-extensions==4.12.2\n",
	"functions/ingest/requirements.txt": "boto3==1.35.54\nbotocore==1.35.54\ns3transfer==0.10.3\njmespath==1.0.1\n" +
		"python-dateutil==2.9.0.post0\nsix==1.16.0\nurllib3==2.2.3\n" +
		"pydantic==2.9.2\npydantic-core==2.23.4\nannotated-types==0.7.0\ntyping-extensions==4.12.2\n",
	"functions/report/requirements.txt": "pandas==2.2.3\nnumpy==2.1.3\npython-dateutil==2.9.0.post0\nsix==1.16.0\npytz==2024.2\ntzdata==2024.2\n" +
		"boto3==1.35.54\nbotocore==1.35.54\ns3transfer==0.10.3\njmespath==1.0.1\nurllib3==2.2.3\n",
}

var referenceImports = map[string]string{
	"api": "import requests, pydantic; assert pydantic.TypeAdapter(int).validate_python('7') == 7",
	"ingest": "import boto3, botocore.session, pydantic; " +
		"boto3.session.Session(region_name='us-east-1').client('s3')",
	"report": "import numpy, pandas, boto3; " +
		"assert pandas.DataFrame({'a': numpy.arange(3)})['a'].sum() == 3",
}

// TestBuildReferenceSet builds the reference set twice with empty caches:
// every layer zip, byte code included, must be byte-identical, and every
// function's layers must import (and work) in the build image.
func TestBuildReferenceSet(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 60 MB of wheels; skipped with -short")
	}
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	var first map[string][]byte
	for i := range 2 {
		cfg := writeRepo(t, image, copyMap(reference))
		res, err := build(t, d, cfg, t.TempDir())
		if err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
		got := zips(t, cfg, res.Manifest)
		if first == nil {
			first = got
			importLayers(t, d, image, cfg, res.Manifest, referenceImports)
			t.Logf("%d pycs in the layers", checkByteCode(t, got))
			continue
		}
		if len(got) != len(first) {
			t.Errorf("builds made %d and %d layers", len(first), len(got))
		}
		for name, data := range first {
			if !bytes.Equal(got[name], data) {
				t.Errorf("layer %s differs between two builds with empty caches", name)
			}
		}
	}
}
