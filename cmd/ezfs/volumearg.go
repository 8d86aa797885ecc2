package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/local"
	"github.com/ezfs/ezfs/volume"
	"github.com/ezfs/ezfs/zone"
)

// Every key, zone, mainkey and reencrypt command finds its volume the same way
// (DECISIONS.md "CLI"): --backing DIR opens it offline; otherwise --mount MOUNTPOINT, a path
// argument inside a mount, or the only ezfs mount reaches the daemon over its control socket.

// fuseType is the file-system type of an ezfs mount in /proc/mounts; its source is the
// absolute backing directory.
const fuseType = "fuse.ezfs"

// keyAdmin is what the key commands need from a volume. An offline volume (offlineAdmin) and
// the control-socket client of a mounted one both implement it.
type keyAdmin interface {
	CreateKey(ctx context.Context, name string) (keys.Metadata, error)
	RollKey(ctx context.Context, name string) (keys.Metadata, error)
	Metadata(ctx context.Context, name string) (keys.Metadata, error)
	ListKeys(ctx context.Context) ([]keys.Metadata, error)
	// ZonesUsingKey returns the paths of the zones whose key is name (none: it may go).
	ZonesUsingKey(ctx context.Context, name string) ([]string, error)
	// DeleteKey destroys every version of name; a *keyInUseError while a zone uses it.
	DeleteKey(ctx context.Context, name string) error
	Close() error
}

// dialControl connects to the daemon serving the ezfs mount at mountpoint. The control-socket
// client (ctl_client.go) sets it in an init function.
var dialControl func(ctx context.Context, g *globals, mountpoint string) (keyAdmin, error)

// volumeFlags select a volume; every command that works on one registers them.
type volumeFlags struct {
	backing  string
	mount    string
	keystore string
	secret   secretFlags
}

func (f *volumeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.backing, "backing", "", "work offline on the volume in backing directory `DIR` (not while it is mounted)")
	fs.StringVar(&f.mount, "mount", "", "work through the daemon of the ezfs mount at `MOUNTPOINT`")
	fs.StringVar(&f.keystore, "keystore", "", "key store in `DIR` instead of BACKING/.ezfs (with --backing)")
	f.secret.register(fs)
}

// openKeyAdmin opens the volume that f (and, when not empty, the path argument path) selects.
func openKeyAdmin(ctx context.Context, g *globals, f volumeFlags, path string) (keyAdmin, error) {
	if f.backing != "" && f.mount != "" {
		return nil, usagef("--backing and --mount exclude each other")
	}
	if f.backing != "" {
		v, err := openOffline(ctx, g, f)
		if err != nil {
			return nil, err
		}
		return &offlineAdmin{v: v}, nil
	}
	mp, err := findMount(g, f.mount, path)
	if err != nil {
		return nil, err
	}
	if dialControl == nil {
		return nil, fmt.Errorf("reach the daemon of %s: this ezfs has no control-socket client", mp)
	}
	return dialControl(ctx, g, mp)
}

// openOffline opens the volume in f.backing, asking for the secret only if needed.
func openOffline(ctx context.Context, g *globals, f volumeFlags) (*volume.Volume, error) {
	var sec volume.Secret
	defer wipeSecret(&sec)
	getSecret := func() (volume.Secret, error) {
		var err error
		sec, err = readSecret(ctx, g, f.secret, false)
		return sec, err
	}
	g.logger.Debug("open volume", "path", f.backing)
	v, err := volume.Open(ctx, f.backing, volume.OpenOptions{Keystore: f.keystore, Secret: getSecret})
	if err != nil {
		return nil, explainOpen(g, f, sec, err)
	}
	return v, nil
}

// explainOpen turns a volume.Open failure into the line and hints the user needs.
func explainOpen(g *globals, f volumeFlags, sec volume.Secret, err error) error {
	switch {
	case errors.Is(err, keys.ErrWrongSecret) && sec.KeyFile != nil:
		return restate(err, "wrong key file for volume "+f.backing)
	case errors.Is(err, keys.ErrWrongSecret):
		return restate(err, "wrong passphrase for volume "+f.backing)
	case errors.Is(err, volume.ErrSecretKind) && sec.KeyFile != nil:
		return restate(err, "volume "+f.backing+" is unlocked by a passphrase, not a key file", g.commandWith("--passphrase-file", "FILE"))
	case errors.Is(err, volume.ErrSecretKind):
		return restate(err, "volume "+f.backing+" is unlocked by a key file, not a passphrase", g.commandWith("--key-file", "FILE"))
	case errors.Is(err, errNoPassphrase):
		return withHint(err, g.commandWith("--passphrase-file", "FILE"))
	case errors.Is(err, volume.ErrNotVolume):
		return restate(err, f.backing+" is not an ezfs volume", "ezfs init "+shellQuote(f.backing))
	case errors.Is(err, local.ErrLocked):
		return explainLocked(g, f, err)
	}
	return err
}

// explainLocked says where a volume whose key store is held by another process is mounted.
func explainLocked(g *globals, f volumeFlags, err error) error {
	abs, _ := filepath.Abs(f.backing)
	for _, m := range ezfsMounts(g) {
		if m.source == abs {
			return restate(err, fmt.Sprintf("volume %s is mounted at %s; its key store is held by the daemon", f.backing, m.dir),
				g.commandWith("--mount", m.dir))
		}
	}
	return restate(err, "the key store of volume "+f.backing+" is in use by another ezfs process")
}

// mountEntry is one ezfs mount from the mount table.
type mountEntry struct{ source, dir string }

// ezfsMounts lists the ezfs mounts in g.mountsFile; an unreadable table lists none.
func ezfsMounts(g *globals) []mountEntry {
	f, err := os.Open(g.mountsFile)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms []mountEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == fuseType {
			ms = append(ms, mountEntry{source: unescapeMount(fields[0]), dir: unescapeMount(fields[1])})
		}
	}
	return ms
}

// unescapeMount undoes the octal escapes (\040 for a space) of the mount table.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	if u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`); err == nil {
		return u
	}
	return s
}

// findMount picks the mount: --mount, else the mount holding path, else the only mount.
func findMount(g *globals, flag, path string) (string, error) {
	mounts := ezfsMounts(g)
	switch {
	case flag != "":
		return mountAt(mounts, flag)
	case path != "":
		return mountHolding(mounts, path)
	case len(mounts) == 1:
		return mounts[0].dir, nil
	case len(mounts) == 0:
		return "", withHint(errors.New("no ezfs volume is mounted: name one with --backing DIR or --mount MOUNTPOINT"),
			g.commandWith("--backing", "DIR"))
	}
	return "", severalMounts(g, mounts)
}

func severalMounts(g *globals, mounts []mountEntry) error {
	var names, hints []string
	for _, m := range mounts {
		names = append(names, m.dir)
		hints = append(hints, g.commandWith("--mount", m.dir))
	}
	return withHint(fmt.Errorf("%d ezfs volumes are mounted (%s): choose one with --mount", len(mounts), strings.Join(names, ", ")), hints...)
}

// mountAt checks that dir is an ezfs mount point.
func mountAt(mounts []mountEntry, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, m := range mounts {
		if m.dir == abs {
			return m.dir, nil
		}
	}
	return "", fmt.Errorf("%s is not an ezfs mount point", dir)
}

// mountHolding returns the innermost ezfs mount that contains path.
func mountHolding(mounts []mountEntry, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	best := ""
	for _, m := range mounts {
		if (abs == m.dir || strings.HasPrefix(abs, strings.TrimSuffix(m.dir, "/")+"/")) && len(m.dir) > len(best) {
			best = m.dir
		}
	}
	if best == "" {
		return "", fmt.Errorf("%s is not inside an ezfs mount", path)
	}
	return best, nil
}

// commandWith returns the running command line with the volume flags replaced by flag and
// value: a command to paste into a hint.
func (g *globals) commandWith(flag, value string) string {
	drop := map[string]bool{"--backing": true, "--mount": true, "--keystore": true,
		"--passphrase-file": true, "--key-file": true}
	out := []string{"ezfs"}
	for i := 0; i < len(g.args); i++ {
		name, _, hasValue := strings.Cut(g.args[i], "=")
		if drop[name] {
			if !hasValue {
				i++
			}
			continue
		}
		out = append(out, shellQuote(g.args[i]))
	}
	return strings.Join(append(out, flag, shellQuote(value)), " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=@:,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// offlineAdmin administers the keys of a volume opened with --backing.
type offlineAdmin struct{ v *volume.Volume }

var _ keyAdmin = (*offlineAdmin)(nil)

func (a *offlineAdmin) CreateKey(ctx context.Context, name string) (keys.Metadata, error) {
	return a.v.Keyring.CreateKey(ctx, name)
}

func (a *offlineAdmin) RollKey(ctx context.Context, name string) (keys.Metadata, error) {
	return a.v.Keyring.RollKey(ctx, name)
}

func (a *offlineAdmin) Metadata(ctx context.Context, name string) (keys.Metadata, error) {
	return a.v.Keyring.Metadata(ctx, name)
}

func (a *offlineAdmin) ListKeys(ctx context.Context) ([]keys.Metadata, error) {
	return a.v.Keyring.ListKeys(ctx)
}

// ZonesUsingKey returns the backing-relative paths of the zones registered with key name.
func (a *offlineAdmin) ZonesUsingKey(ctx context.Context, name string) ([]string, error) {
	var paths []string
	err := a.v.Store.View(func(tx keys.Tx) error {
		users, err := zone.KeyInUse(tx, name)
		for _, z := range users {
			paths = append(paths, z.Path)
		}
		return err
	})
	return paths, err
}

// DeleteKey refuses while a zone uses name; offline nothing can register a zone meanwhile,
// since this process holds the key store's lock.
func (a *offlineAdmin) DeleteKey(ctx context.Context, name string) error {
	paths, err := a.ZonesUsingKey(ctx, name)
	if err != nil {
		return err
	}
	if len(paths) > 0 {
		return &keyInUseError{Name: name, Zones: paths}
	}
	return a.v.Keyring.DeleteKey(ctx, name)
}

func (a *offlineAdmin) Close() error { return a.v.Close() }

// keyInUseError refuses to delete a key that zones use; it is keys.ErrKeyInUse.
type keyInUseError struct {
	Name  string
	Zones []string
}

func (e *keyInUseError) Error() string {
	return fmt.Sprintf("key %s is used by zone %s: it cannot be deleted", e.Name, strings.Join(e.Zones, ", "))
}

func (e *keyInUseError) Unwrap() error { return keys.ErrKeyInUse }

// commandWithFlag returns the running command line with flag appended.
func (g *globals) commandWithFlag(flag string) string {
	out := []string{"ezfs"}
	for _, a := range g.args {
		out = append(out, shellQuote(a))
	}
	return strings.Join(append(out, flag), " ")
}
