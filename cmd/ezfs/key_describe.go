package main

import (
	"context"

	"github.com/spf13/cobra"
)

func newKeyDescribeCmd(g *globals) *cobra.Command {
	var o keyOptions
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show the versions of zone key NAME",
		Long: `Show zone key NAME: its current version and every version with its creation time.
With --json, print {"name":...,"current_version":N,"versions":[{"version":N,"created":"RFC 3339 UTC"},...]}.` + keyVolumeHelp,
		Args: exactArgs(1, "a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeyDescribe(cmd.Context(), g, o, args)
		},
	}
	o.vol.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

func runKeyDescribe(ctx context.Context, g *globals, o keyOptions, args []string) error {
	name := args[0]
	if err := checkKeyName(name); err != nil {
		return err
	}
	return withKeyAdmin(ctx, g, o, func(a keyAdmin) error {
		m, err := a.Metadata(ctx, name)
		if err != nil {
			return explainKey(o.vol, name, err)
		}
		if g.json {
			return g.printJSON(newKeyJSON(m))
		}
		g.describeKey(newKeyJSON(m))
		return nil
	})
}
