package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newKeyListCmd(g *globals) *cobra.Command {
	var o keyOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the zone keys of a volume",
		Long: `List the zone keys with their current version and when it was created.
With --json, print an array of objects as key describe --json prints them
(name, current_version, versions[].version, versions[].created).` + keyVolumeHelp,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeyList(cmd.Context(), g, o, args)
		},
	}
	o.vol.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

func runKeyList(ctx context.Context, g *globals, o keyOptions, _ []string) error {
	return withKeyAdmin(ctx, g, o, func(a keyAdmin) error {
		ms, err := a.ListKeys(ctx)
		if err != nil {
			return err
		}
		list := make([]keyJSON, 0, len(ms))
		for _, m := range ms {
			list = append(list, newKeyJSON(m))
		}
		if g.json {
			return g.printJSON(list)
		}
		g.printKeyTable(list)
		return nil
	})
}

// printKeyTable prints NAME, CURRENT (version), VERSIONS (count) and CREATED (of current).
func (g *globals) printKeyTable(list []keyJSON) {
	if len(list) == 0 {
		fmt.Fprintln(g.stderr, "no keys yet")
		return
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCURRENT\tVERSIONS\tCREATED")
	for _, k := range list {
		created := ""
		for _, v := range k.Versions {
			if v.Version == k.CurrentVersion {
				created = v.Created.Format(time.RFC3339)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", k.Name, k.CurrentVersion, len(k.Versions), created)
	}
	tw.Flush()
}
