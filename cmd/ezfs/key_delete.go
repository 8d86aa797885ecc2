package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// errNotConfirmed refuses a destructive command that was not confirmed.
var errNotConfirmed = errors.New("not confirmed")

type keyDeleteOptions struct {
	keyOptions
	yes bool
}

func newKeyDeleteCmd(g *globals) *cobra.Command {
	var o keyDeleteOptions
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Destroy every version of zone key NAME",
		Long: `Destroy zone key NAME and all its versions. Refused while a zone uses the key. Files
that were encrypted under it (for example copies made with cp -a) can never be decrypted again.
On a terminal it asks for the key name; otherwise it needs --yes.` + keyVolumeHelp,
		Args: exactArgs(1, "a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeyDelete(cmd.Context(), g, o, args)
		},
	}
	o.vol.register(cmd.Flags())
	cmd.Flags().BoolVar(&o.yes, "yes", false, "delete without asking")
	return cmd
}

func runKeyDelete(ctx context.Context, g *globals, o keyDeleteOptions, args []string) error {
	name := args[0]
	if err := checkKeyName(name); err != nil {
		return err
	}
	return withKeyAdmin(ctx, g, o.keyOptions, func(a keyAdmin) error {
		m, err := a.Metadata(ctx, name)
		if err != nil {
			return explainKey(o.vol, name, err)
		}
		if zones, err := a.ZonesUsingKey(ctx, name); err != nil || len(zones) > 0 {
			return errors.Join(err, inUse(name, zones))
		}
		if err := confirmDelete(ctx, g, o.yes, name, len(m.Versions)); err != nil {
			return err
		}
		if err := a.DeleteKey(ctx, name); err != nil {
			return explainKey(o.vol, name, err)
		}
		g.printf("deleted key %s (%d versions)\n", name, len(m.Versions))
		return nil
	})
}

// inUse returns a *keyInUseError when zones is not empty.
func inUse(name string, zones []string) error {
	if len(zones) == 0 {
		return nil
	}
	return &keyInUseError{Name: name, Zones: zones}
}

// confirmDelete asks on a terminal for the key name; elsewhere it needs --yes.
func confirmDelete(ctx context.Context, g *globals, yes bool, name string, versions int) error {
	if yes {
		return nil
	}
	if g.tty == nil {
		return restate(errNotConfirmed, fmt.Sprintf("key delete destroys key %s: confirm with --yes", name), g.commandWithFlag("--yes"))
	}
	fmt.Fprintf(g.stderr, "Deleting key %s destroys its %d versions; files encrypted under it can never be read again.\n", name, versions)
	answer, err := g.tty.Line(ctx, "Type the key name to delete it: ")
	if err != nil {
		return err
	}
	if answer != name {
		return restate(errNotConfirmed, "key "+name+" not deleted: the name typed did not match")
	}
	return nil
}
