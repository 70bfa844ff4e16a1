// Package parallel owns the worker pool the builder, verify and publish
// share: independent calls on a bounded number of goroutines that stop
// starting once the context is done.
package parallel

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// ForEach calls fn(ctx, i) for every i in [0, n), at most jobs calls at
// once (jobs below 1 means 1), and waits for the calls it started. The
// first error fn returns cancels the ctx the other calls get, no call
// starts after it, and ForEach returns it. Once ctx is done no call starts
// either, and ForEach returns ctx.Err() when no call failed, even if every
// call had started; the calls under way are left to watch ctx.
//
// A caller that wants every call's outcome, not the first error, has fn
// record it and return nil.
func ForEach(ctx context.Context, jobs, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(jobs, 1))
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		// Go waits for a free slot; a call that gets one after ctx was
		// cancelled returns at once.
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil
			}
			return fn(gctx, i)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
