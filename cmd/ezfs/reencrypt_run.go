package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

type reencryptRunOptions struct {
	keystore string
	secret   secretFlags
	walk     walkFlags
}

func newReencryptRunCmd(g *globals) *cobra.Command {
	var o reencryptRunOptions
	cmd := &cobra.Command{
		Use:   "run BACKING ZONE_PATH [--passphrase-file F | --key-file F] [--rate FILES_PER_SECOND] [--batch N]",
		Short: "Re-encrypt a zone of an unmounted volume in the foreground",
		Long: `Walk the zone ZONE_PATH (its root relative to BACKING, or an absolute path under it) of the
unmounted volume in BACKING in the foreground, as the daemon does for reencrypt start. A walk
that was cancelled or interrupted carries on from its checkpoint. Progress goes to stderr
(a progress bar on a terminal, plain lines or, with --json, status objects otherwise);
SIGUSR1 prints the status; SIGINT or SIGTERM cancels the walk at its next batch (a later run
or start carries on) and exits 130. A summary closes the run; with --json the final status
object is printed on stdout (fields as in ezfs reencrypt status --json).

Exit status: 0 completed with no failed file, 1 completed with failed files, failed or
refused, 2 usage error, 130 interrupted.`,
		Args: exactArgs(2, "BACKING and ZONE_PATH"),
		RunE: func(cmd *cobra.Command, args []string) error { return runReencryptRun(cmd.Context(), g, o, args) },
	}
	cmd.Flags().StringVar(&o.keystore, "keystore", "", "key store in `DIR` instead of BACKING/.ezfs")
	o.secret.register(cmd.Flags())
	o.walk.register(cmd.Flags())
	jsonFlag(cmd, g)
	return cmd
}

func runReencryptRun(ctx context.Context, g *globals, o reencryptRunOptions, args []string) error {
	opts, err := o.walk.options()
	if err != nil {
		return err
	}
	f := volumeFlags{backing: args[0], keystore: o.keystore, secret: o.secret}
	c, rel, err := openWalks(ctx, g, reencryptOptions{vol: f}, zoneArg(args[0], args[1]))
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Start(ctx, rel, opts)
	if err != nil {
		return explainWalk(err, args[1])
	}
	st, err = newFollower(g, c, rel).follow(ctx, st)
	if ctx.Err() != nil {
		return cancelRun(g, c, rel, err)
	}
	if err != nil {
		return err
	}
	return finishWalk(g, st)
}

// cancelRun stops an interrupted run at its next batch and prints where it stopped.
func cancelRun(g *globals, c walkClient, rel string, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
	defer cancel()
	st, err := c.Cancel(ctx, rel)
	if err != nil && st.State == 0 {
		return errors.Join(cause, err)
	}
	fmt.Fprintln(g.stderr, summary(st))
	line := []string{"ezfs"}
	for _, a := range g.args {
		line = append(line, shellQuote(a))
	}
	fmt.Fprintf(g.stderr, "ezfs: the walk carries on from %q with: %s\n", st.Checkpoint, strings.Join(line, " "))
	return cause
}

// zoneArg accepts a zone path relative to the current directory when it lies in backing
// and the same path relative to backing does not exist.
func zoneArg(backing, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if _, err := os.Stat(filepath.Join(backing, p)); err == nil {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		if _, err := os.Stat(abs); err == nil {
			return abs
		}
	}
	return p
}
