package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/volume"
)

const mainkeyVolumeHelp = `
The volume: --backing DIR works offline (not while it is mounted; a passphrase or key-file
volume needs its current secret from --passphrase-file, --key-file, $EZFS_PASSPHRASE_FILE or a
prompt); --mount MOUNTPOINT, a PATH inside a mount, or with none of these the only ezfs mount
goes through the mount's daemon (changes need root or the user who mounted).

Exit status: 0 success, 1 error (the message names the KMS key and action), 2 usage error.`

func newMainkeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mainkey",
		Short: "Rotate, re-wrap and check the volume's main key (passphrase, key file or AWS KMS)",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
		},
	}
	cmd.AddCommand(newMainkeyRotateCmd(g), newMainkeyRewrapCmd(g), newMainkeyPolicyCmd(g), newMainkeyCheckCmd(g))
	return cmd
}

// mainkeyInfo describes a volume's main key (`mainkey.info` over the socket).
type mainkeyInfo struct {
	Volume   string `json:"volume"`   // the backing directory
	Provider string `json:"provider"` // passphrase, keyfile or awskms
	Key      string `json:"key,omitempty"`
	Versions int    `json:"versions"` // wrapped zone-key versions
}

// spec is the main key as --main-key and --to take it.
func (i mainkeyInfo) spec() string {
	return volume.MainKeyConfig{Provider: i.Provider, Key: i.Key}.Spec()
}

// checkResult is what `mainkey check` found: DescribeKey's answer and each failed action.
type checkResult struct {
	mainkeyInfo
	ARN      string         `json:"arn,omitempty"`
	Region   string         `json:"region,omitempty"`
	State    string         `json:"state,omitempty"`
	Problems []checkProblem `json:"problems"`
}

type checkProblem struct {
	Action string `json:"action"`
	Error  string `json:"error"`
}

// mainkeyAdmin is what the mainkey commands need from a volume: offline (offlineMainkey)
// or through the daemon (ctlMainkey, ctl_mainkey.go).
type mainkeyAdmin interface {
	Info(ctx context.Context) (mainkeyInfo, error)
	// Rotate moves the volume to the main key to; current is the secret of a
	// passphrase or key-file volume (the daemon checks it; offline it opened the volume).
	Rotate(ctx context.Context, to volume.NewMainKey, current volume.Secret) (mainkeyInfo, error)
	Rewrap(ctx context.Context) (mainkeyInfo, error)
	Check(ctx context.Context) (checkResult, error)
	Close() error
}

// mainkeyOptions are the flags of every mainkey command.
type mainkeyOptions struct {
	vol volumeFlags
}

// openMainkeyAdmin opens the volume that f and the optional PATH argument select.
func openMainkeyAdmin(ctx context.Context, g *globals, f volumeFlags, args []string) (mainkeyAdmin, error) {
	path := ""
	if len(args) > 0 {
		path = args[0]
	}
	switch {
	case f.backing != "" && f.mount != "":
		return nil, usagef("--backing and --mount exclude each other")
	case f.backing != "" && path != "":
		return nil, usagef("--backing and a PATH inside a mount exclude each other")
	case f.backing != "":
		v, err := openOffline(ctx, g, f)
		if err != nil {
			return nil, err
		}
		return &offlineMainkey{v: v}, nil
	}
	mp, err := findMount(g, f.mount, path)
	if err != nil {
		return nil, err
	}
	c, err := dialMount(ctx, g, mp)
	if err != nil {
		return nil, err
	}
	return &ctlMainkey{c: c}, nil
}

// withMainkeyAdmin opens the selected volume, runs fn and closes the volume.
func withMainkeyAdmin(ctx context.Context, g *globals, o mainkeyOptions, args []string, fn func(mainkeyAdmin) error) error {
	a, err := openMainkeyAdmin(ctx, g, o.vol, args)
	if err != nil {
		return err
	}
	err = fn(a)
	if cerr := a.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close volume: %w", cerr)
	}
	return explainKMS(err)
}

// maxPathArgs accepts at most one PATH inside a mount.
func maxPathArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usagef("%s takes at most one PATH inside a mount (got %d arguments)", cmd.CommandPath(), len(args))
	}
	return nil
}

// offlineMainkey works on a volume opened with --backing.
type offlineMainkey struct{ v *volume.Volume }

var _ mainkeyAdmin = (*offlineMainkey)(nil)

func (a *offlineMainkey) Info(ctx context.Context) (mainkeyInfo, error) { return volumeInfo(ctx, a.v) }

func (a *offlineMainkey) Rotate(ctx context.Context, to volume.NewMainKey, _ volume.Secret) (mainkeyInfo, error) {
	if err := a.v.RotateMainKey(ctx, to, awskms.Options{}); err != nil {
		return mainkeyInfo{}, err
	}
	return volumeInfo(ctx, a.v)
}

func (a *offlineMainkey) Rewrap(ctx context.Context) (mainkeyInfo, error) {
	return rewrapVolume(ctx, a.v)
}

func (a *offlineMainkey) Check(ctx context.Context) (checkResult, error) {
	return checkVolume(ctx, a.v)
}

func (a *offlineMainkey) Close() error { return a.v.Close() }

// volumeInfo describes v's main key.
func volumeInfo(ctx context.Context, v *volume.Volume) (mainkeyInfo, error) {
	mds, err := v.Keyring.ListKeys(ctx)
	i := mainkeyInfo{Volume: v.Backing, Provider: v.MainKey().Provider, Key: v.MainKey().Key}
	for _, md := range mds {
		i.Versions += len(md.Versions)
	}
	return i, err
}

// rewrapVolume re-wraps every zone-key version of a KMS volume under the key's current material.
func rewrapVolume(ctx context.Context, v *volume.Volume) (mainkeyInfo, error) {
	if _, err := v.RewrapMainKey(ctx); err != nil {
		if errors.Is(err, volume.ErrNotKMS) {
			return mainkeyInfo{}, withHint(err, "ezfs mainkey rotate --to awskms:alias/NAME   # to move it to KMS")
		}
		return mainkeyInfo{}, err
	}
	return volumeInfo(ctx, v)
}

// checkVolume runs awskms Check on a KMS volume's key, one problem per failed action.
func checkVolume(ctx context.Context, v *volume.Volume) (checkResult, error) {
	info, err := volumeInfo(ctx, v)
	r := checkResult{mainkeyInfo: info, Problems: []checkProblem{}}
	if err != nil {
		return r, err
	}
	m := v.KMS()
	if m == nil {
		return r, nil // the secret opened the volume: nothing remote to check
	}
	ki, err := m.Check(ctx)
	r.ARN, r.Region, r.State = ki.ARN, ki.Region, ki.State
	for _, e := range flatten(err) {
		p := checkProblem{Error: e.Error()}
		var ke *awskms.Error
		if errors.As(e, &ke) {
			p.Action = ke.Action
		}
		r.Problems = append(r.Problems, p)
	}
	return r, nil
}

// flatten lists the errors joined in err.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*awskms.Error); ok {
		return []error{err} // its Unwrap lists its kind and cause, not separate failures
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
