package publish

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/layers-dev/layers/config"
)

// cleanAWSEnv leaves the SDK only what the test gives it.
func cleanAWSEnv(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLoadAWSConfigRegionAndProfile(t *testing.T) {
	cleanAWSEnv(t)
	ctx := context.Background()
	if _, err := LoadAWSConfig(ctx, AWSOptions{}); !errors.Is(err, ErrNoRegion) {
		t.Errorf("no region anywhere: err = %v, want ErrNoRegion", err)
	}

	cfgFile := filepath.Join(t.TempDir(), "config")
	write(t, cfgFile, "[profile ci]\nregion = eu-west-3\n[profile other]\nregion = ap-south-1\n")
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_REGION", "us-west-2")
	c := config.Default(t.TempDir())
	c.Publish.Profile = "ci"
	for _, tc := range []struct {
		name, region, profile, tomlRegion, want string
	}{
		{"environment", "", "", "", "us-west-2"},
		{"[publish] region over the environment", "", "", "eu-central-1", "eu-central-1"},
		{"--region over [publish]", "eu-north-1", "", "eu-central-1", "eu-north-1"},
	} {
		c.Publish.Region = tc.tomlRegion
		got, err := LoadAWSConfig(ctx, AWSOptionsFor(c, tc.region, tc.profile))
		if err != nil {
			t.Fatal(err)
		}
		if got.Region != tc.want {
			t.Errorf("%s: region %s, want %s", tc.name, got.Region, tc.want)
		}
	}

	// The profile's region when nothing else names one; --profile over [publish].
	t.Setenv("AWS_REGION", "")
	c.Publish.Region = ""
	for profile, want := range map[string]string{"": "eu-west-3", "other": "ap-south-1"} {
		got, err := LoadAWSConfig(ctx, AWSOptionsFor(c, "", profile))
		if err != nil {
			t.Fatal(err)
		}
		if got.Region != want {
			t.Errorf("--profile %q: region %s, want %s", profile, got.Region, want)
		}
	}
	if _, err := LoadAWSConfig(ctx, AWSOptions{Profile: "missing"}); err == nil {
		t.Error("a missing profile is not an error")
	}
}

func TestRetryer(t *testing.T) {
	r := NewRetryer(nil)
	if r.MaxAttempts() != MaxAttempts || MaxAttempts <= 3 {
		t.Errorf("%d attempts", r.MaxAttempts())
	}
	d, err := r.RetryDelay(30, errors.New("x"))
	if err != nil || d > MaxBackoff {
		t.Errorf("delay at attempt 30: %s, %v; want at most %s", d, err, MaxBackoff)
	}
	var _ aws.RetryerV2 = r
}

// The SDK's per-service endpoint variables win over AWS_ENDPOINT_URL, and
// S3 goes path-style behind one.
func TestServiceEndpointVariables(t *testing.T) {
	s := moto(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing listens there
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", s.Endpoint)
	t.Setenv("AWS_ENDPOINT_URL_S3", s.Endpoint)
	mustBucket(t, s, "zips")
	r := newRepo(t, "[publish]\ns3_bucket = \"zips\"\n", testLayer{name: "t-big", size: 3000, seed: 4})
	r.cfg.Publish.InlineMaxBytes = 1000
	res, err := Publish(context.Background(), r.cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Layers[0]; got.Action != ActionPublishS3 || got.Version != 1 {
		t.Errorf("got %+v", got)
	}
}

// Without credentials, publish fails once, before any layer, rather than
// once per layer with the SDK's long message.
func TestPublishChecksCredentialsOnce(t *testing.T) {
	s := moto(t)
	p := newProxy(t, s)
	r := newRepo(t, "", testLayer{name: "t-one"}, testLayer{name: "t-two"})
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err := Publish(context.Background(), r.cfg, opts())
	var pe *PartialError
	if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "AWS credentials or region") {
		t.Fatalf("err = %v, want one error about credentials", err)
	}
	for o, n := range p.snapshot() {
		t.Errorf("%d %s calls without credentials", n, o)
	}
}
