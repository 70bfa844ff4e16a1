package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/buildinfo"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/redact"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFailure  = 1 // something went wrong that is not the input's fault
	exitBadInput = 2 // the user's input is malformed: a diag.Error
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	Dir    string
	Config string

	cwd  string // the working directory, where paths are shown from
	root string // the loaded config's root, once loaded
}

// absolute makes --dir and --config absolute, so that every path the
// libraries report is absolute or relative to the repository root.
func (o *globalOptions) absolute() error {
	var err error
	if o.cwd, err = os.Getwd(); err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	for _, p := range []*string{&o.Dir, &o.Config} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(o.cwd, *p)
		}
	}
	return nil
}

func (o *globalOptions) load() (*config.Config, error) {
	if fi, err := os.Stat(o.Dir); err != nil || !fi.IsDir() {
		return nil, diag.Errorf(o.Dir, 0, "the repository root given with --dir is not a folder")
	}
	cfg, err := config.Load(o.Dir, o.Config)
	if err == nil {
		o.root = cfg.Root
	}
	return cfg, err
}

// display is how a message shows path (absolute, or relative to the
// repository root): relative to the working directory when it lies
// below it, as a shell or an editor opens it, else absolute.
func (o *globalOptions) display(path string) string {
	if o.cwd == "" {
		return path // the flags were never parsed
	}
	if !filepath.IsAbs(path) {
		root := o.root
		if root == "" {
			root = o.Dir
		}
		path = filepath.Join(root, path)
	}
	if rel, err := filepath.Rel(o.cwd, path); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return path
}

// run executes the CLI with args and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root, g := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return exitOK
	case diag.IsInput(err):
		diag.Relocate(err, g.display)
		fmt.Fprintln(stderr, err)
		return exitBadInput
	case errors.Is(err, errUsage):
		return exitBadInput
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		// SIGINT or SIGTERM: "context canceled" tells a user nothing.
		fmt.Fprintln(stderr, "layers: interrupted")
		return exitFailure
	default:
		fmt.Fprintln(stderr, "layers:", redact.Text(err.Error()))
		return exitFailure
	}
}

// errUsage marks errors cobra already reported with the usage text.
var errUsage = errors.New("usage error")

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root, _ := newRoot(stdout, stderr)
	return root
}

// newRoot returns the root command and the global options its commands
// share.
func newRoot(stdout, stderr io.Writer) (*cobra.Command, *globalOptions) {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "layers",
		Short: "Build shared AWS Lambda layers for a Python monorepo",
		Long: `layers reads every Lambda function of a Python monorepo (requirements.txt,
pyproject.toml, uv.lock, poetry.lock, pylock.toml), works out each one's
dependency closure for its runtime and architecture, and splits shared
packages into shared layers within Lambda's limits.`,
		Version:       buildinfo.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return g.absolute()
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Not cobra's "layers version X": scripts and bug reports want the commit too.
	root.SetVersionTemplate(buildinfo.Line())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintf(stderr, "layers: %v\n%s", err, c.UsageString())
		return errUsage
	})
	root.PersistentFlags().StringVar(&g.Dir, "dir", ".", "repository root")
	root.PersistentFlags().StringVar(&g.Config, "config", "", "config file (default: DIR/layers.toml when present)")
	root.AddCommand(newPlanCmd(g), newInitCmd(g), newBuildCmd(g), newCacheCmd())
	root.AddCommand(newVerifyCmd(g))
	root.AddCommand(newReportCmd(g))
	root.AddCommand(newPublishCmd(g))
	root.AddCommand(newOutputsCmd(g))
	root.AddCommand(newGCCmd(g))
	return root, g
}
