package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ezfs/ezfs/ctl"
	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/local"
	"github.com/ezfs/ezfs/volume"
)

type keyBackupOptions struct {
	vol volumeFlags
	out string
}

func newKeyBackupCmd(g *globals) *cobra.Command {
	var o keyBackupOptions
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Save the volume's key store to FILE",
		Long: `Save a consistent copy of the volume's key store to FILE (mode 0600): every zone-key
version, still wrapped under the main key, the main-key envelope, the zone registry and the
re-encryption records. Restoring it needs the volume's secret as it was at backup time. Works
offline (--backing DIR, no secret needed) and on a mounted volume (root or the mounting user).
Back up the backing tree with its xattrs too (rsync -aX, tar --xattrs, cp -a).

Exit status: 0 saved, 1 error, 2 usage error.` + keyVolumeHelp,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error { return runKeyBackup(cmd.Context(), g, o) },
	}
	o.vol.register(cmd.Flags())
	cmd.Flags().StringVar(&o.out, "out", "", "write the backup to `FILE`")
	return cmd
}

func runKeyBackup(ctx context.Context, g *globals, o keyBackupOptions) error {
	if o.out == "" {
		return usagef("key backup needs --out FILE")
	}
	b, err := takeBackup(ctx, g, o.vol)
	if err != nil {
		return err
	}
	if err := writeBackup(o.out, b); err != nil {
		return err
	}
	g.printf("saved the key store of volume %s (%d records) to %s\n", b.VolumeID, len(b.Records), o.out)
	return nil
}

// takeBackup snapshots the key store: offline straight from its directory, else from
// the daemon.
func takeBackup(ctx context.Context, g *globals, f volumeFlags) (*volume.Backup, error) {
	if f.backing != "" && f.mount != "" {
		return nil, usagef("--backing and --mount exclude each other")
	}
	if f.backing != "" {
		return offlineBackup(g, f)
	}
	mp, err := findMount(g, f.mount, "")
	if err != nil {
		return nil, err
	}
	var b volume.Backup
	return &b, callMount(ctx, g, mp, ctl.Request{Op: "key.backup"}, &b)
}

// offlineBackup reads the store of an unmounted volume without unlocking it.
func offlineBackup(g *globals, f volumeFlags) (*volume.Backup, error) {
	cfg, err := volume.ReadConfig(f.backing)
	if err != nil {
		return nil, explainOpen(g, f, volume.Secret{}, err)
	}
	s, err := openStoreDir(g, f, cfg, true)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return volume.NewBackup(s, cfg.VolumeID)
}

// openStoreDir opens the key store of the volume in f.backing (read-only when asked and
// possible: a store left by a crash must be opened for writing once).
func openStoreDir(g *globals, f volumeFlags, cfg *volume.Config, readOnly bool) (*local.Store, error) {
	dir := cfg.KeystorePath(f.backing)
	if f.keystore != "" {
		dir = f.keystore
	}
	if readOnly {
		if s, err := local.OpenWith(dir, local.Options{ReadOnly: true}); err == nil {
			return s, nil
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	s, err := local.Open(dir)
	if errors.Is(err, local.ErrLocked) {
		return nil, explainLocked(g, f, err)
	}
	return s, err
}

// writeBackup writes b to path with mode 0600, replacing it atomically.
func writeBackup(path string, b *volume.Backup) error {
	data, err := b.Encode()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write backup %s: %w", path, err)
	}
	return nil
}

// readBackup reads and checks a backup file.
func readBackup(path string) (*volume.Backup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := volume.ParseBackup(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

type keyRestoreOptions struct {
	vol volumeFlags
	yes bool
}

func newKeyRestoreCmd(g *globals) *cobra.Command {
	var o keyRestoreOptions
	cmd := &cobra.Command{
		Use:   "restore FILE --backing DIR",
		Short: "Replace the key store of an unmounted volume with a backup",
		Long: `Replace the key store of the unmounted volume in --backing DIR with the backup in FILE
(made by ezfs key backup). The backup must be of this volume (same volume id). Afterwards the
volume opens with the secret it had when the backup was made. Zone-key versions created since
the backup would be lost, and files encrypted under them unreadable: then restore asks on a
terminal and otherwise needs --yes.

Exit status: 0 restored, 1 refused or failed, 2 usage error.`,
		Args: exactArgs(1, "a backup file"),
		RunE: func(cmd *cobra.Command, args []string) error { return runKeyRestore(cmd.Context(), g, o, args) },
	}
	o.vol.register(cmd.Flags())
	cmd.Flags().BoolVar(&o.yes, "yes", false, "restore even if key versions created since the backup are lost")
	return cmd
}

func runKeyRestore(ctx context.Context, g *globals, o keyRestoreOptions, args []string) error {
	if o.vol.backing == "" {
		return restoreMounted(g, o.vol, args[0])
	}
	b, err := readBackup(args[0])
	if err != nil {
		return err
	}
	cfg, err := volume.ReadConfig(o.vol.backing)
	if err != nil {
		return explainOpen(g, o.vol, volume.Secret{}, err)
	}
	if cfg.VolumeID != b.VolumeID {
		return fmt.Errorf("%s is a backup of volume %s, but %s is volume %s: not restored", args[0], b.VolumeID, o.vol.backing, cfg.VolumeID)
	}
	if abs, _ := filepath.Abs(o.vol.backing); slices.ContainsFunc(ezfsMounts(g), func(m mountEntry) bool { return m.source == abs }) {
		return restoreMounted(g, o.vol, args[0])
	}
	s, err := openStoreDir(g, o.vol, cfg, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := confirmRestore(ctx, g, o.yes, s, b); err != nil {
		return err
	}
	if err := b.RestoreTo(s); err != nil {
		return err
	}
	g.printf("restored the key store of volume %s from %s (%d records, saved %s)\n", b.VolumeID, args[0], len(b.Records), b.Created.Format(time.RFC3339))
	return nil
}

// restoreMounted refuses a restore onto a mounted volume.
func restoreMounted(g *globals, f volumeFlags, file string) error {
	abs, _ := filepath.Abs(f.backing)
	for _, m := range ezfsMounts(g) {
		if f.backing == "" || m.source == abs {
			return withHint(fmt.Errorf("key restore works only on an unmounted volume (%s is mounted at %s)", m.source, m.dir),
				"ezfs unmount "+shellQuote(m.dir), "ezfs key restore "+shellQuote(file)+" --backing "+shellQuote(m.source))
		}
	}
	return usagef("key restore needs --backing DIR (the volume must not be mounted)")
}

// confirmRestore asks before a restore that loses key versions made since the backup.
func confirmRestore(ctx context.Context, g *globals, yes bool, s keys.Store, b *volume.Backup) error {
	lost, err := lostVersions(ctx, s, b)
	if err != nil || len(lost) == 0 || yes {
		return err
	}
	msg := fmt.Sprintf("restoring would destroy key versions made since the backup (%s); files encrypted under them could not be read", strings.Join(lost, ", "))
	if g.tty == nil {
		return restate(errNotConfirmed, msg+": confirm with --yes", g.commandWithFlag("--yes"))
	}
	fmt.Fprintln(g.stderr, msg+".")
	answer, err := g.tty.Line(ctx, "Type yes to restore anyway: ")
	if err != nil {
		return err
	}
	if answer != "yes" {
		return restate(errNotConfirmed, "key store not restored")
	}
	return nil
}

// lostVersions lists the key versions in s that b lacks.
func lostVersions(ctx context.Context, s keys.Store, b *volume.Backup) ([]string, error) {
	now, err := keys.NewKeyring(s, nil, b.VolumeID).ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	old, err := keys.NewKeyring(b.Store(), nil, b.VolumeID).ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	had := map[keys.Ref]bool{}
	for _, m := range old {
		for _, v := range m.Versions {
			had[keys.Ref{Name: m.Name, Version: v.Version}] = true
		}
	}
	var lost []string
	for _, m := range now {
		for _, v := range m.Versions {
			if r := (keys.Ref{Name: m.Name, Version: v.Version}); !had[r] {
				lost = append(lost, r.String())
			}
		}
	}
	return lost, nil
}
