package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/internal/buildinfo"
	"github.com/layers-dev/layers/publish"
	"github.com/layers-dev/layers/publish/ecr"
)

// awsOptions are the flags of the commands that call AWS.
type awsOptions struct {
	Region  string
	Profile string
	Outputs string
	Jobs    int
}

func addAWSFlags(cmd *cobra.Command, o *awsOptions) {
	cmd.Flags().StringVar(&o.Region, "region", "", "AWS region (default: [publish] region, else AWS_REGION or the profile's)")
	cmd.Flags().StringVar(&o.Profile, "profile", "", "AWS shared-config profile (default: [publish] profile, else AWS_PROFILE)")
	cmd.Flags().StringVar(&o.Outputs, "outputs", "", "outputs file (default: [publish] outputs, .layers/outputs.json)")
	cmd.Flags().IntVar(&o.Jobs, "jobs", 4, "layers handled at once")
}

type publishOptions struct {
	awsOptions
	DryRun bool
	Cache  cacheOptions
}

func newPublishCmd(g *globalOptions) *cobra.Command {
	o := &publishOptions{}
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish the built layers as Lambda layer versions and write .layers/outputs.json",
		Long: `publish reads .layers/build.json (it never builds: a missing or stale manifest
is an error) and makes each layer a Lambda layer version, reusing a version
with the same content: publishing an unchanged build creates nothing. Zips over
[publish] inline_max_bytes go through [publish] s3_bucket. Versions are shared
with [publish] share_with. When every layer is published, it writes the
outputs file infrastructure code reads (see layers outputs).

Credentials come from the AWS SDK's standard chain; AWS_ENDPOINT_URL and
AWS_ENDPOINT_URL_<SERVICE> are honoured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			images := ecr.ForConfig(cfg, o.Region, o.Profile)
			defer images.Close()
			res, err := publish.Publish(cmd.Context(), cfg, publish.Options{
				Region: o.Region, Profile: o.Profile, Outputs: o.Outputs, DryRun: o.DryRun, Jobs: o.Jobs,
				Tool: buildinfo.Version, Images: images, Progress: func(s string) { fmt.Fprintln(stderr, s) },
				CacheURL: o.Cache.URL, CacheReadOnly: o.Cache.ReadOnly,
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
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "say what would be published and change nothing")
	addCacheFlags(cmd, &o.Cache)
	return cmd
}
