package main

import (
	"context"

	"github.com/spf13/cobra"
)

func newReencryptCancelCmd(g *globals) *cobra.Command {
	var o reencryptOptions
	cmd := &cobra.Command{
		Use:   "cancel ZONE",
		Short: "Stop the re-encryption walk of a zone at its next batch",
		Long: `Stop the walk of ZONE at its next batch. Its status then says cancelled, with the counts
so far and the checkpoint; ezfs reencrypt start ZONE carries on from there. Offline
(--backing DIR), a walk left running by a crash is marked cancelled so that the next mount
does not resume it. Only root or the user who mounted may cancel walks. With --json, print
the status object.

Exit status: 0 cancelled, 1 no walk running or error, 2 usage error.` + reencryptVolumeHelp,
		Args: exactArgs(1, "ZONE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runReencryptCancel(cmd.Context(), g, o, args) },
	}
	o.vol.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

func runReencryptCancel(ctx context.Context, g *globals, o reencryptOptions, args []string) error {
	c, zone, err := openWalks(ctx, g, o, args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Cancel(ctx, zone)
	if err != nil {
		return explainWalk(err, zone)
	}
	if g.json {
		return g.printJSON(st)
	}
	g.printf("re-encryption of %s %s after %d files (%d re-encrypted, %d skipped, %d failed); ezfs reencrypt start %s carries on\n",
		zoneLabel(st, zone), st.State, st.Seen, st.Reencrypted, st.Skipped, st.Failed, shellQuote(zoneLabel(st, zone)))
	return nil
}
