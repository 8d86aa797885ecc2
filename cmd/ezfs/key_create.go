package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/keys"
)

func newKeyCreateCmd(g *globals) *cobra.Command {
	var o keyOptions
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create zone key NAME at version 1",
		Long: `Create zone key NAME ([A-Za-z0-9._-], 1 to 64 characters) with a random 256-bit version 1.
With --json, print the key as key describe --json does.` + keyVolumeHelp,
		Args: exactArgs(1, "a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeyCreate(cmd.Context(), g, o, args)
		},
	}
	o.vol.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

func runKeyCreate(ctx context.Context, g *globals, o keyOptions, args []string) error {
	name := args[0]
	if err := checkKeyName(name); err != nil {
		return err
	}
	return withKeyAdmin(ctx, g, o, func(a keyAdmin) error {
		m, err := a.CreateKey(ctx, name)
		if errors.Is(err, keys.ErrKeyExists) {
			return restate(err, "key "+name+" already exists", keyCommand(o.vol, "roll", name))
		}
		if err != nil {
			return err
		}
		g.logger.Debug("key created", "key", keys.Ref{Name: name, Version: m.CurrentVersion})
		if g.json {
			return g.printJSON(newKeyJSON(m))
		}
		g.printf("created key %s\n", keys.Ref{Name: name, Version: m.CurrentVersion})
		return nil
	})
}
