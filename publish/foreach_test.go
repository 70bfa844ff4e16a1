package publish

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestForEachCancelled: once the run is cancelled no call starts, and the
// items left still get an outcome, the cancellation.
func TestForEachCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	out := make([]error, 6)
	calls := 0
	forEach(ctx, 1, len(out), func(i int) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if i == 1 {
			cancel()
		}
	}, func(i int, err error) { out[i] = err })
	if calls != 2 {
		t.Errorf("%d calls, want 2: none after the cancellation", calls)
	}
	for i, err := range out {
		if want := i >= 2; errors.Is(err, context.Canceled) != want {
			t.Errorf("item %d: %v; want the cancellation %v", i, err, want)
		}
	}
}
