package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// mountOptions are the flags of `ezfs mount`. Flags become fs.Options in serveVolume.
type mountOptions struct {
	vol         volumeFlags
	foreground  bool
	allowOther  bool
	readOnly    bool
	passthrough bool     // --passthrough: the kernel serves files outside zones itself
	options     []string // -o, comma-separated, repeatable
	logFile     string
	debug       bool
	readyFd     int           // the daemon reports readiness on this descriptor (-1: not the daemon)
	keyTTL      time.Duration // --key-cache-ttl: how long an unwrapped zone-key version stays cached
	keyUses     uint64        // --key-cache-max-uses: how many EDEK operations a cached version serves
}

const mountLong = `Mount the ezfs volume in BACKING at MOUNTPOINT.

The volume is unlocked before anything is mounted, so a wrong passphrase fails at once.
By default ezfs returns when the mount is ready and a daemon serves it in the background,
logging to --log-file (default BACKING/.ezfs/daemon.log); --foreground stays attached and
unmounts cleanly on SIGINT or SIGTERM. As root the kernel mount is made directly,
otherwise through fusermount3. A volume can be mounted only once at a time.

--passthrough (root, Linux 6.9 or later) lets the kernel read and write files outside zones
straight from the backing directory, at nearly its speed; zone files always go through
ezfs.

-o takes mount(8) options: passphrase_file=F, key_file=F, key_cache_ttl=D, key_cache_max_uses=N,
allow_other, ro, passthrough, debug; rw, defaults,
auto, noauto, user, users, nouser, _netdev, nofail, exec, noexec, suid, nosuid, dev, nodev,
atime, noatime, relatime and x-* are accepted and ignored. Called as mount.fuse.ezfs (by
mount -t fuse.ezfs), ezfs takes mount(8)'s form: mount.fuse.ezfs BACKING MOUNTPOINT -o OPTS.

Exit status: 0 mounted (or, with --foreground, cleanly unmounted), 1 error, 2 usage error.`

func newMountCmd(g *globals) *cobra.Command {
	var o mountOptions
	cmd := &cobra.Command{
		Use:   "mount BACKING MOUNTPOINT",
		Short: "Mount a volume through FUSE",
		Long:  mountLong,
		Args:  exactArgs(2, "BACKING and MOUNTPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMount(cmd.Context(), g, o, args)
		},
	}
	f := cmd.Flags()
	o.vol.secret.register(f)
	f.StringVar(&o.vol.keystore, "keystore", "", "key store in `DIR` instead of BACKING/.ezfs")
	f.BoolVar(&o.foreground, "foreground", false, "stay attached; unmount on SIGINT or SIGTERM")
	f.BoolVar(&o.allowOther, "allow-other", false, "let other users access the mount")
	f.BoolVar(&o.readOnly, "read-only", false, "mount read-only")
	f.BoolVar(&o.passthrough, "passthrough", false, "let the kernel serve files outside zones from the backing directory (root)")
	f.StringArrayVarP(&o.options, "options", "o", nil, "mount(8) options `OPTS`, comma-separated")
	f.StringVar(&o.logFile, "log-file", "", "daemon log `FILE` (default BACKING/.ezfs/daemon.log)")
	f.BoolVar(&o.debug, "debug", false, "log every FUSE request")
	f.DurationVar(&o.keyTTL, "key-cache-ttl", 0, "drop an unwrapped zone-key version `DURATION` after unwrapping it (0: keep it for the life of the mount)")
	f.Uint64Var(&o.keyUses, "key-cache-max-uses", 0, "unwrap a zone-key version again after `N` file-key operations under its cached copy (0: no bound)")
	mountHelperFlags(f)
	return cmd
}

// mountHelperFlags accepts (and ignores) what mount(8) passes to a mount.TYPE helper:
// -n (no mtab), -s (sloppy), -v (verbose), -t TYPE and -N NAMESPACE.
func mountHelperFlags(f *pflag.FlagSet) {
	for _, b := range []string{"n", "s", "v"} {
		f.BoolP("mount-helper-"+b, b, false, "ignored (mount(8) helper flag)")
		f.MarkHidden("mount-helper-" + b)
	}
	for _, s := range []string{"t", "N"} {
		f.StringP("mount-helper-"+s, s, "", "ignored (mount(8) helper flag)")
		f.MarkHidden("mount-helper-" + s)
	}
}

// runMount checks the arguments, then serves in the foreground or starts the daemon.
func runMount(ctx context.Context, g *globals, o mountOptions, args []string) error {
	if err := o.parseOptions(); err != nil {
		return err
	}
	if o.passthrough && os.Geteuid() != 0 {
		return usagef("--passthrough needs root: the kernel lets only root register backing files")
	}
	backing, mountpoint, err := mountPaths(g, args[0], args[1])
	if err != nil {
		return err
	}
	o.vol.backing = backing
	o.readyFd = daemonReadyFd(g)
	switch {
	case o.readyFd >= 0:
		return runDaemon(ctx, g, o, mountpoint)
	case o.foreground:
		return serveVolume(ctx, g, o, mountpoint, func(error) {})
	}
	return startDaemon(ctx, g, o, mountpoint)
}

// parseOptions folds -o options into the flags; unknown options are usage errors.
func (o *mountOptions) parseOptions() error {
	for _, list := range o.options {
		for opt := range strings.SplitSeq(list, ",") {
			if err := o.option(opt); err != nil {
				return err
			}
		}
	}
	return nil
}

// ignoredOptions are generic fstab options that mean nothing to ezfs.
var ignoredOptions = map[string]bool{"": true, "rw": true, "defaults": true, "auto": true, "noauto": true,
	"user": true, "users": true, "nouser": true, "_netdev": true, "nofail": true, "exec": true, "noexec": true,
	"suid": true, "nosuid": true, "dev": true, "nodev": true, "atime": true, "noatime": true, "relatime": true,
	"default_permissions": true}

// option applies one -o option.
func (o *mountOptions) option(opt string) error {
	name, value, _ := strings.Cut(opt, "=")
	switch {
	case name == "passphrase_file":
		o.vol.secret.passphraseFile = value
	case name == "key_file":
		o.vol.secret.keyFile = value
	case name == "allow_other":
		o.allowOther = true
	case name == "ro":
		o.readOnly = true
	case name == "passthrough":
		o.passthrough = true
	case name == "debug":
		o.debug = true
	case name == "key_cache_ttl":
		return o.setKeyTTL(value)
	case name == "key_cache_max_uses":
		return o.setKeyUses(value)
	case ignoredOptions[name] || strings.HasPrefix(name, "x-"):
	default:
		return usagef("unknown mount option %q", opt)
	}
	return nil
}

// mountPaths makes both paths absolute and checks them before anything is unlocked:
// the mount point must be a directory, and the volume must not be mounted already.
func mountPaths(g *globals, backing, mountpoint string) (string, string, error) {
	b, err := filepath.Abs(backing)
	if err != nil {
		return "", "", err
	}
	m, err := filepath.Abs(mountpoint)
	if err != nil {
		return "", "", err
	}
	if st, err := os.Stat(m); err != nil || !st.IsDir() {
		return "", "", fmt.Errorf("mount point %s: %w", mountpoint, notDir(err))
	}
	for _, e := range ezfsMounts(g) {
		if e.source == b {
			return "", "", withHint(fmt.Errorf("volume %s is already mounted at %s", backing, e.dir), "ezfs unmount "+shellQuote(e.dir))
		}
		if e.dir == m {
			return "", "", fmt.Errorf("%s is already an ezfs mount point (of %s)", mountpoint, e.source)
		}
	}
	return b, m, nil
}

// notDir explains a mount point that is missing or not a directory.
func notDir(err error) error {
	if err != nil {
		return err
	}
	return errors.New("not a directory")
}
