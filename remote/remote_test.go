package remote

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/layers-dev/layers/internal/testkit/motoserver"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

const bucket = "layers-cache"

// moto starts moto's S3 with the test bucket and points the SDK at it.
func moto(t *testing.T) (*motoserver.Server, *s3.Client) {
	t.Helper()
	s := motoserver.Start(t)
	s.Setenv(t)
	c := s3.NewFromConfig(s.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// objects lists the bucket's keys.
func objects(t *testing.T, c *s3.Client) []string {
	t.Helper()
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	slices.Sort(keys)
	return keys
}

func open(t *testing.T, readOnly bool, warn func(string)) *Tier {
	t.Helper()
	tier, err := Open(context.Background(), Settings{URL: "s3://" + bucket + "/team/repo"}, warn)
	if err != nil || tier == nil {
		t.Fatalf("open: %v, %v", tier, err)
	}
	if readOnly {
		tier.write = false
	}
	return tier
}

var unitFiles = map[string]string{
	"six.py":                             strings.Repeat("# six\n", 5000),
	"six-1.16.0.dist-info/METADATA":      "Name: six\nVersion: 1.16.0\n",
	"six-1.16.0.dist-info/RECORD":        "six.py,,\n",
	"six-1.16.0.dist-info/top_level.txt": "six\n",
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUnitRoundTrip stores a unit, fetches it into an empty folder, and
// checks a second store uploads nothing.
func TestUnitRoundTrip(t *testing.T) {
	_, c := moto(t)
	ctx := context.Background()
	var warnings []string
	tier := open(t, false, func(s string) { warnings = append(warnings, s) })
	src := testfs.Tree(t, unitFiles)
	if err := tier.FetchUnit(ctx, "abc", t.TempDir()); err != ErrMiss {
		t.Fatalf("fetch from an empty store: %v, want ErrMiss", err)
	}
	tier.StoreUnit(ctx, "abc", src)
	if got := objects(t, c); !slices.Equal(got, []string{"team/repo/units/abc.tar.gz"}) {
		t.Fatalf("objects %v", got)
	}
	dst := t.TempDir()
	if err := tier.FetchUnit(ctx, "abc", dst); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, dst); !sameTree(got, unitFiles) {
		t.Errorf("fetched %v", got)
	}
	tier.StoreUnit(ctx, "abc", src)
	st := tier.Stats()
	if st.Uploads != 1 || st.Hits != 1 || st.Misses != 1 || st.Downloaded == 0 || len(warnings) > 0 {
		t.Errorf("stats %+v, warnings %q", st, warnings)
	}

	// Small objects: a resolution is content addressed, a plan is not.
	tier.Store(ctx, ResolutionKey("r1.json"), []byte(`{"a":1}`), true)
	tier.Store(ctx, ResolutionKey("r1.json"), []byte(`{"a":2}`), true)
	if got, err := tier.Fetch(ctx, ResolutionKey("r1.json")); err != nil || string(got) != `{"a":1}` {
		t.Errorf("resolution %q, %v: an immutable object was rewritten", got, err)
	}
	tier.Store(ctx, PlanKey("acme"), []byte("v1"), false)
	tier.Store(ctx, PlanKey("acme"), []byte("v2"), false)
	if got, err := tier.Fetch(ctx, PlanKey("acme")); err != nil || string(got) != "v2" {
		t.Errorf("plan %q, %v, want the newest", got, err)
	}
}

// TestReadOnlyWritesNothing is what a pull request from a fork runs with.
func TestReadOnlyWritesNothing(t *testing.T) {
	_, c := moto(t)
	ctx := context.Background()
	writer := open(t, false, nil)
	writer.StoreUnit(ctx, "abc", testfs.Tree(t, unitFiles))
	before := objects(t, c)
	ro := open(t, true, nil)
	ro.StoreUnit(ctx, "def", testfs.Tree(t, unitFiles))
	ro.Store(ctx, PlanKey("acme"), []byte("plan"), false)
	ro.Store(ctx, ResolutionKey("x.json"), []byte("{}"), true)
	if err := ro.FetchUnit(ctx, "abc", t.TempDir()); err != nil {
		t.Errorf("a read-only tier still reads: %v", err)
	}
	if after := objects(t, c); !slices.Equal(after, before) || len(after) != 1 {
		t.Errorf("objects %v after read-only writes, want %v", after, before)
	}
}

// TestConcurrentWriters stores the same units from two tiers at once, as
// two runners would: the objects stay whole and serve both.
func TestConcurrentWriters(t *testing.T) {
	_, c := moto(t)
	ctx := context.Background()
	src := testfs.Tree(t, unitFiles)
	var wg sync.WaitGroup
	for range 2 {
		tier := open(t, false, func(s string) { t.Errorf("warning: %s", s) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, d := range []string{"u1", "u2", "u3"} {
				tier.StoreUnit(ctx, d, src)
			}
		}()
	}
	wg.Wait()
	if got := objects(t, c); len(got) != 3 {
		t.Fatalf("objects %v", got)
	}
	reader := open(t, true, nil)
	for _, d := range []string{"u1", "u2", "u3"} {
		dst := t.TempDir()
		if err := reader.FetchUnit(ctx, d, dst); err != nil || !sameTree(readTree(t, dst), unitFiles) {
			t.Errorf("unit %s: %v", d, err)
		}
	}
}

// TestCorruptObjectReplaced damages a stored unit and a stored plan: both
// are reported and never used, and the next store rewrites the unit even
// though the key exists.
func TestCorruptObjectReplaced(t *testing.T) {
	_, c := moto(t)
	ctx := context.Background()
	var warnings []string
	tier := open(t, false, func(s string) { warnings = append(warnings, s) })
	src := testfs.Tree(t, unitFiles)
	tier.StoreUnit(ctx, "abc", src)
	tier.Store(ctx, PlanKey("acme"), []byte(`{"plan":1}`), false)
	damage := func(key string, edit func([]byte) []byte) {
		t.Helper()
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("team/repo/" + key)})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("team/repo/" + key), Body: bytes.NewReader(edit(data))}); err != nil {
			t.Fatal(err)
		}
	}
	flip := func(b []byte) []byte { b[len(b)/2] ^= 0xff; return b }
	damage(UnitKey("abc"), flip)
	damage(PlanKey("acme"), func(b []byte) []byte { return append(b[:len(b)-1], '2') })

	if err := tier.FetchUnit(ctx, "abc", t.TempDir()); err != ErrMiss {
		t.Errorf("corrupt unit: %v, want ErrMiss", err)
	}
	if got, err := tier.Fetch(ctx, PlanKey("acme")); err != ErrMiss {
		t.Errorf("corrupt plan served: %q, %v", got, err)
	}
	if st := tier.Stats(); st.Corrupt != 2 || len(warnings) != 2 || !strings.Contains(warnings[0], "corrupt") {
		t.Errorf("stats %+v, warnings %q", st, warnings)
	}
	tier.StoreUnit(ctx, "abc", src)
	dst := t.TempDir()
	if err := tier.FetchUnit(ctx, "abc", dst); err != nil || !sameTree(readTree(t, dst), unitFiles) {
		t.Errorf("the corrupt unit was not replaced: %v", err)
	}
	// A truncated object too (as an interrupted upload of an older tool
	// might leave): reported, not used.
	damage(UnitKey("abc"), func(b []byte) []byte { return b[:len(b)/2] })
	if err := tier.FetchUnit(ctx, "abc", t.TempDir()); err != ErrMiss {
		t.Errorf("truncated unit: %v, want ErrMiss", err)
	}
}

// faults is a proxy in front of moto that injects one kind of fault into
// every matching request.
type faults struct {
	*httptest.Server
	mode     atomic.Value // string: "", "500", "drop", "cut"
	injected atomic.Int64
}

func newFaults(t *testing.T, s *motoserver.Server) *faults {
	t.Helper()
	target, _ := url.Parse(s.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	f := &faults{}
	f.mode.Store("")
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch f.mode.Load().(string) {
		case "500":
			f.injected.Add(1)
			http.Error(w, "<Error><Code>InternalError</Code></Error>", http.StatusInternalServerError)
			return
		case "drop":
			f.injected.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		case "cut":
			if r.Method == http.MethodGet {
				f.injected.Add(1)
				rec := httptest.NewRecorder()
				rp.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				w.Write(body[:len(body)/2])
				// Close the connection mid-body: the client sees a short read.
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.Close()
				}
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	t.Setenv("AWS_ENDPOINT_URL", f.URL)
	return f
}

// TestFaultsNeverFailOrServeBadBytes runs the tier through a proxy that
// fails every request with a 500, drops every connection, or cuts every
// download short. Each time the tier answers with a miss and one warning,
// and never hands out a partial unit.
func TestFaultsNeverFailOrServeBadBytes(t *testing.T) {
	s, _ := moto(t)
	ctx := context.Background()
	seed := open(t, false, nil)
	seed.StoreUnit(ctx, "abc", testfs.Tree(t, unitFiles))
	seed.Store(ctx, PlanKey("acme"), []byte("plan"), false)
	f := newFaults(t, s)
	for _, mode := range []string{"500", "drop", "cut"} {
		t.Run(mode, func(t *testing.T) {
			f.mode.Store(mode)
			defer f.mode.Store("")
			var warnings []string
			tier := open(t, false, func(s string) { warnings = append(warnings, s) })
			dst := t.TempDir()
			if err := tier.FetchUnit(ctx, "abc", dst); err != ErrMiss {
				t.Errorf("fetch: %v, want ErrMiss", err)
			}
			if _, err := tier.Fetch(ctx, PlanKey("acme")); err != ErrMiss {
				t.Errorf("fetch plan: %v, want ErrMiss", err)
			}
			tier.StoreUnit(ctx, "new", testfs.Tree(t, unitFiles))
			if f.injected.Load() == 0 {
				t.Fatal("no fault injected")
			}
			want := 1
			if mode == "cut" {
				// A short body is a corrupt read, each reported, not a
				// dead store.
				want = 2
				if st := tier.Stats(); st.Corrupt != 2 {
					t.Errorf("stats %+v: a cut body was not caught by its checksum", st)
				}
			}
			if len(warnings) != want {
				t.Errorf("warnings %q, want %d", warnings, want)
			}
		})
	}
}

// TestNoCredentialsInWarnings makes the tier fail against a missing
// bucket with a planted secret key and checks no warning shows it.
func TestNoCredentialsInWarnings(t *testing.T) {
	moto(t)
	const secret = "s3cr3t-PLANTED-k3y"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	var warnings []string
	tier, err := Open(context.Background(), Settings{URL: "s3://no-such-bucket/x"}, func(s string) { warnings = append(warnings, s) })
	if err != nil || tier == nil {
		t.Fatal(err)
	}
	tier.StoreUnit(context.Background(), "abc", testfs.Tree(t, unitFiles))
	if len(warnings) != 1 || !strings.Contains(warnings[0], "s3://no-such-bucket/x") {
		t.Fatalf("warnings %q", warnings)
	}
	if strings.Contains(warnings[0], secret) {
		t.Errorf("the warning shows the secret key: %s", warnings[0])
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct{ in, bucket, prefix string }{
		{"s3://b", "b", ""},
		{"s3://b/", "b", ""},
		{"s3://b/team/repo/", "b", "team/repo"},
	} {
		b, p, err := ParseURL(c.in)
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("%s: %q %q %v", c.in, b, p, err)
		}
	}
	for _, bad := range []string{"", "b/x", "gs://b/x", "s3:///x", "s3://user:pw@b/x", "s3://b/x?y=1"} {
		if _, _, err := ParseURL(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
