package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Options configure OpenS3.
type S3Options struct {
	// Region and Profile override the SDK's environment and shared
	// configuration, as [publish] region and profile do for publish.
	Region, Profile string
}

// attempts bounds the tries of one S3 call: the tier is best effort, and
// a store that fails three times in a row is off for the run.
const attempts = 3

// ParseURL splits an s3://BUCKET/PREFIX URL.
func ParseURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("remote cache URL %q: want s3://BUCKET/PREFIX", raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// OpenS3 returns the store at an s3://BUCKET/PREFIX URL. Credentials come
// from the SDK's standard chain; AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_S3
// point it at another endpoint (an emulator, MinIO), with path-style
// addressing.
func OpenS3(ctx context.Context, rawURL string, o S3Options) (Store, error) {
	bucket, prefix, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRetryMaxAttempts(attempts),
		// Unreachable stores fail fast; a large unit may still take long
		// to stream, so the whole request has no deadline.
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
			t.ResponseHeaderTimeout = 30 * time.Second
		})),
	}
	if o.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("remote cache: load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("remote cache: no AWS region: set AWS_REGION or [publish] region")
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		// Every object carries its own sha256; the SDK's note that an
		// emulator sent none is noise on the user's terminal.
		so.DisableLogOutputChecksumValidationSkipped = true
		if cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" {
			so.UsePathStyle = true
		}
	})
	return &s3Store{client: client, bucket: bucket, prefix: prefix}, nil
}

// s3Store is a Store in one bucket, under one prefix.
type s3Store struct {
	client *s3.Client
	bucket string
	prefix string
}

func (s *s3Store) Location() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + s.prefix
}

func (s *s3Store) key(k string) (*string, error) {
	if err := cleanKey(k); err != nil {
		return nil, err
	}
	if s.prefix == "" {
		return aws.String(k), nil
	}
	return aws.String(s.prefix + "/" + k), nil
}

func (s *s3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: k})
	if err != nil {
		if notFound(err) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	return out.Body, nil
}

func (s *s3Store) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: k, Body: r, ContentLength: aws.Int64(size)})
	return err
}

func (s *s3Store) Exists(ctx context.Context, key string) (bool, error) {
	k, err := s.key(key)
	if err != nil {
		return false, err
	}
	_, err = s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: k})
	if err == nil {
		return true, nil
	}
	if notFound(err) {
		return false, nil
	}
	return false, err
}

// notFound says whether err is S3's answer for a missing key. A missing
// bucket is not: that is a misconfiguration the warning must name.
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}
