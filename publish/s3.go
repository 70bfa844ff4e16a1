package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 is the part of the S3 API publish calls: what the transfer manager
// needs for (multipart) uploads, HeadObject among it. *s3.Client
// implements it.
type S3 interface {
	transfermanager.S3APIClient
}

var _ S3 = (*s3.Client)(nil)

// objectKey is where a zip with hex SHA-256 sum goes in the bucket: the
// hash is the key, so an object already there is the same zip, and
// uploads are skipped across runs, branches and repositories.
func objectKey(prefix, sum string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix + "sha256/" + sum + ".zip"
}

// objectExists reports whether bucket holds key with size bytes.
func objectExists(ctx context.Context, sc S3, bucket, key string, size int64) (bool, error) {
	out, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for s3://%s/%s: %w", bucket, key, err)
	}
	// S3 puts are atomic: an object of another size is not a partial
	// upload but something else under our key; replace it.
	return aws.ToInt64(out.ContentLength) == size, nil
}

// uploadZip puts the file at path into bucket under key unless it is
// there, multipart above threshold bytes (0: the transfer manager's
// default), and returns the bytes it sent.
func uploadZip(ctx context.Context, sc S3, bucket, key, path string, size, threshold int64) (int64, error) {
	ok, err := objectExists(ctx, sc, bucket, key, size)
	if err != nil || ok {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("upload to s3://%s/%s: %w", bucket, key, err)
	}
	defer f.Close()
	tm := transfermanager.New(sc, func(o *transfermanager.Options) {
		if threshold > 0 {
			o.MultipartUploadThreshold = threshold
		}
	})
	_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: f, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return 0, fmt.Errorf("upload to s3://%s/%s: %w", bucket, key, err)
	}
	return size, nil
}
