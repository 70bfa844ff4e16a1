package manifest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestLockWaits holds the lock and checks a second run waits, says so
// once, and gets the lock when the first lets go; a cancelled wait gives
// up.
func TestLockWaits(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	unlock, err := Lock(ctx, root, func() { t.Error("the first run waited") })
	if err != nil {
		t.Fatal(err)
	}
	var waited atomic.Int32
	got := make(chan error, 1)
	go func() {
		u, err := Lock(ctx, root, func() { waited.Add(1) })
		if err == nil {
			u()
		}
		got <- err
	}()
	for waited.Load() == 0 {
		select {
		case err := <-got:
			t.Fatalf("the second run took a held lock: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if n := waited.Load(); n != 1 {
		t.Errorf("waiting said %d times, want once", n)
	}

	unlock, err = Lock(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	cctx, cancel := context.WithCancel(ctx)
	_, err = Lock(cctx, root, cancel)
	if err != context.Canceled {
		t.Errorf("a cancelled wait: %v", err)
	}
}
