package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/publish"
)

type gcOptions struct {
	awsOptions
	Keep   int
	DryRun bool
}

func newGCCmd(g *globalOptions) *cobra.Command {
	o := &gcOptions{}
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete old versions of this project's layers that the outputs do not use",
		Long: `gc deletes, for each of this project's layers (those in the build manifest and
the outputs file, and those named with [layers] prefix that layers published),
every version older than the newest --keep that the outputs file does not
reference. Functions already deployed with a deleted version keep working.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			res, err := publish.GC(cmd.Context(), cfg, publish.GCOptions{
				Keep: o.Keep, DryRun: o.DryRun, Region: o.Region, Profile: o.Profile, Outputs: o.Outputs, Jobs: o.Jobs,
				Progress: func(s string) { fmt.Fprintln(stderr, s) },
			})
			if res != nil {
				if werr := res.WriteSummary(cmd.OutOrStdout()); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	addAWSFlags(cmd, &o.awsOptions)
	cmd.Flags().IntVar(&o.Keep, "keep", 3, "newest versions of each layer to keep besides those in use")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "list what would be deleted and delete nothing")
	return cmd
}
