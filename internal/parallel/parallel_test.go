package parallel_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/layers-dev/layers/internal/parallel"
)

func TestForEachCallsEveryIndexWithinTheLimit(t *testing.T) {
	for _, jobs := range []int{0, 1, 3, 100} {
		var running, most atomic.Int32
		var mu sync.Mutex
		seen := map[int]int{}
		err := parallel.ForEach(context.Background(), jobs, 20, func(_ context.Context, i int) error {
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			mu.Lock()
			seen[i]++
			mu.Unlock()
			running.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatalf("jobs %d: %v", jobs, err)
		}
		if len(seen) != 20 {
			t.Errorf("jobs %d: called %d indexes, want 20", jobs, len(seen))
		}
		for i, c := range seen {
			if c != 1 {
				t.Errorf("jobs %d: index %d called %d times", jobs, i, c)
			}
		}
		if limit := int32(max(jobs, 1)); most.Load() > limit {
			t.Errorf("jobs %d: %d calls at once", jobs, most.Load())
		}
	}
}

func TestForEachStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int32
	err := parallel.ForEach(context.Background(), 1, 10, func(ctx context.Context, i int) error {
		calls.Add(1)
		if i == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls.Load() != 3 {
		t.Errorf("%v after %d calls; want boom after 3", err, calls.Load())
	}
}

func TestForEachCancelledWhileWaitingForASlot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	var started sync.WaitGroup
	started.Add(2)
	err := parallel.ForEach(ctx, 2, 10, func(ctx context.Context, i int) error {
		calls.Add(1)
		started.Done()
		if i == 1 {
			started.Wait() // both slots taken: the loop waits for one
			cancel()
		}
		<-ctx.Done() // a call that watches ctx
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls.Load() != 2 {
		t.Errorf("%v after %d calls; want context.Canceled after 2", err, calls.Load())
	}
}

func TestForEachCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := parallel.ForEach(ctx, 4, 3, func(context.Context, int) error {
		t.Error("a call started after ctx was done")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v, want context.Canceled", err)
	}
}
