package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/verify"
)

type verifyOptions struct {
	JSON     bool
	Jobs     int
	Function string
	Offline  bool
	Strict   bool
	Pull     bool
}

func newVerifyCmd(g *globalOptions) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Import every function's packages from its built layers in the Lambda runtime image, and time the imports",
		Long: `verify checks the last build (.layers/build.json). For each function it checks,
offline, that every requirement of the distributions it needs is satisfied
by what its layers deliver (as pip check would); then, unless --offline, it
starts the runtime image ([verify] image, by default the Lambda image of
the function's runtime and architecture) with the function's layers in
/opt, imports every top-level module of its distributions and its
handler's module, each in a fresh interpreter, and measures the cold
import time with python -X importtime. Results go to .layers/verify.json,
which layers report draws. A failure exits with status 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			return runVerify(cmd, cfg, *o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the results as one JSON document")
	cmd.Flags().IntVar(&o.Jobs, "jobs", 0, "containers running at once (default: the number of CPUs)")
	cmd.Flags().StringVar(&o.Function, "function", "", "verify only the function of this name")
	cmd.Flags().BoolVar(&o.Offline, "offline", false, "only check the distributions' metadata; no container")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "fail modules that only lack an optional dependency")
	cmd.Flags().BoolVar(&o.Pull, "pull", false, "pull the runtime images even when the engine has them")
	return cmd
}

// runVerify runs verify with o and writes its results to out: `layers
// verify` gives stdout, `layers build --verify` stderr (stdout may hold the
// manifest).
func runVerify(cmd *cobra.Command, cfg *config.Config, o verifyOptions, out io.Writer) error {
	stderr := cmd.ErrOrStderr()
	res, err := verify.Run(cmd.Context(), cfg, verify.Options{
		Jobs: o.Jobs, Function: o.Function, Offline: o.Offline, Strict: o.Strict, Pull: o.Pull,
		Progress: func(line string) { fmt.Fprintln(stderr, line) },
	})
	if res != nil {
		if o.JSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(res); err != nil {
				return err
			}
		} else if err := res.WriteText(out, o.Strict); err != nil {
			return err
		}
	}
	return err
}
