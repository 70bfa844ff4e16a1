package publish

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/stamp"
)

func twoLayers() []testLayer {
	return []testLayer{
		{name: "t-aws", pkgs: []planner.PackageRef{{Name: "boto3", Version: "1.35.0"}, {Name: "botocore", Version: "1.35.0"}}, archs: []string{"x86_64", "arm64"}},
		{name: "t-web", pkgs: []planner.PackageRef{{Name: "requests", Version: "2.32.3"}}},
	}
}

func TestPublishTwiceCreatesNothingTheSecondTime(t *testing.T) {
	s := moto(t)
	r := newRepo(t, "", twoLayers()...)
	ctx := context.Background()

	res, err := Publish(ctx, r.cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Layers {
		if l.Action != ActionPublish || l.Version != 1 || !strings.HasSuffix(l.ARN, ":layer:"+l.Name+":1") {
			t.Errorf("first publish of %s: %+v", l.Name, l)
		}
	}
	if got := versionCount(t, s, "t-aws", "t-web"); got["t-aws"] != 1 || got["t-web"] != 1 {
		t.Fatalf("versions after the first publish: %v", got)
	}
	// What was published is what the manifest says.
	v, err := lambdaClient(s).GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("t-aws"), VersionNumber: aws.Int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	want := r.m.Targets[0].Layers[0]
	if got := aws.ToString(v.Content.CodeSha256); got != want.CodeSha256 {
		t.Errorf("CodeSha256 %s, manifest says %s", got, want.CodeSha256)
	}
	if d := aws.ToString(v.Description); d != "layers sha256:"+want.SHA256+" boto3==1.35.0 botocore==1.35.0" {
		t.Errorf("description %q", d)
	}
	if !sameSet([]string{"x86_64", "arm64"}, v.CompatibleArchitectures) || !sameSet([]string{"python3.12"}, v.CompatibleRuntimes) {
		t.Errorf("runtimes %v, architectures %v", v.CompatibleRuntimes, v.CompatibleArchitectures)
	}

	first, err := ReadOutputs(filepath.Join(r.root, ".layers/outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantARNs := []string{res.Layers[0].ARN, res.Layers[1].ARN}
	if got := first.Functions["orders"]["x86_64"]; got.PackageType != "layers" || got.Runtime != "python3.12" || !slices.Equal(got.Layers, wantARNs) {
		t.Errorf("outputs for orders/x86_64: %+v, want layers %v", got, wantARNs)
	}
	if got := first.Functions["orders"]["arm64"].Layers; !slices.Equal(got, wantARNs[:1]) {
		t.Errorf("outputs for orders/arm64: %v", got)
	}
	if first.Account != "123456789012" || first.Region != "us-east-1" || first.Layers["t-aws"].Version != 1 {
		t.Errorf("outputs: %+v", first)
	}

	res, err = Publish(ctx, r.cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Layers {
		if l.Action != ActionReuse || l.Version != 1 {
			t.Errorf("second publish of %s: %+v", l.Name, l)
		}
	}
	if got := versionCount(t, s, "t-aws", "t-web"); got["t-aws"] != 1 || got["t-web"] != 1 {
		t.Fatalf("versions after the second publish: %v, want 1 each", got)
	}
	second, err := ReadOutputs(filepath.Join(r.root, ".layers/outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if string(a) != string(b) {
		t.Errorf("outputs changed on a no-change publish:\n%s\n%s", a, b)
	}
}

// A version whose description carries the hash but whose code differs (a
// description edited by hand, or another tool's) is not reused; nor is
// one for other architectures.
func TestPublishChecksCodeAndArchitectures(t *testing.T) {
	s := moto(t)
	r := newRepo(t, "", testLayer{name: "t-one"})
	ctx := context.Background()
	l := r.m.Targets[0].Layers[0]
	zip, err := os.ReadFile(filepath.Join(r.root, l.File))
	if err != nil {
		t.Fatal(err)
	}
	lc := lambdaClient(s)
	for _, in := range []*lambda.PublishLayerVersionInput{
		{ // right description, wrong code
			LayerName: aws.String("t-one"), Description: aws.String(description(l.SHA256, nil)),
			Content:            &types.LayerVersionContentInput{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))},
			CompatibleRuntimes: []types.Runtime{"python3.12"}, CompatibleArchitectures: []types.Architecture{"x86_64"},
		},
		{ // right code, wrong architecture
			LayerName: aws.String("t-one"), Description: aws.String(description(l.SHA256, nil)),
			Content: &types.LayerVersionContentInput{ZipFile: zip}, CompatibleRuntimes: []types.Runtime{"python3.12"},
			CompatibleArchitectures: []types.Architecture{"arm64"},
		},
	} {
		if _, err := lc.PublishLayerVersion(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Publish(ctx, r.cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Layers[0]; got.Action != ActionPublish || got.Version != 3 {
		t.Fatalf("got %+v, want a new version 3", got)
	}
}

func TestPublishThroughS3(t *testing.T) {
	s := moto(t)
	p := newProxy(t, s)
	mustBucket(t, s, "zips")
	r := newRepo(t, "[publish]\ns3_bucket = \"zips\"\ns3_prefix = \"ci/layers\"\n",
		testLayer{name: "t-big", size: 11 << 20, seed: 1}, testLayer{name: "t-small"})
	r.cfg.Publish.InlineMaxBytes = 1 << 20
	ctx := context.Background()
	o := opts()
	o.multipartThreshold = 5 << 20

	res, err := Publish(ctx, r.cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	big := r.m.Targets[0].Layers[0]
	key := "ci/layers/sha256/" + big.SHA256 + ".zip"
	if got := res.Layers[0]; got.Action != ActionPublishS3 || got.UploadedBytes != big.ZippedBytes || got.S3Key != key {
		t.Errorf("big layer: %+v", got)
	}
	if got := res.Layers[1]; got.Action != ActionPublish || got.UploadedBytes != r.m.Targets[0].Layers[1].ZippedBytes {
		t.Errorf("small layer: %+v", got)
	}
	if n := p.count("UploadPart"); n < 2 {
		t.Errorf("%d UploadPart calls for an 11 MiB zip over a 5 MiB threshold, want a multipart upload", n)
	}
	head, err := s3Client(s).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("zips"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("the zip is not under its hash key: %v", err)
	}
	if aws.ToInt64(head.ContentLength) != big.ZippedBytes {
		t.Errorf("object holds %d bytes, zip has %d", aws.ToInt64(head.ContentLength), big.ZippedBytes)
	}
	v, err := lambdaClient(s).GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("t-big"), VersionNumber: aws.Int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v.Content.CodeSha256) != big.CodeSha256 {
		t.Errorf("published from S3 with CodeSha256 %s, want %s", aws.ToString(v.Content.CodeSha256), big.CodeSha256)
	}

	// The version goes (gc, a person); the object stays: the next publish
	// makes a version from it without uploading again.
	if _, err := lambdaClient(s).DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String("t-big"), VersionNumber: aws.Int64(1)}); err != nil {
		t.Fatal(err)
	}
	p.reset()
	res, err = Publish(ctx, r.cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Layers[0]; got.Action != ActionPublishS3 || got.UploadedBytes != 0 || got.Version != 2 {
		t.Errorf("republish of the big layer: %+v, want version 2 with nothing uploaded", got)
	}
	if n := p.count("PutObject") + p.count("UploadPart") + p.count("CreateMultipartUpload"); n != 0 {
		t.Errorf("%d upload calls for a zip already in the bucket", n)
	}
}

func TestPublishTooBigWithoutBucket(t *testing.T) {
	s := moto(t)
	r := newRepo(t, "", testLayer{name: "t-small"}, testLayer{name: "t-big", size: 4000, seed: 2})
	r.cfg.Publish.InlineMaxBytes = 1000
	_, err := Publish(context.Background(), r.cfg, opts())
	if err == nil || !strings.Contains(err.Error(), "s3_bucket") || !strings.Contains(err.Error(), "t-big") {
		t.Fatalf("err = %v, want one naming t-big and s3_bucket", err)
	}
	if n := layerCount(t, s); n != 0 {
		t.Errorf("%d layers exist, want none published before the error", n)
	}
}

func TestPublishShares(t *testing.T) {
	s := moto(t)
	r := newRepo(t, "[publish]\nshare_with = [\"111122223333\", \"*\", \"o-abcdefghij\"]\n", testLayer{name: "t-one"})
	ctx := context.Background()
	res, err := Publish(ctx, r.cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Layers[0].SharesAdded; got != 3 {
		t.Errorf("added %d statements, want 3", got)
	}
	sids := func() []string {
		t.Helper()
		ids, err := policyStatements(ctx, lambdaClient(s), "t-one", 1)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		return ids
	}
	if got, want := sids(), []string{"layers-share-111122223333", "layers-share-all", "layers-share-o-abcdefghij"}; !slices.Equal(got, want) {
		t.Fatalf("statements %v, want %v", got, want)
	}
	out, err := lambdaClient(s).GetLayerVersionPolicy(ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String("t-one"), VersionNumber: aws.Int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(out.Policy), "o-abcdefghij") || !strings.Contains(aws.ToString(out.Policy), "111122223333") {
		t.Errorf("policy does not name the principals: %s", aws.ToString(out.Policy))
	}

	res, err = Publish(ctx, r.cfg, opts())
	if err != nil {
		t.Fatalf("rerun with the statements present: %v", err)
	}
	if got := res.Layers[0]; got.SharesAdded != 0 || got.SharesRemoved != 0 || got.Action != ActionReuse {
		t.Errorf("rerun: %+v", got)
	}

	// A statement added meanwhile by someone else stays; ours follow the config.
	if _, err := lambdaClient(s).AddLayerVersionPermission(ctx, &lambda.AddLayerVersionPermissionInput{
		LayerName: aws.String("t-one"), VersionNumber: aws.Int64(1), StatementId: aws.String("manual"),
		Action: aws.String("lambda:GetLayerVersion"), Principal: aws.String("444455556666"),
	}); err != nil {
		t.Fatal(err)
	}
	r.cfg.Publish.ShareWith = []string{"111122223333"}
	res, err = Publish(ctx, r.cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Layers[0]; got.SharesRemoved != 2 {
		t.Errorf("removed %d statements, want 2", got.SharesRemoved)
	}
	if got, want := sids(), []string{"layers-share-111122223333", "manual"}; !slices.Equal(got, want) {
		t.Errorf("statements %v, want %v", got, want)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	s := moto(t)
	p := newProxy(t, s)
	mustBucket(t, s, "zips")
	r := newRepo(t, "[publish]\ns3_bucket = \"zips\"\nshare_with = [\"*\"]\n", testLayer{name: "t-big", size: 4000, seed: 3}, testLayer{name: "t-small"})
	r.cfg.Publish.InlineMaxBytes = 1000
	ctx := context.Background()
	o := opts()
	o.DryRun = true
	res, err := Publish(ctx, r.cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Layers {
		got = append(got, l.Name+": "+describe(l, true))
	}
	if want := []string{"t-big: upload to S3 then publish", "t-small: publish"}; !slices.Equal(got, want) {
		t.Errorf("dry run says %q, want %q", got, want)
	}
	for o, n := range p.snapshot() {
		switch o {
		case "ListLayerVersions", "HeadObject":
		default:
			t.Errorf("dry run made %d %s calls", n, o)
		}
	}
	if n := layerCount(t, s); n != 0 {
		t.Errorf("dry run published %d layers", n)
	}
	if _, err := os.Stat(filepath.Join(r.root, ".layers/outputs.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run wrote outputs: %v", err)
	}

	if _, err := Publish(ctx, r.cfg, opts()); err != nil {
		t.Fatal(err)
	}
	res, err = Publish(ctx, r.cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Layers {
		if d := describe(l, true); d != "reuse version 1" {
			t.Errorf("dry run after publishing: %s: %s", l.Name, d)
		}
	}
}

func TestManifestMissingOrStale(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t, "", testLayer{name: "t-one"})
	// No AWS needed: these fail before any call.
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)

	write(t, filepath.Join(r.root, "functions/orders/requirements.txt"), "six==1.17.0\n")
	if _, err := Publish(ctx, r.cfg, opts()); !errors.Is(err, stamp.ErrStaleManifest) || !strings.Contains(err.Error(), "run `layers build`") {
		t.Errorf("changed requirements: err = %v, want stamp.ErrStaleManifest", err)
	}
	write(t, filepath.Join(r.root, "functions/orders/requirements.txt"), "six==1.16.0\n")

	o := opts()
	o.Tool = "other"
	if _, err := Publish(ctx, r.cfg, o); !errors.Is(err, stamp.ErrStaleManifest) {
		t.Errorf("other layers version: err = %v, want stamp.ErrStaleManifest", err)
	}

	zip := filepath.Join(r.root, r.m.Targets[0].Layers[0].File)
	write(t, zip, "not the zip that was built")
	if _, err := Publish(ctx, r.cfg, opts()); err == nil || !strings.Contains(err.Error(), "changed since the build") {
		t.Errorf("changed zip: err = %v", err)
	}
	os.Remove(zip)
	if _, err := Publish(ctx, r.cfg, opts()); err == nil || !strings.Contains(err.Error(), "run `layers build`") {
		t.Errorf("missing zip: err = %v", err)
	}

	os.Remove(manifest.Path(r.root))
	if _, err := Publish(ctx, r.cfg, opts()); !errors.Is(err, manifest.ErrNoManifest) {
		t.Errorf("no manifest: err = %v, want ErrNoManifest", err)
	}
}

// Real AWS answers ListLayerVersions in pages, newest first; the version
// to reuse may be on the last one.
func TestPublishFollowsPages(t *testing.T) {
	s := moto(t)
	p := newProxy(t, s)
	ctx := context.Background()
	r := newRepo(t, "", testLayer{name: "t-one"})
	if _, err := Publish(ctx, r.cfg, opts()); err != nil {
		t.Fatal(err)
	}
	for _, c := range "abc" {
		_, err := lambdaClient(s).PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
			LayerName: aws.String("t-one"), Description: aws.String(descriptionPrefix + strings.Repeat(string(c), 64)),
			Content: &types.LayerVersionContentInput{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	p.pageSize = 1
	p.mu.Unlock()
	p.reset()
	res, err := Publish(ctx, r.cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Layers[0]; got.Action != ActionReuse || got.Version != 1 {
		t.Errorf("got %+v, want a reuse of version 1 from the last page", got)
	}
	if n := p.count("ListLayerVersions"); n != 4 {
		t.Errorf("%d ListLayerVersions calls for 4 versions in pages of 1, want 4", n)
	}
}
