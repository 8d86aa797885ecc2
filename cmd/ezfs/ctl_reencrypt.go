package main

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ezfs/ezfs/ctl"
	"github.com/ezfs/ezfs/volume"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

// The daemon's side of `ezfs reencrypt`, `key prune`, `key backup` and the walk columns of
// `zone list` (issue 4).

// cancelTimeout bounds how long reencrypt.cancel waits for the walk to store its state.
const cancelTimeout = 30 * time.Second

// reencrypt answers the reencrypt.* ops: start, status (Path "" lists every walk), cancel.
func (h *daemonHandler) reencrypt(ctx context.Context, r ctl.Request) (any, error) {
	if r.Op == "reencrypt.status" && r.Path == "" {
		return h.m.walks.list()
	}
	rel, err := h.rel(r.Path)
	if err != nil {
		return nil, err
	}
	switch r.Op {
	case "reencrypt.start":
		return h.m.walks.start(ctx, rel, reencrypt.Options{Rate: r.Rate, Batch: r.Batch})
	case "reencrypt.status":
		return h.m.walks.status(rel)
	case "reencrypt.cancel":
		ctx, cancel := context.WithTimeout(ctx, cancelTimeout)
		defer cancel()
		return h.m.walks.cancel(ctx, rel)
	}
	return nil, errors.New("unknown control operation " + strconv.Quote(r.Op))
}

// keyOp answers key.prune and key.backup.
func (h *daemonHandler) keyOp(ctx context.Context, r ctl.Request) (any, error) {
	if r.Op == "key.backup" {
		return volume.NewBackup(h.m.vol.Store, h.m.vol.Config.VolumeID)
	}
	p := &pruner{kr: h.m.vol.Keyring, w: h.m.walks}
	if r.Check {
		return nil, p.Check(ctx, r.Name, r.Below)
	}
	return p.Prune(ctx, r.Name, r.Below)
}

// fillWalk adds the version counts and time of zone id's last completed walk to it.
func (h *daemonHandler) fillWalk(it *zoneItem, id [zone.IDLen]byte) {
	st, err := h.m.walks.mgr.Status(id)
	if err != nil {
		return // no walk yet: no counts
	}
	for v, n := range st.Versions {
		it.Versions[strconv.FormatUint(uint64(v), 10)] = int(n)
	}
	it.LastWalk = st.LastWalk
}

// walkCodes are the codes of the sentinels a client of the ops above branches on.
var walkCodes = map[string]error{"walk_running": reencrypt.ErrAlreadyRunning, "no_walk": reencrypt.ErrNoWalk,
	"walk_not_running": reencrypt.ErrNotRunning, "not_zone": errNotZone, "prune_refused": errPruneRefused}

// init registers walkCodes on both sides of the socket, whichever init runs first.
func init() {
	for code, err := range walkCodes {
		errorCodes = append(errorCodes, struct {
			code string
			err  error
		}{code, err})
		remoteCodes[code] = err
	}
}
