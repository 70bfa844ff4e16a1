package engine

import (
	"errors"
	"strings"
	"testing"
)

func TestReadPush(t *testing.T) {
	ok := `{"status":"The push refers to repository [127.0.0.1:5000/r]"}
{"status":"Pushing","progressDetail":{"current":512,"total":1024},"id":"abc"}
{"status":"Pushed","progressDetail":{},"id":"abc"}
{"status":"t1: digest: sha256:1111111111111111111111111111111111111111111111111111111111111111 size: 528"}
{"progressDetail":{},"aux":{"Tag":"t1","Digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","Size":528}}
`
	var lines []string
	d, err := readPush("127.0.0.1:5000/r:t1", strings.NewReader(ok), func(s string) { lines = append(lines, s) })
	if err != nil || d != "sha256:1111111111111111111111111111111111111111111111111111111111111111" {
		t.Fatalf("digest %q, %v", d, err)
	}
	if len(lines) != 2 { // per-layer progress is left out
		t.Errorf("progress lines %q", lines)
	}

	failed := `{"status":"The push refers to repository [127.0.0.1:5000/r]"}
{"errorDetail":{"message":"Get \"http://127.0.0.1:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused"},"error":"Get \"http://127.0.0.1:5000/v2/\": dial tcp"}
`
	_, err = readPush("127.0.0.1:5000/r:t1", strings.NewReader(failed), nil)
	var pe *PushError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "push 127.0.0.1:5000/r:t1: Get") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("failed push: %v", err)
	}

	if _, err := readPush("r:t1", strings.NewReader(`{"status":"done"}`), nil); err == nil || !strings.Contains(err.Error(), "no digest") {
		t.Errorf("a push without a digest: %v", err)
	}
	if _, err := readPush("r:t1", strings.NewReader(`{"status":`), nil); err == nil {
		t.Error("a cut stream is accepted")
	}
}
