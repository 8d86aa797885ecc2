package reencrypt_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

func TestWalkAllToTarget(t *testing.T) {
	e := newEnv(t)
	rels := e.populate(3000)
	before := e.snapshot()
	target := e.roll()
	st := e.run(e.manager(reencrypt.Config{}), reencrypt.Options{Batch: 256})
	if st.State != reencrypt.StateCompleted || st.Reencrypted != 3000 || st.Skipped != 0 || st.Failed != 0 || st.Seen != 3000 {
		t.Fatalf("status %+v", st)
	}
	if st.TargetVersion != target || st.Completed == nil || st.LastWalk == nil || st.Versions[target] != 3000 || len(st.Versions) != 1 {
		t.Fatalf("status %+v", st)
	}
	if st.Checkpoint != rels[len(rels)-1] && st.Checkpoint == "" {
		t.Errorf("checkpoint %q", st.Checkpoint)
	}
	after := e.snapshot()
	for rel, b := range before {
		a := after[rel]
		if a.sum != b.sum {
			t.Fatalf("%s: contents changed", rel)
		}
		if a.meta.EDEK.Key.Version != target || a.meta.FileID != b.meta.FileID {
			t.Fatalf("%s: meta %+v", rel, a.meta)
		}
		if !bytes.Equal(e.dek(a.meta), e.dek(b.meta)) {
			t.Fatalf("%s: DEK changed", rel)
		}
	}
}

func TestSkipsFilesOnTarget(t *testing.T) {
	e := newEnv(t)
	e.populate(100)
	target := e.roll()
	for i := range 50 {
		e.create(filepath.Join("new", string(rune('a'+i%26)), "f"+string(rune('a'+i/26))))
	}
	os.Symlink("top00000", filepath.Join(e.zone.Dir, "link"))
	unix.Mkfifo(filepath.Join(e.zone.Dir, "fifo"), 0o644)
	st := e.run(e.manager(reencrypt.Config{}), reencrypt.Options{Batch: 30})
	if st.State != reencrypt.StateCompleted || st.Reencrypted != 100 || st.Skipped != 50 || st.Seen != 150 || st.Failed != 0 {
		t.Fatalf("status %+v", st)
	}
	if st.Versions[target] != 150 {
		t.Fatalf("versions %v", st.Versions)
	}
	// A second walk finds nothing to do.
	st = e.run(e.manager(reencrypt.Config{}), reencrypt.Options{})
	if st.Reencrypted != 0 || st.Skipped != 150 || st.Submitted.IsZero() {
		t.Fatalf("second walk %+v", st)
	}
}

func TestFailedFilesRecorded(t *testing.T) {
	e := newEnv(t)
	e.populate(200)
	bad := filepath.Join(e.zone.Dir, "d03/s0/f00003")
	m := e.meta(bad)
	m.EDEK.Wrapped[30] ^= 1 // cannot be decrypted
	unix.Setxattr(bad, zone.XattrFile, m.Encode(), 0)
	junk := filepath.Join(e.zone.Dir, "top00010")
	unix.Setxattr(junk, zone.XattrFile, []byte{9, 9, 9}, 0)
	target := e.roll()
	log := testLogger(t, "file not re-encrypted")
	st := e.run(e.manager(reencrypt.Config{Log: log}), reencrypt.Options{Batch: 64})
	if st.State != reencrypt.StateCompleted || st.Failed != 2 || st.Reencrypted != 198 || len(st.Failures) != 2 {
		t.Fatalf("status %+v", st)
	}
	for _, f := range st.Failures {
		if f.Path != "d03/s0/f00003" && f.Path != "top00010" || f.Reason == "" {
			t.Errorf("failure %+v", f)
		}
	}
	if st.Versions[1] != 1 || st.Versions[target] != 198 {
		t.Errorf("versions %v", st.Versions) // the undecryptable file still uses version 1
	}
}

func TestFailuresCapped(t *testing.T) {
	e := newEnv(t)
	e.populate(150)
	filepath.WalkDir(e.zone.Dir, func(p string, d os.DirEntry, err error) error {
		if d.Type().IsRegular() {
			unix.Setxattr(p, zone.XattrFile, []byte{1}, 0)
		}
		return nil
	})
	e.roll()
	st := e.run(e.manager(reencrypt.Config{Log: testLogger(t, "file not re-encrypted")}), reencrypt.Options{})
	if st.Failed != 150 || len(st.Failures) != reencrypt.MaxFailures || st.State != reencrypt.StateCompleted {
		t.Fatalf("failed %d, kept %d, state %s", st.Failed, len(st.Failures), st.State)
	}
}

func TestAlreadyRunning(t *testing.T) {
	e := newEnv(t)
	e.populate(10)
	e.roll()
	release := make(chan struct{})
	h := &hookKeyring{Keyring: e.kr, before: func(int, []keys.Rewrap) error { <-release; return nil }}
	m := e.manager(reencrypt.Config{Keyring: h})
	if _, err := m.Start(context.Background(), e.zone, reencrypt.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(context.Background(), e.zone, reencrypt.Options{}); !errors.Is(err, reencrypt.ErrAlreadyRunning) {
		t.Fatalf("second start: %v", err)
	}
	close(release)
	if st := e.wait(m); st.State != reencrypt.StateCompleted {
		t.Fatalf("state %s", st.State)
	}
}

func TestMarkerMismatch(t *testing.T) {
	e := newEnv(t)
	z := e.zone
	z.ID[0] ^= 1
	m := e.manager(reencrypt.Config{})
	if _, err := m.Start(context.Background(), z, reencrypt.Options{}); !errors.Is(err, reencrypt.ErrZoneMarker) {
		t.Fatalf("start: %v", err)
	}
	if _, err := m.Status(z.ID); !errors.Is(err, reencrypt.ErrNoWalk) {
		t.Fatalf("status: %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	e := newEnv(t)
	m := e.manager(reencrypt.Config{})
	for _, o := range []reencrypt.Options{{Rate: -1}, {Batch: -1}, {Batch: reencrypt.MaxBatch + 1}} {
		if _, err := m.Start(context.Background(), e.zone, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
