package builder

import (
	"context"
	"errors"

	"github.com/layers-dev/layers/engine"
)

// runBatch installs a batch's units in one container and stores them,
// retrying the batch from scratch when its engine fails mid-run.
//
// The retry is here, not in the engine pool: a failed attempt leaves
// behind what only the builder owns (its output folder, half filled when
// the engine died while the files streamed out, and the output buffers
// that failure messages and the strip and compile figures are read from),
// and each attempt starts with fresh ones. The pool decides which failures
// are the engine's, takes that engine out and sends the next attempt to
// another engine of the platform; with none left the attempt fails with an
// *engine.NoEngineError naming them, and so does the build.
//
// A batch whose in-memory output outgrew the container's share of memory
// runs once more with its output on disk.
func (b *Builder) runBatch(ctx context.Context, batch []*job) error {
	onDisk := false
	return engine.Retry(ctx, func(ctx context.Context) error {
		err := b.attemptBatch(ctx, batch, onDisk)
		if errors.Is(err, errOutgrewMemory) {
			onDisk = true
			err = b.attemptBatch(ctx, batch, onDisk)
		}
		return err
	})
}
