package main

import "github.com/spf13/cobra"

// cacheOptions are the remote cache flags of build, plan and publish.
type cacheOptions struct {
	URL      string
	ReadOnly bool
}

func addCacheFlags(cmd *cobra.Command, o *cacheOptions) {
	cmd.Flags().StringVar(&o.URL, "cache-url", "", "remote cache, s3://BUCKET/PREFIX (default: LAYERS_CACHE_URL, else [cache] url)")
	cmd.Flags().BoolVar(&o.ReadOnly, "cache-read-only", false, "read the remote cache without writing to it (pull requests from forks)")
}
