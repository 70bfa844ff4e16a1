// Command layers builds AWS Lambda layers for Python monorepos: it reads
// every function's inputs, splits shared packages into shared layers within
// Lambda's limits, builds and publishes them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
