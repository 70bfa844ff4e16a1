package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/pipeline"
)

func newInitCmd(g *globalOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented starter layers.toml from the functions found",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := pipeline.Init(cmd.Context(), pipeline.InitOptions{Root: g.Dir, Path: g.Config, Force: force})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d functions found)\n", g.display(res.Path), len(res.Functions))
			return err
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}
