package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/layers-dev/layers/config"
)

// Retry policy of every AWS call layers makes. CI runs publish dozens of
// layers at once against a throttled control plane: more attempts than the
// SDK's 3, and waits that grow to MaxBackoff.
const (
	MaxAttempts = 10
	MaxBackoff  = 20 * time.Second
)

// AWSOptions choose the account and region. Empty fields fall back to the
// SDK's standard chain (AWS_PROFILE, AWS_REGION, the shared config files,
// SSO, IMDS...).
type AWSOptions struct {
	Region  string
	Profile string

	// backoff replaces the jittered exponential backoff; tests use it to
	// keep retries fast.
	backoff retry.BackoffDelayer
}

// AWSOptionsFor returns the AWS options of a run: the flags (region,
// profile; "" when not given) over cfg's [publish] settings.
func AWSOptionsFor(cfg *config.Config, region, profile string) AWSOptions {
	o := AWSOptions{Region: region, Profile: profile}
	if o.Region == "" {
		o.Region = cfg.Publish.Region
	}
	if o.Profile == "" {
		o.Profile = cfg.Publish.Profile
	}
	return o
}

// ErrNoRegion is returned by LoadAWSConfig when no region is set anywhere.
var ErrNoRegion = errors.New("no AWS region: pass --region, set [publish] region in layers.toml, or set AWS_REGION")

// LoadAWSConfig loads the SDK configuration every AWS client of layers
// shares: credentials from the standard chain (with o.Profile), o.Region
// over the environment's, and the retry policy of NewRetryer. Endpoint
// overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) are the SDK's own.
func LoadAWSConfig(ctx context.Context, o AWSOptions) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	backoff := o.backoff
	opts = append(opts, awsconfig.WithRetryer(func() aws.Retryer { return NewRetryer(backoff) }))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	return cfg, nil
}

// CheckAccess makes one cheap Lambda call (ListLayers, one item) with
// cfg, so that a run without working credentials or with a region that does
// not exist fails once, before any layer, instead of once per layer with
// the SDK's long message. A refusal (AccessDenied) proves both work: the
// calls publish needs are allowed or refused layer by layer.
func CheckAccess(ctx context.Context, lc Lambda, region string) error {
	_, err := lc.ListLayers(ctx, &lambda.ListLayersInput{MaxItems: aws.Int32(1)})
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException" {
		return nil
	}
	return fmt.Errorf("AWS credentials or region %q do not work (nothing was published): %w", region, err)
}

// NewRetryer returns the retry policy of layers' AWS calls: the SDK's
// standard retryer (throttling, 5xx, connection resets) with MaxAttempts,
// jittered exponential backoff capped at MaxBackoff (or backoff when not
// nil), and 429 retried whatever the error code. The SDK's retry token
// bucket is off: a run is short and --jobs already bounds its calls, and a
// bucket drained by one burst of throttling would fail the layers after it
// without even trying.
func NewRetryer(backoff retry.BackoffDelayer) aws.RetryerV2 {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
		if backoff != nil {
			o.Backoff = backoff
		}
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{429: {}}})
	})
}

// newLambda returns a Lambda client for cfg.
func newLambda(cfg aws.Config) *lambda.Client {
	return lambda.NewFromConfig(cfg)
}

// newS3 returns an S3 client for cfg, path-style when an endpoint is
// overridden: emulators and S3-compatible stores have no per-bucket DNS.
func newS3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" {
			o.UsePathStyle = true
		}
	})
}
