package manifest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often a waiting run tries the lock again.
const lockPoll = 100 * time.Millisecond

// Lock takes the lock of the repository at root for one run that writes
// .layers/ (build, publish): a second run waits for the first, and never
// interleaves its writes with it. waiting is called once if the lock is
// held by another run. The lock is the kernel's (flock) on the repository
// folder itself, so taking it writes nothing (a failed build leaves no
// .layers/) and a killed run's lock goes with its process. unlock
// releases it.
func Lock(ctx context.Context, root string, waiting func()) (unlock func(), err error) {
	f, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("lock the repository for this run: %w", err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock the repository for this run: %w", err)
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
