package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/report"
)

type reportOptions struct {
	Out string
}

func newReportCmd(g *globalOptions) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write an HTML page of every function's layer sizes and cold-start import time",
		Long: `report reads the last build (.layers/build.json) and, when present, the last
verify results (.layers/verify.json), and writes one self-contained HTML page:
per function, its layers' sizes stacked against Lambda's unzipped limit, its
cold-start import time and its five slowest imports, heaviest first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			path, err := report.Write(cfg, report.Options{Out: o.Out})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), path)
			return err
		},
	}
	cmd.Flags().StringVar(&o.Out, "out", "", "the page's path (default: DIR/.layers/report.html)")
	return cmd
}
