package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/internal/buildinfo"
	"github.com/layers-dev/layers/pipeline"
)

type planOptions struct {
	JSON    bool
	Explain string
	Offline bool
	Fresh   bool
	Write   bool
	Strict  bool
	Cache   cacheOptions
}

func newPlanCmd(g *globalOptions) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show every function's closure and the layers it would get; changes nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			doc, err := pipeline.PlanWith(cmd.Context(), cfg, pipeline.PlanOptions{
				Resolve: true, Offline: o.Offline, Fresh: o.Fresh, Tool: buildinfo.Version, Write: o.Write,
				CacheURL: o.Cache.URL, CacheReadOnly: o.Cache.ReadOnly,
				Progress: func(line string) { fmt.Fprintln(stderr, line) },
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			refused := doc.Refused()
			if refused != nil && !o.Strict {
				fmt.Fprintln(stderr, "warning: some packages have no wheel their Lambda runtime loads; `layers build` will refuse them (`layers plan --strict` fails on them)")
			}
			if err := printPlan(out, doc, o); err != nil {
				return err
			}
			if o.Strict {
				return refused
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the plan as one JSON document")
	cmd.Flags().StringVar(&o.Explain, "explain", "", "say where a package, or a function's packages, went and why")
	cmd.Flags().BoolVar(&o.Fresh, "fresh", false, "plan from scratch instead of keeping the last build's layers that are still valid")
	cmd.Flags().BoolVar(&o.Offline, "offline", false, "resolve unpinned inputs from earlier resolutions only, never with the Docker engine")
	cmd.Flags().BoolVar(&o.Write, "write", false, "write the plan to [layers] plan_file, to commit it like a lock file")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "exit 2 when a package has no wheel its Lambda runtime loads (a build would refuse it)")
	addCacheFlags(cmd, &o.Cache)
	return cmd
}

// printPlan prints the plan as --explain, --json or text ask.
func printPlan(out io.Writer, doc *pipeline.PlanDocument, o *planOptions) error {
	switch {
	case o.Explain != "":
		text, ok := doc.Explain(o.Explain)
		if !ok {
			return fmt.Errorf("%q is neither a function nor a package of this plan", o.Explain)
		}
		_, err := fmt.Fprint(out, text)
		return err
	case o.JSON:
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	default:
		return doc.WriteText(out)
	}
}
