package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/ctl"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

const reencryptVolumeHelp = `
The volume: ZONE is a path inside an ezfs mount (--mount MOUNTPOINT must then hold it);
without ZONE, --mount or the only ezfs mount. --backing DIR works offline on an unmounted
volume; ZONE is then the zone root relative to DIR (or an absolute path under DIR).`

func newReencryptCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reencrypt",
		Short: "Move every file of a zone to the zone key's current version",
		Long: `Re-encryption walks re-wrap the EDEK of every file of a zone under the zone key's current
version (the target version, fixed when the walk is submitted), so that older versions can
be pruned (ezfs key prune). File data are never rewritten. A mounted volume walks in its
daemon, in the background, checkpointing after every batch; a walk interrupted by an
unmount or a crash resumes by itself at the next mount.`,
		Args: exactArgs(0, "a subcommand"),
	}
	cmd.AddCommand(newReencryptStartCmd(g), newReencryptStatusCmd(g), newReencryptCancelCmd(g), newReencryptRunCmd(g))
	return cmd
}

// walkClean reports whether the walk completed with no failures (what --wait exits 0 for).
func walkClean(st reencrypt.Status) bool {
	return st.State == reencrypt.StateCompleted && st.Failed == 0
}

// walkClient reaches the walks of a volume: through its daemon, or offline.
type walkClient interface {
	Start(ctx context.Context, zone string, o reencrypt.Options) (reencrypt.Status, error)
	Status(ctx context.Context, zone string) (reencrypt.Status, error)
	List(ctx context.Context) ([]reencrypt.Status, error)
	Cancel(ctx context.Context, zone string) (reencrypt.Status, error)
	// Estimate returns the zone's file count as of its last completed walk, 0 if unknown.
	Estimate(ctx context.Context, zone string) uint64
	Close() error
}

// reencryptOptions are the volume flags of the reencrypt commands.
type reencryptOptions struct {
	vol volumeFlags
}

// openWalks opens the volume that o and the zone argument (may be "") select and returns
// the client and the zone as that client names it.
func openWalks(ctx context.Context, g *globals, o reencryptOptions, zonePath string) (walkClient, string, error) {
	f := o.vol
	if f.backing != "" && f.mount != "" {
		return nil, "", usagef("--backing and --mount exclude each other")
	}
	if f.backing != "" {
		w, err := openOfflineWalks(ctx, g, f)
		if err != nil {
			return nil, "", err
		}
		rel, err := backingRel(f.backing, zonePath)
		if err != nil {
			w.Close()
		}
		return w, rel, err
	}
	mp, zone, err := mountOfZone(g, f.mount, zonePath)
	if err != nil {
		return nil, "", err
	}
	c, err := dialMount(ctx, g, mp)
	if err != nil {
		return nil, "", err
	}
	return &ctlWalks{c: c}, zone, nil
}

// mountOfZone finds the mount holding zonePath (absolute, symlinks resolved), or the mount
// that --mount or the only mount gives when zonePath is "".
func mountOfZone(g *globals, flag, zonePath string) (mountpoint, zone string, err error) {
	if zonePath == "" {
		mp, err := findMount(g, flag, "")
		return mp, "", err
	}
	zone, mp, err := pathInMount(g, zonePath)
	if err != nil {
		return "", "", err
	}
	if flag != "" {
		want, err := mountAt(ezfsMounts(g), flag)
		if err != nil {
			return "", "", err
		}
		if want != mp {
			return "", "", fmt.Errorf("%s is not inside the mount at %s", zonePath, want)
		}
	}
	return mp, zone, nil
}

// backingRel makes zone path p relative to backing: an absolute p must lie under it.
func backingRel(backing, p string) (string, error) {
	if p == "" || !filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	abs, err := filepath.Abs(backing)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(abs, p)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", fmt.Errorf("%s is not inside volume %s", p, backing)
	}
	return rel, nil
}

// explainWalk adds the command that helps after a walk error.
func explainWalk(err error, zone string) error {
	switch {
	case errors.Is(err, reencrypt.ErrAlreadyRunning):
		return restate(err, zone+" is already being re-encrypted", "ezfs reencrypt status "+shellQuote(zone))
	case errors.Is(err, reencrypt.ErrNoWalk):
		return restate(err, zone+" has no re-encryption walk", "ezfs reencrypt start "+shellQuote(zone))
	case errors.Is(err, reencrypt.ErrNotRunning):
		return restate(err, "the re-encryption walk of "+zone+" is not running", "ezfs reencrypt status "+shellQuote(zone))
	case errors.Is(err, errNotZone):
		return withHint(err, "ezfs zone list")
	}
	return err
}

// ctlWalks reaches the walks through the daemon; zones are absolute paths in the mount.
type ctlWalks struct{ c *ctl.Client }

func (w *ctlWalks) call(ctx context.Context, r ctl.Request, out any) error {
	return remoteError(w.c.Call(ctx, r, out))
}

func (w *ctlWalks) Start(ctx context.Context, zone string, o reencrypt.Options) (st reencrypt.Status, err error) {
	return st, w.call(ctx, ctl.Request{Op: "reencrypt.start", Path: zone, Rate: o.Rate, Batch: o.Batch}, &st)
}

func (w *ctlWalks) Status(ctx context.Context, zone string) (st reencrypt.Status, err error) {
	return st, w.call(ctx, ctl.Request{Op: "reencrypt.status", Path: zone}, &st)
}

func (w *ctlWalks) List(ctx context.Context) (sts []reencrypt.Status, err error) {
	return sts, w.call(ctx, ctl.Request{Op: "reencrypt.status"}, &sts)
}

func (w *ctlWalks) Cancel(ctx context.Context, zone string) (st reencrypt.Status, err error) {
	return st, w.call(ctx, ctl.Request{Op: "reencrypt.cancel", Path: zone}, &st)
}

// Estimate sums the zone's version counts from zone.list.
func (w *ctlWalks) Estimate(ctx context.Context, zone string) uint64 {
	var items []zoneItem
	if w.call(ctx, ctl.Request{Op: "zone.list"}, &items) != nil {
		return 0
	}
	var n uint64
	for _, it := range items {
		if it.Path == zone {
			for _, c := range it.Versions {
				n += uint64(c)
			}
		}
	}
	return n
}

func (w *ctlWalks) Close() error { return w.c.Close() }

// offlineWalks runs walks in this process on a volume opened with --backing.
type offlineWalks struct{ w *walkers }

func openOfflineWalks(ctx context.Context, g *globals, f volumeFlags) (*offlineWalks, error) {
	v, err := openOffline(ctx, g, f)
	if err != nil {
		return nil, err
	}
	return &offlineWalks{w: newWalkers(g, v, "")}, nil
}

func (o *offlineWalks) Start(ctx context.Context, zone string, opts reencrypt.Options) (reencrypt.Status, error) {
	return o.conv(o.w.start(ctx, zone, opts))
}

func (o *offlineWalks) Status(ctx context.Context, zone string) (reencrypt.Status, error) {
	return o.conv(o.w.status(zone))
}

func (o *offlineWalks) List(ctx context.Context) ([]reencrypt.Status, error) {
	sts, err := o.w.list()
	out := []reencrypt.Status{}
	for _, st := range sts {
		out = append(out, *st)
	}
	return out, err
}

func (o *offlineWalks) Cancel(ctx context.Context, zone string) (reencrypt.Status, error) {
	return o.conv(o.w.cancel(ctx, zone))
}

func (o *offlineWalks) Estimate(ctx context.Context, zone string) uint64 {
	st, err := o.w.status(zone)
	if err != nil {
		return 0
	}
	var n uint64
	for _, c := range st.Versions {
		n += c
	}
	return n
}

// Close stops a walk still running (it stays resumable) and closes the volume.
func (o *offlineWalks) Close() error {
	o.w.close()
	return o.w.vol.Close()
}

func (o *offlineWalks) conv(st *reencrypt.Status, err error) (reencrypt.Status, error) {
	if st == nil {
		return reencrypt.Status{}, err
	}
	return *st, err
}

// zoneLabel is how messages name zone: as given, or the mount path the status reports.
func zoneLabel(st reencrypt.Status, zone string) string {
	if st.Zone != "" {
		return st.Zone
	}
	return strings.TrimSpace(zone)
}
