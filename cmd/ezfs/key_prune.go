package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/ctl"
	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

type keyPruneOptions struct {
	keyOptions
	below uint32
	yes   bool
}

func newKeyPruneCmd(g *globals) *cobra.Command {
	var o keyPruneOptions
	cmd := &cobra.Command{
		Use:   "prune NAME --below VERSION",
		Short: "Destroy the versions of zone key NAME below VERSION once no file uses them",
		Long: `Destroy the versions of zone key NAME below VERSION. Allowed only when every zone of NAME
has a re-encryption walk that completed after NAME@VERSION became current (or later) and that
counted no file on a version below VERSION; otherwise it refuses and names the zones to walk
(ezfs reencrypt start ZONE --wait). EDEKs under a destroyed version, such as copies made with
cp -a or old backups of the backing tree, can never be decrypted again. On a terminal it asks
for the key name; otherwise it needs --yes. With --json, print the key as key describe --json.

Exit status: 0 pruned (or nothing to prune), 1 refused or failed, 2 usage error.` + keyVolumeHelp,
		Args: exactArgs(1, "a key name"),
		RunE: func(cmd *cobra.Command, args []string) error { return runKeyPrune(cmd.Context(), g, o, args) },
	}
	o.vol.register(cmd.Flags())
	cmd.Flags().Uint32Var(&o.below, "below", 0, "destroy the versions below `VERSION`")
	cmd.Flags().BoolVar(&o.yes, "yes", false, "prune without asking")
	jsonFlag(cmd, g)
	return cmd
}

func runKeyPrune(ctx context.Context, g *globals, o keyPruneOptions, args []string) error {
	name := args[0]
	if err := checkKeyName(name); err != nil {
		return err
	}
	if o.below == 0 {
		return usagef("key prune needs --below VERSION")
	}
	return withKeyAdmin(ctx, g, o.keyOptions, func(a keyAdmin) error {
		p, err := prunerOf(g, a)
		if err != nil {
			return err
		}
		before, err := a.Metadata(ctx, name)
		if err != nil {
			return explainKey(o.vol, name, err)
		}
		n := countBelow(before, o.below)
		if n == 0 {
			g.printf("key %s has no versions below %d: nothing to prune\n", name, o.below)
			return nil
		}
		if err := p.Check(ctx, name, o.below); err != nil {
			return err
		}
		if err := confirmPrune(ctx, g, o.yes, name, o.below, n); err != nil {
			return err
		}
		md, err := p.Prune(ctx, name, o.below)
		if err != nil {
			return err
		}
		if g.json {
			return g.printJSON(newKeyJSON(md))
		}
		g.printf("pruned key %s: destroyed %d versions below %d; current %s\n", name, n, o.below, keys.Ref{Name: name, Version: md.CurrentVersion})
		return nil
	})
}

// countBelow counts the versions of m below v.
func countBelow(m keys.Metadata, v uint32) int {
	n := 0
	for _, ver := range m.Versions {
		if ver.Version < v {
			n++
		}
	}
	return n
}

// confirmPrune asks on a terminal for the key name; elsewhere it needs --yes.
func confirmPrune(ctx context.Context, g *globals, yes bool, name string, below uint32, n int) error {
	if yes {
		return nil
	}
	if g.tty == nil {
		return restate(errNotConfirmed, fmt.Sprintf("key prune destroys %d versions of key %s: confirm with --yes", n, name), g.commandWithFlag("--yes"))
	}
	fmt.Fprintf(g.stderr, "Pruning destroys the %d versions of key %s below %d; copies or backups of files encrypted under them can never be read again.\n", n, name, below)
	answer, err := g.tty.Line(ctx, "Type the key name to prune it: ")
	if err != nil {
		return err
	}
	if answer != name {
		return restate(errNotConfirmed, "key "+name+" not pruned: the name typed did not match")
	}
	return nil
}

// pruneAdmin prunes through the daemon or offline.
type pruneAdmin interface {
	// Check returns a *pruneRefusedError unless versions of name below below may go.
	Check(ctx context.Context, name string, below uint32) error
	// Prune checks again and destroys the versions.
	Prune(ctx context.Context, name string, below uint32) (keys.Metadata, error)
}

// prunerOf returns the pruneAdmin of an open keyAdmin.
func prunerOf(g *globals, a keyAdmin) (pruneAdmin, error) {
	switch a := a.(type) {
	case *offlineAdmin:
		return &pruner{kr: a.v.Keyring, w: newWalkers(g, a.v, "")}, nil
	case *ctlAdmin:
		return ctlPruner{a.c}, nil
	}
	return nil, fmt.Errorf("key prune: unsupported volume access %T", a)
}

// ctlPruner asks the daemon.
type ctlPruner struct{ c *ctl.Client }

func (p ctlPruner) Check(ctx context.Context, name string, below uint32) error {
	return remoteError(p.c.Call(ctx, ctl.Request{Op: "key.prune", Name: name, Below: below, Check: true}, nil))
}

func (p ctlPruner) Prune(ctx context.Context, name string, below uint32) (md keys.Metadata, err error) {
	return md, remoteError(p.c.Call(ctx, ctl.Request{Op: "key.prune", Name: name, Below: below}, &md))
}

// pruner applies the prune rule to a keyring and the walk records of its volume.
type pruner struct {
	kr *keys.Keyring
	w  *walkers
}

var _ pruneAdmin = (*pruner)(nil)

// errPruneRefused is what a *pruneRefusedError matches.
var errPruneRefused = errors.New("key versions may still be in use")

// pruneRefusedError names the zones whose files may still use the versions to prune.
type pruneRefusedError struct {
	Name  string
	Below uint32
	Zones []string // as users see them
	run   []string // the commands that walk them
}

func (e *pruneRefusedError) Error() string {
	return fmt.Sprintf("cannot prune key %s below version %d: zone %s has no completed re-encryption walk since %s@%d became current that moved every file to it",
		e.Name, e.Below, strings.Join(e.Zones, ", "), e.Name, e.Below)
}

func (e *pruneRefusedError) Unwrap() error   { return errPruneRefused }
func (e *pruneRefusedError) Code() string    { return "prune_refused" }
func (e *pruneRefusedError) Hints() []string { return e.run }

// Check refuses unless every zone of name has a completed walk after name@below became
// current that counted no file below it (issue 4 "Retiring versions").
func (p *pruner) Check(ctx context.Context, name string, below uint32) error {
	md, err := p.kr.Metadata(ctx, name)
	if err != nil {
		return err
	}
	if below > md.CurrentVersion {
		return fmt.Errorf("cannot prune key %s below version %d: its current version is %d", name, below, md.CurrentVersion)
	}
	zs, err := p.w.zones()
	if err != nil {
		return err
	}
	refused := &pruneRefusedError{Name: name, Below: below}
	for _, z := range zs {
		if z.Key == name && !p.covered(z, below, md) {
			path := p.w.userPath(z.Path)
			refused.Zones = append(refused.Zones, path)
			refused.run = append(refused.run, reencryptHint(p.w, z.Path))
		}
	}
	if len(refused.Zones) > 0 {
		return withHint(refused, refused.run...)
	}
	return nil
}

// covered reports whether zone z's walks allow pruning below version below.
func (p *pruner) covered(z zone.Record, below uint32, md keys.Metadata) bool {
	st, err := p.w.mgr.Status(z.ID)
	return err == nil && coveredBy(st, below, md)
}

// coveredBy reports whether the last completed walk in st completed after below became
// current and counted no file on a version below it. A stored walk that is not completed
// (a newer one) carries the last completed walk's counts and time but not its target, so
// then the time decides.
func coveredBy(st *reencrypt.Status, below uint32, md keys.Metadata) bool {
	if st.LastWalk == nil {
		return false
	}
	if st.State == reencrypt.StateCompleted && st.TargetVersion < below {
		return false
	}
	if st.State != reencrypt.StateCompleted && !st.LastWalk.After(createdAt(md, below)) {
		return false
	}
	for v, n := range st.Versions {
		if v < below && n > 0 {
			return false
		}
	}
	return true
}

// createdAt returns when the first version ≥ v of md was made (when v became current).
func createdAt(md keys.Metadata, v uint32) time.Time {
	for _, ver := range md.Versions {
		if ver.Version >= v {
			return ver.Created
		}
	}
	return time.Now()
}

// Prune checks and destroys the versions below below.
func (p *pruner) Prune(ctx context.Context, name string, below uint32) (keys.Metadata, error) {
	if err := p.Check(ctx, name, below); err != nil {
		return keys.Metadata{}, err
	}
	return p.kr.PruneKey(ctx, name, below)
}
