package publish

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/motoserver"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/stamp"
)

// fastBackoff keeps retries in tests short; the policy is otherwise the
// one users get.
var fastBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 5 * time.Millisecond, nil })

// testLayer is a layer of a test manifest.
type testLayer struct {
	name  string
	size  int // bytes of random content (incompressible), 0 for a small file
	seed  uint64
	pkgs  []planner.PackageRef
	archs []string // targets it belongs to; default x86_64
}

// repo is a repository with a build manifest written by hand: real zips,
// and an inputs digest computed as `layers build` would.
type repo struct {
	root string
	cfg  *config.Config
	m    *manifest.Manifest
}

const testTool = "test"

// newRepo writes a repository with one function, orders, the given layers
// and layers.toml text, and its build manifest.
func newRepo(t testing.TB, toml string, layers ...testLayer) *repo {
	t.Helper()
	root := t.TempDir()
	write(t, filepath.Join(root, "layers.toml"), `functions = ["functions/*"]`+"\n"+toml)
	write(t, filepath.Join(root, "functions/orders/requirements.txt"), "six==1.16.0\n")
	write(t, filepath.Join(root, "functions/orders/app.py"), "def handler(e, c): pass\n")
	cfg, err := config.Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := stamp.Current(context.Background(), cfg, testTool, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{Format: manifest.Format, Tool: testTool, InputsSHA256: digest}
	targets := map[string]*manifest.Target{}
	var order []string
	for _, l := range layers {
		archs := l.archs
		if archs == nil {
			archs = []string{"x86_64"}
		}
		ml := writeZip(t, root, l)
		for _, a := range archs {
			tg := targets[a]
			if tg == nil {
				tg = &manifest.Target{Runtime: "python3.12", Architecture: a,
					Functions: []manifest.Function{{Name: "orders", Path: "functions/orders", PackageType: planner.PackageLayers}}}
				targets[a] = tg
				order = append(order, a)
			}
			tg.Layers = append(tg.Layers, ml)
			tg.Functions[0].Layers = append(tg.Functions[0].Layers, l.name)
		}
	}
	for _, a := range order {
		m.Targets = append(m.Targets, *targets[a])
	}
	if err := manifest.Write(root, m); err != nil {
		t.Fatal(err)
	}
	return &repo{root: root, cfg: cfg, m: m}
}

func noEnv(string) string { return "" }

func write(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeZip writes l's zip under .layers/dist and returns its manifest entry.
func writeZip(t testing.TB, root string, l testLayer) manifest.Layer {
	t.Helper()
	content := []byte("# " + l.name + "\n")
	if l.size > 0 {
		r := rand.New(rand.NewPCG(l.seed, 1))
		content = make([]byte, l.size)
		for i := range content {
			content[i] = byte(r.Uint32())
		}
	}
	var buf bytes.Buffer
	files := []archive.File{archive.FromBytes("python/"+strings.ReplaceAll(l.name, "-", "_")+".py", content, false)}
	if err := archive.WriteZip(&buf, files, time.Unix(315532800, 0)); err != nil {
		t.Fatal(err)
	}
	rel := manifest.DistDir + "/" + l.name + ".zip"
	write(t, filepath.Join(root, rel), buf.String())
	sum := sha256.Sum256(buf.Bytes())
	pkgs := l.pkgs
	if pkgs == nil {
		pkgs = []planner.PackageRef{{Name: l.name, Version: "1.0"}}
	}
	return manifest.Layer{Name: l.name, File: rel, SHA256: hex.EncodeToString(sum[:]),
		CodeSha256: base64.StdEncoding.EncodeToString(sum[:]), ZippedBytes: int64(buf.Len()),
		UnzippedBytes: int64(len(content)), Packages: pkgs, Functions: []string{"orders"}}
}

// opts returns publish options for tests: fast retries, the test tool
// version, no environment.
func opts() Options {
	return Options{Tool: testTool, Getenv: noEnv, backoff: fastBackoff}
}

// moto starts a moto_server and points the SDK's environment at it, or at
// the proxy in front of it when front is not nil.
func moto(t testing.TB) *motoserver.Server {
	t.Helper()
	s := motoserver.Start(t)
	s.Setenv(t)
	return s
}

func lambdaClient(s *motoserver.Server) *lambda.Client { return lambda.NewFromConfig(s.Config()) }

func s3Client(s *motoserver.Server) *s3.Client {
	return s3.NewFromConfig(s.Config(), func(o *s3.Options) { o.UsePathStyle = true })
}

// versionCount returns how many versions each named layer has.
func versionCount(t testing.TB, s *motoserver.Server, names ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, n := range names {
		items, err := listVersions(context.Background(), lambdaClient(s), n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = len(items)
	}
	return out
}

// layerCount returns how many layers moto holds.
func layerCount(t testing.TB, s *motoserver.Server) int {
	t.Helper()
	out, err := lambdaClient(s).ListLayers(context.Background(), &lambda.ListLayersInput{})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Layers)
}

// fault is what the proxy does to one request.
type fault int

const (
	pass           fault = iota
	status429            // Lambda's throttling answer, moto never sees the request
	status500            // a server error, moto never sees the request
	dropBefore           // the connection closes before the request reaches moto
	dropAfter            // moto handles the request, then the connection closes
	status400            // a non-retryable error
	status500After       // moto handles the request, then the client gets a 500
)

// proxy is an HTTP proxy in front of moto that counts requests by
// operation and injects faults.
type proxy struct {
	*httptest.Server
	target string

	mu     sync.Mutex
	counts map[string]int // op -> requests seen
	// injected counts the faults injected, by kind.
	injected map[fault]int
	bytes    map[string]int64
	// faults decides a request's fault from its op and its 1-based number
	// among that op's requests; nil passes everything.
	faults func(op string, n int, r *http.Request) fault
	// pageSize, when not 0, makes ListLayerVersions answer in pages of
	// that many versions, newest first, as AWS does and moto does not.
	pageSize int
}

func newProxy(t testing.TB, s *motoserver.Server) *proxy {
	t.Helper()
	p := &proxy{target: s.Endpoint, counts: map[string]int{}, bytes: map[string]int64{}, injected: map[fault]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	t.Setenv("AWS_ENDPOINT_URL", p.URL)
	return p
}

// op names a request's API operation from its method and path.
func op(r *http.Request) string {
	path := r.URL.Path
	if strings.HasPrefix(path, "/2018-10-31/layers") {
		parts := strings.Split(strings.Trim(path, "/"), "/") // 2018-10-31 layers NAME versions N policy [SID]
		switch {
		case len(parts) == 2:
			return "ListLayers"
		case len(parts) == 4 && r.Method == http.MethodGet:
			return "ListLayerVersions"
		case len(parts) == 4:
			return "PublishLayerVersion"
		case len(parts) == 5 && r.Method == http.MethodDelete:
			return "DeleteLayerVersion"
		case len(parts) == 5:
			return "GetLayerVersion"
		case r.Method == http.MethodGet:
			return "GetLayerVersionPolicy"
		case r.Method == http.MethodPost:
			return "AddLayerVersionPermission"
		default:
			return "RemoveLayerVersionPermission"
		}
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodHead:
		return "HeadObject"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPut:
		return "PutObject"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	}
	return r.Method + " " + path
}

func (p *proxy) count(o string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[o]
}

func (p *proxy) snapshot() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// total returns the requests seen and the bytes of the requests that
// carry zips (S3 uploads, PublishLayerVersion).
func (p *proxy) total() (calls int, zipBytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.counts {
		calls += n
	}
	return calls, p.bytes["PutObject"] + p.bytes["UploadPart"] + p.bytes["PublishLayerVersion"]
}

// setFaults replaces the fault plan.
func (p *proxy) setFaults(f func(op string, n int, r *http.Request) fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
}

func (p *proxy) faultCount(f fault) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected[f]
}

func (p *proxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = map[string]int{}
	p.bytes = map[string]int64{}
	p.injected = map[fault]int{}
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	o := op(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.counts[o]++
	n := p.counts[o]
	p.bytes[o] += int64(len(body))
	decide := p.faults
	p.mu.Unlock()
	f := pass
	if decide != nil {
		f = decide(o, n, r)
	}
	if f != pass {
		p.mu.Lock()
		p.injected[f]++
		p.mu.Unlock()
	}
	switch f {
	case status429:
		w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"Type":"User","message":"Rate exceeded"}`)
		return
	case status500:
		w.Header().Set("X-Amzn-Errortype", "ServiceException")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"Type":"Service","Message":"injected"}`)
		return
	case status400:
		w.Header().Set("X-Amzn-Errortype", "InvalidParameterValueException")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"Type":"User","message":"injected"}`)
		return
	case dropBefore:
		hangUp(w)
		return
	}
	p.mu.Lock()
	pageSize := p.pageSize
	p.mu.Unlock()
	uri := r.URL.RequestURI()
	if pageSize > 0 && o == "ListLayerVersions" {
		uri = r.URL.Path // moto answers with every version
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+uri, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	switch f {
	case dropAfter:
		hangUp(w)
		return
	case status500After:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"Type":"Service","Message":"injected after the fact"}`)
		return
	}
	if pageSize > 0 && o == "ListLayerVersions" && resp.StatusCode == http.StatusOK {
		respBody = page(respBody, r.URL.Query().Get("Marker"), pageSize)
		resp.Header.Del("Content-Length")
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, as a dying load balancer sends
	}
	conn.Close()
}

// mustBucket creates bucket in s.
func mustBucket(t testing.TB, s *motoserver.Server, bucket string) {
	t.Helper()
	if _, err := s3Client(s).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
}

// page cuts one page out of a full ListLayerVersions answer: the versions
// after the one numbered marker (all when marker is ""), newest first.
func page(full []byte, marker string, size int) []byte {
	var doc struct {
		LayerVersions []map[string]any
	}
	if err := json.Unmarshal(full, &doc); err != nil {
		panic(err)
	}
	vs := doc.LayerVersions
	slices.SortFunc(vs, func(a, b map[string]any) int { return cmp.Compare(b["Version"].(float64), a["Version"].(float64)) })
	if marker != "" {
		i := slices.IndexFunc(vs, func(v map[string]any) bool { return fmt.Sprint(v["Version"]) == marker })
		vs = vs[i+1:]
	}
	out := map[string]any{"LayerVersions": vs}
	if len(vs) > size {
		out["LayerVersions"] = vs[:size]
		out["NextMarker"] = fmt.Sprint(vs[size-1]["Version"])
	}
	data, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return data
}
