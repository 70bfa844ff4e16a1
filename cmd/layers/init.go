package main

import (
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
			res.Path = g.display(res.Path)
			return res.WriteText(cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}
