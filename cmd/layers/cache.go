package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/builder/cache"
)

func newCacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "List or prune the unit cache ($LAYERS_CACHE, else the user cache folder)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCacheLsCmd(), newCachePruneCmd())
	return cmd
}

func openCache() (*cache.Cache, error) {
	dir, err := cache.DefaultDir(os.Getenv)
	if err != nil {
		return nil, err
	}
	return cache.Open(dir)
}

func newCacheLsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the cached units (and count the cached resolutions)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Listing creates nothing: no cache folder is an empty cache.
			dir, err := cache.DefaultDir(os.Getenv)
			if err != nil {
				return err
			}
			c := cache.OpenExisting(dir)
			entries, err := c.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DISTRIBUTION\tVERSION\tTARGET\tFILES\tBYTES\tLAST USED\tDIGEST")
			var total int64
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%d\t%d\t%s\t%.12s\n", e.Key.Distribution, e.Key.Version,
					e.Key.Runtime, e.Key.Architecture, e.Files, e.Bytes, e.Used.UTC().Format(time.DateTime), e.Digest)
				total += e.Bytes
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			n, bytes, err := c.Resolutions()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "%d units, %d bytes, and %d cached resolutions, %d bytes, in %s\n",
				len(entries), total, n, bytes, c.Root())
			return err
		},
	}
}

func newCachePruneCmd() *cobra.Command {
	var olderThan string
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove cached units and resolutions not used within --older-than (all of them without it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			age, err := parseAge(olderThan)
			if err != nil {
				return err
			}
			c, err := openCache()
			if err != nil {
				return err
			}
			r, err := c.Prune(age)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "removed %d units, %d bytes, and %d cached resolutions from %s\n",
				r.Units, r.Bytes, r.Resolutions, c.Root())
			return err
		},
	}
	cmd.Flags().StringVar(&olderThan, "older-than", "", `remove units unused for this long: a Go duration ("36h") or days ("30d")`)
	return cmd
}

// parseAge reads a Go duration or a number of days ("30d"); "" is zero,
// which prunes everything.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("--older-than %q: want a positive duration such as 36h or 30d", s)
}
