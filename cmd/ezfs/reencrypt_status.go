package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/zone/reencrypt"
)

func newReencryptStatusCmd(g *globals) *cobra.Command {
	var o reencryptOptions
	cmd := &cobra.Command{
		Use:   "status [ZONE] [--json]",
		Short: "Show the re-encryption walks of a volume",
		Long: `Show the walk of ZONE, or of every zone that has one. Open to every user who can see the
mount.

--json prints one object for ZONE, an array without it, with the fields zone, state
(submitted, processing, completed, cancelled, failed), key, target_version, submitted,
started, completed (RFC 3339 UTC or null), reencrypted, skipped, failed, failures (the
first 100, each {"path","reason"}, path relative to the zone root), seen (files reached so
far), rate (files per second of walking), checkpoint (the last file done, relative to the
zone root) and, for a failed walk, error. A walk that completed with files it could not
re-wrap has state completed and failed > 0.

Exit status: 0 shown, 1 no walk for ZONE or error, 2 usage error.` + reencryptVolumeHelp,
		Args: cobraMaxArgs(1, "at most one ZONE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runReencryptStatus(cmd.Context(), g, o, args) },
	}
	o.vol.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

// cobraMaxArgs is cobra.MaximumNArgs as a usage error.
func cobraMaxArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes %s (got %d arguments)", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}

func runReencryptStatus(ctx context.Context, g *globals, o reencryptOptions, args []string) error {
	zonePath := ""
	if len(args) == 1 {
		zonePath = args[0]
	}
	c, zone, err := openWalks(ctx, g, o, zonePath)
	if err != nil {
		return err
	}
	defer c.Close()
	if zonePath == "" {
		sts, err := c.List(ctx)
		if err != nil {
			return err
		}
		if g.json {
			return g.printJSON(sts)
		}
		return printWalkTable(g.stdout, sts)
	}
	st, err := c.Status(ctx, zone)
	if err != nil {
		return explainWalk(err, zone)
	}
	if g.json {
		return g.printJSON(st)
	}
	printWalk(g.stdout, st)
	return nil
}

// printWalkTable prints one line per walk.
func printWalkTable(w io.Writer, sts []reencrypt.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tSTATE\tKEY\tSEEN\tREENCRYPTED\tSKIPPED\tFAILED\tRATE\tCOMPLETED")
	for _, s := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%s@%d\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Zone, s.State, s.Key, s.TargetVersion,
			s.Seen, s.Reencrypted, s.Skipped, s.Failed, rateText(s.Rate), timeText(s.Completed))
	}
	return tw.Flush()
}

// printWalk prints one walk in full.
func printWalk(w io.Writer, s reencrypt.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("zone", s.Zone)
	row("state", s.State.String())
	row("target", s.Key+"@"+strconv.FormatUint(uint64(s.TargetVersion), 10))
	row("submitted", s.Submitted.Format(time.RFC3339))
	row("started", timeText(s.Started))
	row("completed", timeText(s.Completed))
	row("seen", strconv.FormatUint(s.Seen, 10))
	row("re-encrypted", strconv.FormatUint(s.Reencrypted, 10))
	row("skipped", strconv.FormatUint(s.Skipped, 10))
	row("failed", strconv.FormatUint(s.Failed, 10))
	row("rate", rateText(s.Rate))
	row("checkpoint", s.Checkpoint)
	if s.Error != "" {
		row("error", s.Error)
	}
	tw.Flush()
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  failed: %s: %s\n", f.Path, f.Reason)
	}
}

func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func rateText(r float64) string { return strconv.FormatFloat(r, 'f', 0, 64) + " files/s" }
