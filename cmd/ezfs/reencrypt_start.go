package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ezfs/ezfs/zone/reencrypt"
)

// walkFlags are the tuning flags of start and run.
type walkFlags struct {
	rate  float64
	batch int
}

func (f *walkFlags) register(fs *pflag.FlagSet) {
	fs.Float64Var(&f.rate, "rate", 0, "visit at most `FILES_PER_SECOND` (0: no cap; the walk still yields to foreground I/O)")
	fs.IntVar(&f.batch, "batch", 0, fmt.Sprintf("files per key-provider call and checkpoint, `N` from 1 to %d (default %d)", reencrypt.MaxBatch, reencrypt.DefaultBatch))
}

// options checks the flags; bad values are usage errors.
func (f walkFlags) options() (reencrypt.Options, error) {
	if f.rate < 0 || f.rate != f.rate {
		return reencrypt.Options{}, usagef("--rate %v: give a number of files per second ≥ 0", f.rate)
	}
	if f.batch < 0 || f.batch > reencrypt.MaxBatch {
		return reencrypt.Options{}, usagef("--batch %d: give a number from 1 to %d", f.batch, reencrypt.MaxBatch)
	}
	return reencrypt.Options{Rate: f.rate, Batch: f.batch}, nil
}

type reencryptStartOptions struct {
	reencryptOptions
	walk walkFlags
	wait bool
}

func newReencryptStartCmd(g *globals) *cobra.Command {
	var o reencryptStartOptions
	cmd := &cobra.Command{
		Use:   "start ZONE [--wait] [--rate FILES_PER_SECOND] [--batch N]",
		Short: "Submit a zone to the daemon's re-encryption walker",
		Long: `Submit ZONE, the root of a zone inside an ezfs mount, to the mount's daemon, which re-wraps
every file's EDEK below the zone key's current version in the background. A zone whose walk
was cancelled or interrupted carries on from its checkpoint. One walk per zone at a time.
Only root or the user who mounted may start walks.

--wait follows the walk to its end: a progress bar on a terminal, plain progress lines
otherwise (JSON status objects with --json), all on stderr, then a summary. SIGUSR1 prints
the status; SIGINT stops following (the walk goes on). With --json the final status object
is printed on stdout (fields as in ezfs reencrypt status --json).

Exit status: 0 submitted (with --wait: completed with no failed file), 1 already running,
refused or (with --wait) cancelled, failed or completed with failed files, 2 usage error,
130 interrupted.` + reencryptVolumeHelp,
		Args: exactArgs(1, "ZONE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runReencryptStart(cmd.Context(), g, o, args) },
	}
	o.vol.register(cmd.Flags())
	o.walk.register(cmd.Flags())
	cmd.Flags().BoolVar(&o.wait, "wait", false, "follow the walk to its end; exit 0 only if it completed with no failures")
	jsonFlag(cmd, g)
	return cmd
}

func runReencryptStart(ctx context.Context, g *globals, o reencryptStartOptions, args []string) error {
	opts, err := o.walk.options()
	if err != nil {
		return err
	}
	if o.vol.backing != "" {
		return usagef("reencrypt start works on a mounted volume; offline use ezfs reencrypt run %s %s", shellQuote(o.vol.backing), shellQuote(args[0]))
	}
	c, zone, err := openWalks(ctx, g, o.reencryptOptions, args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Start(ctx, zone, opts)
	if err != nil {
		return explainWalk(err, zone)
	}
	if !o.wait {
		if g.json {
			return g.printJSON(st)
		}
		g.printf("re-encryption of %s to %s@%d submitted; follow it with: ezfs reencrypt status %s\n", st.Zone, st.Key, st.TargetVersion, shellQuote(st.Zone))
		return nil
	}
	f := newFollower(g, c, zone)
	st, err = f.follow(ctx, st)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(g.stderr, "ezfs: stopped following; the walk of %s goes on (ezfs reencrypt status %s)\n", zone, shellQuote(zone))
		}
		return err
	}
	return finishWalk(g, st)
}
