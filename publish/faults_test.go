package publish

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPublishSurvivesFaults puts a fault-injecting proxy between the SDK
// and moto. Whatever it does, publish completes, every layer ends with
// exactly one version (a lost PublishLayerVersion response is not
// retried into a duplicate), and a permission whose response was lost is
// not an error on retry.
func TestPublishSurvivesFaults(t *testing.T) {
	s := moto(t)
	p := newProxy(t, s)
	ctx := context.Background()
	cases := []struct {
		name   string
		faults func(op string, n int, r *http.Request) fault
		want   []fault // kinds that must have been injected
	}{
		{
			name: "throttled and failing",
			faults: func(op string, n int, _ *http.Request) fault {
				switch {
				case n <= 2:
					return status429
				case n == 3:
					return status500
				}
				return pass
			},
			want: []fault{status429, status500},
		},
		{
			name: "connections dropped before",
			faults: func(op string, n int, _ *http.Request) fault {
				if n%2 == 1 && n < 6 {
					return dropBefore
				}
				return pass
			},
			want: []fault{dropBefore},
		},
		{
			name: "responses lost after the work was done",
			faults: func(op string, n int, _ *http.Request) fault {
				switch op {
				case "PublishLayerVersion":
					if n%2 == 1 {
						return dropAfter
					}
					return status500After
				case "AddLayerVersionPermission", "PutObject", "UploadPart":
					if n == 1 {
						return dropAfter
					}
				}
				return pass
			},
			want: []fault{dropAfter, status500After},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			mustBucket(t, s, "zips")
			layers := []testLayer{{name: "t-a"}, {name: "t-b"}, {name: "t-c"}, {name: "t-d"}, {name: "t-big", size: 3000, seed: 9}}
			r := newRepo(t, "[publish]\ns3_bucket = \"zips\"\nshare_with = [\"111122223333\"]\n", layers...)
			r.cfg.Publish.InlineMaxBytes = 1000
			p.reset()
			p.setFaults(c.faults)
			defer p.setFaults(nil)

			res, err := Publish(ctx, r.cfg, opts())
			if err != nil {
				t.Fatalf("publish through faults: %v", err)
			}
			p.setFaults(nil)
			for _, f := range c.want {
				if p.faultCount(f) == 0 {
					t.Errorf("fault %d never injected: the test does not test it", f)
				}
			}
			var names []string
			for _, l := range res.Layers {
				names = append(names, l.Name)
				if l.Version != 1 {
					t.Errorf("%s: version %d, want 1", l.Name, l.Version)
				}
			}
			for name, n := range versionCount(t, s, names...) {
				if n != 1 {
					t.Errorf("layer %s has %d versions, want 1", name, n)
				}
				ids, err := policyStatements(ctx, lambdaClient(s), name, 1)
				if err != nil || !slices.Equal(ids, []string{"layers-share-111122223333"}) {
					t.Errorf("layer %s statements %v, %v", name, ids, err)
				}
			}
			if _, err := ReadOutputs(filepath.Join(r.root, ".layers/outputs.json")); err != nil {
				t.Error(err)
			}
		})
	}
}

// A layer that fails for good does not stop the others; the error names
// it, the result says what was published, and no outputs are written. The
// rerun publishes only what is missing.
func TestPublishPartialFailure(t *testing.T) {
	s := moto(t)
	p := newProxy(t, s)
	ctx := context.Background()
	r := newRepo(t, "", testLayer{name: "t-bad"}, testLayer{name: "t-good"})
	p.setFaults(func(op string, _ int, req *http.Request) fault {
		if op == "PublishLayerVersion" && strings.Contains(req.URL.Path, "/t-bad/") {
			return status400
		}
		return pass
	})
	res, err := Publish(ctx, r.cfg, opts())
	var pe *PartialError
	if !errors.As(err, &pe) || !slices.Equal(pe.Failed, []string{"t-bad"}) {
		t.Fatalf("err = %v, want a PartialError naming t-bad", err)
	}
	if got := res.Layers[1]; got.Name != "t-good" || got.Err != nil || got.Version != 1 {
		t.Errorf("t-good: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(r.root, ".layers/outputs.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("outputs written after a partial failure: %v", err)
	}
	p.setFaults(nil)
	res, err = Publish(ctx, r.cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.Layers[0].Action != ActionPublish || res.Layers[1].Action != ActionReuse {
		t.Errorf("rerun: %+v", res.Layers)
	}
	if got := versionCount(t, s, "t-bad", "t-good"); got["t-bad"] != 1 || got["t-good"] != 1 {
		t.Errorf("versions %v", got)
	}
}
