package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/publish"
)

func newOutputsCmd(g *globalOptions) *cobra.Command {
	var format, file string
	cmd := &cobra.Command{
		Use:   "outputs",
		Short: "Print the published layer ARNs and image URIs for Terraform, SAM or the shell",
		Long: `outputs prints what the last layers publish wrote to the outputs file:
  json    the file itself (Terraform: jsondecode(file(".layers/outputs.json")))
  tfvars  the variables layer_arns and image_uris (function -> architecture)
  env     LAYERS_<FUNCTION>_<ARCH>_LAYERS=arn,arn lines for the shell or $GITHUB_ENV
  sam     <Function><Arch>Layers=arn,arn parameter overrides for sam deploy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(publish.Formats, format) {
				fmt.Fprintf(cmd.ErrOrStderr(), "layers: --format %q: want one of %s\n", format, strings.Join(publish.Formats, ", "))
				return errUsage
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			path := file
			if path == "" {
				path = filepath.Join(cfg.Root, filepath.FromSlash(cfg.Publish.Outputs))
			}
			o, err := publish.ReadOutputs(path)
			if err != nil {
				return err
			}
			return o.Encode(cmd.OutOrStdout(), format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "json", "output format: "+strings.Join(publish.Formats, ", "))
	cmd.Flags().StringVar(&file, "outputs", "", "outputs file (default: [publish] outputs, .layers/outputs.json)")
	return cmd
}
