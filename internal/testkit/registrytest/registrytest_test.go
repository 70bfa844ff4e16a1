package registrytest

import (
	"context"
	"net/http"
	"testing"
)

// TestStartStopRestart checks the registry answers the v2 API, reports a
// missing manifest as missing, refuses connections while stopped and
// answers again after Restart on the same address.
func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	if _, ok, err := s.Manifest(ctx, "nothing/here", "latest"); ok || err != nil {
		t.Fatalf("missing manifest: found %t, %v", ok, err)
	}
	s.Stop()
	if resp, err := http.Get("http://" + s.Host + "/v2/"); err == nil {
		resp.Body.Close()
		t.Fatal("a stopped registry answers")
	}
	s.Restart()
	resp, err := http.Get("http://" + s.Host + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/: %s", resp.Status)
	}
}
