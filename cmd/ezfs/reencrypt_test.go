package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

// offlineZone makes a volume with key k and zone "z" of n files (xattrs only, no data:
// the walker never reads data), made the way the mount makes them, without FUSE.
func offlineZone(t *testing.T, n int) (g *globals, dir, pass string) {
	t.Helper()
	g, _, _ = testGlobals(t)
	ctx := context.Background()
	dir, pass = t.TempDir(), writeFile(t, "pass", "pw\n")
	if err := runInit(ctx, g, initOptions{chunkSize: "4096", secret: secretFlags{passphraseFile: pass}}, []string{dir}); err != nil {
		t.Fatal(err)
	}
	v, err := openOffline(ctx, g, volumeFlags{backing: dir, secret: secretFlags{passphraseFile: pass}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Keyring.CreateKey(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	zdir := filepath.Join(dir, "z")
	os.Mkdir(zdir, 0o755)
	rec := zone.Record{Key: "k", Path: "z", Created: time.Now()}
	rand.Read(rec.ID[:])
	if err := unix.Lsetxattr(zdir, zone.XattrZone, zone.Marker{ID: rec.ID, Key: "k"}.Encode(), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	if err := v.Store.Update(func(tx keys.Tx) error { return zone.Register(tx, rec) }); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m, dek, err := zone.NewFileMeta(ctx, v.Keyring, "k", v.Config.Cipher, v.Config.ChunkSize)
		if err != nil {
			t.Fatal(err)
		}
		dek.Wipe()
		p := filepath.Join(zdir, fmt.Sprintf("f%03d", i))
		os.WriteFile(p, nil, 0o644)
		if err := unix.Lsetxattr(p, zone.XattrFile, m.Encode(), 0); err != nil {
			t.Fatal(err)
		}
	}
	return g, dir, pass
}

// The offline commands: prune refused, run, status, prune allowed.
func TestReencryptRunPrune(t *testing.T) {
	g, dir, pass := offlineZone(t, 50)
	out := g.stdout.(interface{ String() string })
	ctx := context.Background()
	vol := volumeFlags{backing: dir, secret: secretFlags{passphraseFile: pass}}
	if err := runKeyRoll(ctx, g, keyOptions{vol: vol}, []string{"k"}); err != nil {
		t.Fatal(err)
	}
	po := keyPruneOptions{keyOptions: keyOptions{vol: vol}, below: 2, yes: true}
	err := runKeyPrune(ctx, g, po, []string{"k"})
	if !errors.Is(err, errPruneRefused) || len(hintsOf(err)) != 1 || hintsOf(err)[0] != "ezfs reencrypt run "+shellQuote(dir)+" z" {
		t.Fatalf("prune before the walk: %v %q", err, hintsOf(err))
	}
	ro := reencryptRunOptions{secret: vol.secret}
	if err := runReencryptRun(ctx, g, ro, []string{dir, "z"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "to k@2 completed: 50 files seen, 50 re-encrypted, 0 skipped, 0 failed") {
		t.Errorf("run summary: %s", out)
	}
	g.json = true
	if err := runReencryptStatus(ctx, g, reencryptOptions{vol: vol}, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sts []map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sts); err != nil || len(sts) != 1 || sts[0]["zone"] != filepath.Join(dir, "z") || sts[0]["state"] != "completed" {
		t.Errorf("status --json: %v %s", err, lines[len(lines)-1])
	}
	g.json = false
	if err := runKeyPrune(ctx, g, po, []string{"k"}); err != nil {
		t.Fatal(err)
	}
}

// The prune rule on walk records.
func TestPruneCovered(t *testing.T) {
	at := func(s int) *time.Time { t := time.Unix(int64(s), 0).UTC(); return &t }
	md := keys.Metadata{Name: "k", CurrentVersion: 3, Versions: []keys.VersionInfo{{Version: 1, Created: *at(10)}, {Version: 2, Created: *at(20)}, {Version: 3, Created: *at(30)}}}
	for name, tc := range map[string]struct {
		st    reencrypt.Status
		below uint32
		want  bool
	}{
		"no-walk":          {reencrypt.Status{State: reencrypt.StateProcessing}, 2, false},
		"completed":        {reencrypt.Status{State: reencrypt.StateCompleted, TargetVersion: 2, LastWalk: at(25), Versions: map[uint32]uint64{2: 5}}, 2, true},
		"target-too-low":   {reencrypt.Status{State: reencrypt.StateCompleted, TargetVersion: 1, LastWalk: at(25), Versions: map[uint32]uint64{}}, 2, false},
		"file-left":        {reencrypt.Status{State: reencrypt.StateCompleted, TargetVersion: 2, LastWalk: at(25), Versions: map[uint32]uint64{1: 1, 2: 4}}, 2, false},
		"running-after":    {reencrypt.Status{State: reencrypt.StateProcessing, TargetVersion: 3, LastWalk: at(25), Versions: map[uint32]uint64{2: 5}}, 2, true},
		"running-before":   {reencrypt.Status{State: reencrypt.StateProcessing, TargetVersion: 3, LastWalk: at(15), Versions: map[uint32]uint64{}}, 2, false},
		"cancelled-before": {reencrypt.Status{State: reencrypt.StateCancelled, TargetVersion: 2, LastWalk: at(20), Versions: map[uint32]uint64{}}, 2, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := coveredBy(&tc.st, tc.below, md); got != tc.want {
				t.Errorf("covered = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWalkFlagsAndPaths(t *testing.T) {
	for _, f := range []walkFlags{{rate: -1}, {batch: -1}, {batch: reencrypt.MaxBatch + 1}} {
		if _, err := f.options(); exitCode(err) != exitUsage {
			t.Errorf("%+v: %v", f, err)
		}
	}
	for in, want := range map[string]string{"z": "z", "/b/z/": "z", "/b": ".", "a/../z": "z"} {
		if got, err := backingRel("/b", in); err != nil || got != want {
			t.Errorf("backingRel(/b, %s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := backingRel("/b", "/c/z"); err == nil {
		t.Error("a path outside the volume was accepted")
	}
}

func TestFollowerLine(t *testing.T) {
	f := &follower{total: 100}
	st := reencrypt.Status{State: reencrypt.StateProcessing, Seen: 25, Rate: 5, Reencrypted: 20, Failed: 1}
	if got, want := f.line(st, true), "[######..................]  25% 25/100 files, 5 files/s, ETA 15s, 20 re-encrypted, 1 failed"; got != want {
		t.Errorf("line:\n got %q\nwant %q", got, want)
	}
	f.total = 0
	if got := f.line(st, false); got != "processing 25 files, 5 files/s, 20 re-encrypted, 1 failed" {
		t.Errorf("line without total: %q", got)
	}
	g, _, _ := testGlobals(t)
	for _, tc := range []struct {
		st   reencrypt.Status
		want int
	}{
		{reencrypt.Status{State: reencrypt.StateCompleted}, exitOK},
		{reencrypt.Status{State: reencrypt.StateCompleted, Failed: 1}, exitFailure},
		{reencrypt.Status{State: reencrypt.StateCancelled}, exitFailure},
		{reencrypt.Status{State: reencrypt.StateFailed, Error: "kms down"}, exitFailure},
	} {
		if got := exitCode(finishWalk(g, tc.st)); got != tc.want {
			t.Errorf("%+v: exit %d, want %d", tc.st, got, tc.want)
		}
	}
}

// Backup and restore offline: a restore that loses versions needs --yes.
func TestKeyBackupRestoreOffline(t *testing.T) {
	g, dir, pass := offlineZone(t, 1)
	ctx := context.Background()
	vol := volumeFlags{backing: dir, secret: secretFlags{passphraseFile: pass}}
	bk := filepath.Join(t.TempDir(), "bk")
	if err := runKeyBackup(ctx, g, keyBackupOptions{vol: volumeFlags{backing: dir}, out: bk}); err != nil {
		t.Fatal(err)
	}
	if err := runKeyRoll(ctx, g, keyOptions{vol: vol}, []string{"k"}); err != nil {
		t.Fatal(err)
	}
	err := runKeyRestore(ctx, g, keyRestoreOptions{vol: volumeFlags{backing: dir}}, []string{bk})
	if !errors.Is(err, errNotConfirmed) || !strings.Contains(err.Error(), "k@2") {
		t.Fatalf("restore losing k@2: %v", err)
	}
	if err := runKeyRestore(ctx, g, keyRestoreOptions{vol: volumeFlags{backing: dir}, yes: true}, []string{bk}); err != nil {
		t.Fatal(err)
	}
	v, err := openOffline(ctx, g, vol)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if md, err := v.Keyring.Metadata(ctx, "k"); err != nil || md.CurrentVersion != 1 {
		t.Errorf("after restore: %+v %v", md, err)
	}
}
