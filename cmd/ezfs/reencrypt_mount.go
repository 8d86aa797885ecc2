package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/volume"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

// activityWindow is how long after a foreground operation walks keep yielding
// (zone/reencrypt "Throttling").
const activityWindow = 50 * time.Millisecond

// walkers are the re-encryption walks of one open volume (issue 4 "The walker"): the
// Manager, and the Activity that tells it about foreground I/O.
type walkers struct {
	mgr      *reencrypt.Manager
	activity *reencrypt.Activity
	vol      *volume.Volume
	mountp   string // "" offline: zone paths are then backing paths
}

// newWalkers returns the walk manager of v. Mounted (mountp set), walks yield to the
// foreground I/O that the FUSE layer notes in activity; offline they never pause.
func newWalkers(g *globals, v *volume.Volume, mountp string) *walkers {
	w := &walkers{vol: v, mountp: mountp}
	cfg := reencrypt.Config{Store: v.Store, Keyring: v.Keyring, Log: g.logger}
	if mountp != "" {
		w.activity = reencrypt.NewActivity(activityWindow)
		cfg.Busy = w.activity.Busy
	}
	w.mgr = reencrypt.New(cfg)
	return w
}

// resume restarts the walks that a crash, kill -9 or unmount interrupted.
func (w *walkers) resume(ctx context.Context, g *globals) {
	sts, err := w.mgr.Resume(ctx, w.resolve)
	if err != nil {
		g.logger.Warn("cannot resume re-encryption walks", "err", err)
	}
	for _, st := range sts {
		g.logger.Info("re-encryption walk resumed", "zone", st.Zone, "state", st.State.String(), "checkpoint", st.Checkpoint)
	}
}

// resolve finds registered zone id for Resume.
func (w *walkers) resolve(_ context.Context, id [zone.IDLen]byte) (reencrypt.Zone, error) {
	var r zone.Record
	err := w.vol.Store.View(func(tx keys.Tx) (err error) { r, err = zone.Lookup(tx, id); return err })
	if err != nil {
		return reencrypt.Zone{}, err
	}
	return w.zoneOf(r), nil
}

// zoneOf turns a registry record into the walker's Zone.
func (w *walkers) zoneOf(r zone.Record) reencrypt.Zone {
	return reencrypt.Zone{ID: r.ID, Key: r.Key, Dir: filepath.Join(w.vol.Backing, r.Path), Path: w.userPath(r.Path)}
}

// userPath is how users see backing-relative zone path rel: under the mount point, or
// under the backing directory offline.
func (w *walkers) userPath(rel string) string {
	if w.mountp != "" {
		return filepath.Join(w.mountp, rel)
	}
	return filepath.Join(w.vol.Backing, rel)
}

// beginMove is fs.Options.BeginMove: an entry is about to be renamed or linked
// within zone id. The returned end hears its new backing-relative path ("" if the
// rename failed), and the zone's walk checks it (a directory: everything below)
// before it completes; the walk cannot complete in between (zone/reencrypt
// Manager.BeginMove).
func (w *walkers) beginMove(id [zone.IDLen]byte) (end func(rel string)) {
	endWalk := w.mgr.BeginMove(id)
	return func(rel string) {
		if rel != "" {
			rel = w.zoneRel(id, rel)
		}
		endWalk(rel)
	}
}

// zoneRel turns backing-relative path rel of an entry in zone id into a path relative
// to the zone root; "." (check the whole zone) when the zone's root is not known.
func (w *walkers) zoneRel(id [zone.IDLen]byte, rel string) string {
	var r zone.Record
	err := w.vol.Store.View(func(tx keys.Tx) (err error) { r, err = zone.Lookup(tx, id); return err })
	if err != nil {
		return "."
	}
	inZone, err := filepath.Rel(r.Path, rel)
	if err != nil {
		return "."
	}
	return inZone
}

// note is fs.Options.Activity: foreground I/O on the mount, which walks yield to. nil
// offline.
func (w *walkers) note() func() {
	if w.activity == nil {
		return nil
	}
	return w.activity.Note
}

// close stops the walks, leaving them resumable; call it before the volume closes.
func (w *walkers) close() {
	if w != nil {
		w.mgr.Close()
	}
}

// zones returns the registered zones.
func (w *walkers) zones() ([]zone.Record, error) {
	var zs []zone.Record
	err := w.vol.Store.View(func(tx keys.Tx) (err error) { zs, err = zone.Zones(tx); return err })
	return zs, err
}

// errNotZone is a path that is not the root of a registered zone.
var errNotZone = errors.New("not an encryption zone")

// find returns the registered zone whose root is backing-relative path rel.
func (w *walkers) find(rel string) (zone.Record, error) {
	zs, err := w.zones()
	if err != nil {
		return zone.Record{}, err
	}
	rel = filepath.Clean(rel)
	for _, z := range zs {
		if z.Path == rel {
			return z, nil
		}
	}
	return zone.Record{}, fmt.Errorf("%s: %w (its root must be given)", w.userPath(rel), errNotZone)
}

// status returns zone rel's walk status with its current path.
func (w *walkers) status(rel string) (*reencrypt.Status, error) {
	z, err := w.find(rel)
	if err != nil {
		return nil, err
	}
	st, err := w.mgr.Status(z.ID)
	if errors.Is(err, reencrypt.ErrNoWalk) {
		return nil, fmt.Errorf("%s: %w", w.userPath(z.Path), err)
	}
	if err != nil {
		return nil, err
	}
	st.Zone = w.userPath(z.Path)
	return st, nil
}

// list returns every walk's status, with the zones' current paths.
func (w *walkers) list() ([]*reencrypt.Status, error) {
	sts, err := w.mgr.List()
	if err != nil {
		return nil, err
	}
	zs, err := w.zones()
	if err != nil {
		return nil, err
	}
	for _, st := range sts {
		for _, z := range zs {
			if z.ID == st.ZoneID {
				st.Zone = w.userPath(z.Path)
			}
		}
	}
	return sts, nil
}

// start submits a walk of zone rel.
func (w *walkers) start(ctx context.Context, rel string, o reencrypt.Options) (*reencrypt.Status, error) {
	z, err := w.find(rel)
	if err != nil {
		return nil, err
	}
	return w.mgr.Start(ctx, w.zoneOf(z), o)
}

// cancel stops zone rel's walk at its next batch.
func (w *walkers) cancel(ctx context.Context, rel string) (*reencrypt.Status, error) {
	z, err := w.find(rel)
	if err != nil {
		return nil, err
	}
	st, err := w.mgr.Cancel(ctx, z.ID)
	if st != nil {
		st.Zone = w.userPath(z.Path)
	}
	return st, err
}

// reencryptHint is the command that walks zone rel (backing-relative) to its end.
func reencryptHint(w *walkers, rel string) string {
	if w.mountp != "" {
		return "ezfs reencrypt start " + shellQuote(w.userPath(rel)) + " --wait"
	}
	return "ezfs reencrypt run " + shellQuote(w.vol.Backing) + " " + shellQuote(rel)
}
