package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/ezfs/ezfs/ctl"
	"github.com/ezfs/ezfs/keys"
)

// The control-socket client side of the volume-discovery seam in volumearg.go.
func init() { dialControl = dialKeyAdmin }

// dialKeyAdmin connects to the daemon of the mount at mountpoint as a keyAdmin.
func dialKeyAdmin(ctx context.Context, g *globals, mountpoint string) (keyAdmin, error) {
	c, err := dialMount(ctx, g, mountpoint)
	if err != nil {
		return nil, err
	}
	return &ctlAdmin{c: c}, nil
}

// dialMount connects to the control socket of the ezfs mount at mountpoint.
func dialMount(ctx context.Context, g *globals, mountpoint string) (*ctl.Client, error) {
	for _, m := range ezfsMounts(g) {
		if m.dir == mountpoint {
			c, err := ctl.Dial(ctx, ctl.SocketPaths(m.source))
			if err != nil {
				return nil, fmt.Errorf("reach the daemon of %s: %w", mountpoint, err)
			}
			return c, nil
		}
	}
	return nil, fmt.Errorf("%s is not an ezfs mount point", mountpoint)
}

// callMount sends one request to the daemon of the mount at mountpoint and decodes its
// answer into out; an error from the daemon comes back through remoteError.
func callMount(ctx context.Context, g *globals, mountpoint string, r ctl.Request, out any) error {
	c, err := dialMount(ctx, g, mountpoint)
	if err != nil {
		return err
	}
	defer c.Close()
	return remoteError(c.Call(ctx, r, out))
}

// ctlAdmin administers keys through the daemon.
type ctlAdmin struct{ c *ctl.Client }

var _ keyAdmin = (*ctlAdmin)(nil)

func (a *ctlAdmin) call(ctx context.Context, r ctl.Request, out any) error {
	return remoteError(a.c.Call(ctx, r, out))
}

func (a *ctlAdmin) CreateKey(ctx context.Context, name string) (md keys.Metadata, err error) {
	return md, a.call(ctx, ctl.Request{Op: "key.create", Name: name}, &md)
}

func (a *ctlAdmin) RollKey(ctx context.Context, name string) (md keys.Metadata, err error) {
	return md, a.call(ctx, ctl.Request{Op: "key.roll", Name: name}, &md)
}

func (a *ctlAdmin) Metadata(ctx context.Context, name string) (md keys.Metadata, err error) {
	return md, a.call(ctx, ctl.Request{Op: "key.describe", Name: name}, &md)
}

func (a *ctlAdmin) ListKeys(ctx context.Context) (mds []keys.Metadata, err error) {
	return mds, a.call(ctx, ctl.Request{Op: "key.list"}, &mds)
}

func (a *ctlAdmin) ZonesUsingKey(ctx context.Context, name string) (paths []string, err error) {
	return paths, a.call(ctx, ctl.Request{Op: "key.zones", Name: name}, &paths)
}

// DeleteKey asks the daemon, which refuses while a zone uses the key.
func (a *ctlAdmin) DeleteKey(ctx context.Context, name string) error {
	err := a.call(ctx, ctl.Request{Op: "key.delete", Name: name}, nil)
	if errors.Is(err, keys.ErrKeyInUse) {
		if paths, zerr := a.ZonesUsingKey(ctx, name); zerr == nil {
			return &keyInUseError{Name: name, Zones: paths}
		}
	}
	return err
}

func (a *ctlAdmin) Close() error { return a.c.Close() }

// remoteCodes map the daemon's error codes back to sentinels, so errors.Is works on
// this side of the socket as it does offline.
var remoteCodes = map[string]error{}

func init() {
	for _, c := range errorCodes {
		remoteCodes[c.code] = c.err
	}
	remoteCodes["denied"] = ctl.ErrDenied
}

// remoteError turns a *ctl.RemoteError into an error with the daemon's message and
// hints that matches the sentinel of its code.
func remoteError(err error) error {
	var re *ctl.RemoteError
	if !errors.As(err, &re) {
		return err
	}
	inner := error(re)
	if s, ok := remoteCodes[re.CodeName]; ok {
		inner = s
	}
	return &hintError{err: inner, msg: re.Msg, hints: re.Hint}
}
