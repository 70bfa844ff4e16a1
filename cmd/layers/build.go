package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/internal/buildinfo"
	"github.com/layers-dev/layers/pipeline"
	"github.com/layers-dev/layers/publish/ecr"
)

type buildOptions struct {
	Jobs   int
	Pull   bool
	JSON   bool
	Verify bool
	Fresh  bool
	Cache  cacheOptions
}

func newBuildCmd(g *globalOptions) *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Install every package once in the build image and write the layer zips and .layers/build.json",
		Long: `build installs each distinct package once per runtime and architecture in the
Lambda build image (through the Docker engine DOCKER_HOST names), prunes and
caches it, splits the packages into layers on their measured sizes, and
writes each layer zip under .layers/dist and the manifest .layers/build.json.
A rebuild with nothing changed starts no container.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			registry := ecr.ForConfig(cfg, "", "")
			defer registry.Close()
			display := newProgressDisplay(stderr)
			res, err := pipeline.Build(cmd.Context(), cfg, pipeline.BuildOptions{
				Jobs: o.Jobs, Pull: o.Pull, Fresh: o.Fresh, Tool: buildinfo.Version, Events: display.event, Notice: display.line,
				CacheURL: o.Cache.URL, CacheReadOnly: o.Cache.ReadOnly, Registry: registry,
			})
			display.close()
			if err != nil {
				return err
			}
			if err := res.WriteSummary(stderr); err != nil {
				return err
			}
			if o.JSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(res.Manifest); err != nil {
					return err
				}
			}
			if o.Verify {
				return runVerify(cmd, cfg, verifyOptions{Jobs: o.Jobs}, stderr)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Jobs, "jobs", 0, "containers running at once (default: the number of CPUs; with [build] engines, all their CPUs)")
	cmd.Flags().BoolVar(&o.Pull, "pull", false, "pull the build images even when the engine has them")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the build manifest on stdout")
	cmd.Flags().BoolVar(&o.Fresh, "fresh", false, "plan from scratch instead of keeping the last build's layers that are still valid")
	cmd.Flags().BoolVar(&o.Verify, "verify", false, "run layers verify after a successful build (its results on stderr)")
	addCacheFlags(cmd, &o.Cache)
	return cmd
}
