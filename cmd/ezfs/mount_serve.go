package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/ctl"
	ezfs "github.com/ezfs/ezfs/fs"
	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/volume"
	"github.com/ezfs/ezfs/zone"
)

// mounted is one served volume: what serveVolume wires and tears down.
type mounted struct {
	vol    *volume.Volume
	root   *ezfs.Root
	srv    *fuse.Server
	ctl    *ctl.Server
	mountp string
	walks  *walkers // re-encryption walks (reencrypt_mount.go)
}

// serveVolume is the one recipe that wires a mount: unlock the volume (before
// mounting, so a wrong passphrase is one line), build the node tree, mount, start the
// control socket, report readiness, and serve until unmounted or signalled.
func serveVolume(ctx context.Context, g *globals, o mountOptions, mountpoint string, ready func(error)) error {
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) // no core dumps of key material
	m, err := openMount(ctx, g, o, mountpoint)
	if err == nil { // logged before `ezfs mount` returns, so its log is complete by then
		g.logger.Info("mounted", "backing", o.vol.backing, "mountpoint", mountpoint)
		if spill := m.root.SpillingKeys(); len(spill) > 0 {
			g.logger.Info(xattrNote, "backing", o.vol.backing, "keys", spill)
		}
	}
	ready(err)
	if err != nil {
		return err
	}
	m.walks.resume(ctx, g)
	return m.serve(ctx, g)
}

// openMount unlocks the volume and mounts it; on failure nothing is left behind.
func openMount(ctx context.Context, g *globals, o mountOptions, mountpoint string) (*mounted, error) {
	v, err := openOffline(ctx, g, o.vol)
	if err != nil {
		return nil, err
	}
	if err := prepareKeys(ctx, g, v, o); err != nil { // mainkey_mount.go
		v.Close()
		return nil, err
	}
	m := &mounted{vol: v, mountp: mountpoint, walks: newWalkers(g, v, mountpoint)}
	if err := m.mount(g, o); err != nil {
		m.walks.close()
		v.Close()
		return nil, err
	}
	return m, nil
}

// mount builds the node tree, mounts it and starts the control socket.
func (m *mounted) mount(g *globals, o mountOptions) error {
	v := m.vol
	var zones []zone.Record // New refuses registered zones whose marker is gone
	err := v.Store.View(func(tx keys.Tx) (err error) { zones, err = zone.Zones(tx); return err })
	if err != nil {
		return fmt.Errorf("read the zone registry: %w", err)
	}
	root, err := ezfs.New(ezfs.Options{Backing: v.Backing, Keys: v.Keyring, Suite: v.Config.Cipher,
		ChunkSize: v.Config.ChunkSize, Log: g.logger, HiddenName: volume.Dir, ZoneMoved: zoneMoved(g, v),
		BeginMove: m.walks.beginMove, Activity: m.walks.note(), Zones: zones, Passthrough: o.passthrough})
	if err != nil {
		return err
	}
	srv, err := ezfs.Mount(m.mountp, root, ezfs.MountOptions{AllowOther: o.allowOther, ReadOnly: o.readOnly, Debug: o.debug})
	if err != nil {
		root.Close()
		return explainMount(err)
	}
	m.root, m.srv = root, srv
	if m.ctl, err = startControl(g, m); err != nil {
		m.unmount(g)
		return err
	}
	return nil
}

// serve waits until the kernel unmounts or a signal asks to; then it tears down.
func (m *mounted) serve(ctx context.Context, g *globals) error {
	done := make(chan struct{})
	go func() { m.srv.Wait(); close(done) }()
	for stop := false; !stop; {
		select {
		case <-done:
			stop = true
		case <-ctx.Done():
			stop = m.unmount(g) == nil
			ctx = context.Background()
		}
	}
	<-done
	m.ctl.Close()
	m.walks.close()
	m.root.Close()
	g.logger.Info("unmounted", "mountpoint", m.mountp)
	return m.vol.Close()
}

// unmount asks the kernel to unmount; a busy mount is retried for a few seconds.
func (m *mounted) unmount(g *globals) error {
	var err error
	for range 20 {
		if err = m.srv.Unmount(); err == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	g.logger.Error("unmount failed; still serving", "mountpoint", m.mountp, "err", err)
	return err
}

// explainMount words the common mount failures.
func explainMount(err error) error {
	switch {
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("%w (the mount point is busy or already mounted)", err)
	case errors.Is(err, os.ErrPermission):
		return withHint(err, "run as root, or install fuse3 so fusermount3 can mount for you")
	}
	return err
}

// zoneMoved returns the hook that keeps the zone registry's path of a renamed zone root.
func zoneMoved(g *globals, v *volume.Volume) func(id [16]byte, rel string) {
	return func(id [16]byte, rel string) {
		err := v.Store.Update(func(tx keys.Tx) error {
			r, err := zone.Lookup(tx, id)
			if err != nil {
				return err
			}
			r.Path = rel
			return zone.Update(tx, r)
		})
		if err != nil {
			g.logger.Warn("cannot record the new path of a moved zone", "zone", rel, "err", err)
		}
	}
}
