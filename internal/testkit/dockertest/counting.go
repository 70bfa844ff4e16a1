package dockertest

import (
	"context"
	"sync/atomic"

	"github.com/layers-dev/layers/engine"
)

// Counting is an engine in front of a real one that counts the containers
// it is asked to run: a test of "no container started" counts with it.
type Counting struct {
	engine.Engine
	runs atomic.Int32
}

// Run counts the run and hands it to the engine.
func (c *Counting) Run(ctx context.Context, spec engine.RunSpec) error {
	c.runs.Add(1)
	return c.Engine.Run(ctx, spec)
}

// Runs returns the containers run so far.
func (c *Counting) Runs() int { return int(c.runs.Load()) }
