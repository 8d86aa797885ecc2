package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/keys"
)

func newKeyRollCmd(g *globals) *cobra.Command {
	var o keyOptions
	cmd := &cobra.Command{
		Use:   "roll NAME",
		Short: "Add a new current version to zone key NAME",
		Long: `Add a random new version to zone key NAME and make it current. New files use it; existing
files keep the version they were written with until re-encrypted. Older versions stay, so
every file remains readable. With --json, print the key as key describe --json does.` + keyVolumeHelp,
		Args: exactArgs(1, "a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeyRoll(cmd.Context(), g, o, args)
		},
	}
	o.vol.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

func runKeyRoll(ctx context.Context, g *globals, o keyOptions, args []string) error {
	name := args[0]
	if err := checkKeyName(name); err != nil {
		return err
	}
	return withKeyAdmin(ctx, g, o, func(a keyAdmin) error {
		m, err := a.RollKey(ctx, name)
		if err != nil {
			return explainKey(o.vol, name, err)
		}
		ref := keys.Ref{Name: name, Version: m.CurrentVersion}
		g.logger.Debug("key rolled", "key", ref)
		if g.json {
			return g.printJSON(newKeyJSON(m))
		}
		g.printf("rolled key %s: new files use %s\n", name, ref)
		return nil
	})
}
