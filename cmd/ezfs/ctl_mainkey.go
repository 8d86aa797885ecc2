package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ezfs/ezfs/ctl"
	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/volume"
)

// The mainkey.* operations of the control socket: the daemon's side (mainkey) and the
// client's (ctlMainkey). mainkey.info is a query; rotate, rewrap and check are changes
// (check spends the daemon's KMS calls), so they need root or the mounting user.

// mainkeyMu serialises main-key operations of the daemon: a rotation replaces the
// volume's main key.
var mainkeyMu sync.Mutex

// mainkey runs one mainkey.* request in the daemon.
func (h *daemonHandler) mainkey(ctx context.Context, r ctl.Request) (any, error) {
	mainkeyMu.Lock()
	defer mainkeyMu.Unlock()
	defer wipeArgs(r.MainKey)
	v := h.m.vol
	var out any
	var err error
	switch r.Op {
	case "mainkey.info":
		out, err = volumeInfo(ctx, v)
	case "mainkey.rewrap":
		out, err = rewrapVolume(ctx, v)
	case "mainkey.check":
		out, err = checkVolume(ctx, v)
	case "mainkey.rotate":
		out, err = h.rotateMainKey(ctx, r.MainKey)
	default:
		err = fmt.Errorf("unknown control operation %q", r.Op)
	}
	return out, hinted(explainKMS(err))
}

// rotateMainKey checks the current secret of a passphrase or key-file volume, then rotates.
func (h *daemonHandler) rotateMainKey(ctx context.Context, a *ctl.MainKeyArgs) (mainkeyInfo, error) {
	if a == nil {
		return mainkeyInfo{}, errors.New("mainkey.rotate: no new main key given")
	}
	v := h.m.vol
	if err := v.CheckSecret(volume.Secret{Passphrase: a.Passphrase, KeyFile: a.KeyFile}); err != nil {
		if errors.Is(err, keys.ErrWrongSecret) {
			return mainkeyInfo{}, restate(err, "wrong current "+v.MainKey().Provider+" for volume "+v.Backing)
		}
		return mainkeyInfo{}, err
	}
	from := v.MainKey().Spec()
	to := volume.NewMainKey{KMS: a.To, Secret: volume.Secret{Passphrase: a.NewPassphrase, KeyFile: a.NewKeyFile}}
	if err := v.RotateMainKey(ctx, to, awskms.Options{Logger: h.g.logger}); err != nil {
		return mainkeyInfo{}, err
	}
	h.g.logger.Info("main key rotated", "from", from, "to", v.MainKey().Spec())
	return volumeInfo(ctx, v)
}

// wipeArgs zeroes the secrets of a request once it is answered.
func wipeArgs(a *ctl.MainKeyArgs) {
	if a != nil {
		for _, b := range [][]byte{a.Passphrase, a.KeyFile, a.NewPassphrase, a.NewKeyFile} {
			clear(b)
		}
	}
}

// socketHints carries an error's hints over the control socket (ctl.Hinted).
type socketHints struct {
	error
	hints []string
}

func (e socketHints) Hints() []string { return e.hints }
func (e socketHints) Unwrap() error   { return e.error }

// hinted makes the hints of err travel to the client.
func hinted(err error) error {
	if h := hintsOf(err); len(h) > 0 {
		return socketHints{err, h}
	}
	return err
}

// ctlMainkey runs the mainkey commands through the daemon of a mount.
type ctlMainkey struct{ c *ctl.Client }

var _ mainkeyAdmin = (*ctlMainkey)(nil)

func (a *ctlMainkey) call(ctx context.Context, op string, args *ctl.MainKeyArgs, out any) error {
	return remoteError(a.c.Call(ctx, ctl.Request{Op: op, MainKey: args}, out))
}

func (a *ctlMainkey) Info(ctx context.Context) (i mainkeyInfo, err error) {
	return i, a.call(ctx, "mainkey.info", nil, &i)
}

// Rotate sends the current and the new secret to the daemon (over the socket only).
func (a *ctlMainkey) Rotate(ctx context.Context, to volume.NewMainKey, cur volume.Secret) (i mainkeyInfo, err error) {
	args := &ctl.MainKeyArgs{Passphrase: cur.Passphrase, KeyFile: cur.KeyFile, To: to.KMS,
		NewPassphrase: to.Secret.Passphrase, NewKeyFile: to.Secret.KeyFile}
	return i, a.call(ctx, "mainkey.rotate", args, &i)
}

func (a *ctlMainkey) Rewrap(ctx context.Context) (i mainkeyInfo, err error) {
	return i, a.call(ctx, "mainkey.rewrap", nil, &i)
}

func (a *ctlMainkey) Check(ctx context.Context) (r checkResult, err error) {
	return r, a.call(ctx, "mainkey.check", nil, &r)
}

func (a *ctlMainkey) Close() error { return a.c.Close() }
