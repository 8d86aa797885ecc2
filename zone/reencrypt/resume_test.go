package reencrypt_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/keys/local"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

// gate blocks batch call number at until released, and says when one reached it.
type gate struct {
	at      int
	reached chan struct{}
	release chan struct{}
}

func newGate(at int) *gate {
	return &gate{at: at, reached: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) before(call int, _ []keys.Rewrap) error {
	if call == g.at {
		close(g.reached)
		<-g.release
	}
	return nil
}

func TestCancelThenResume(t *testing.T) {
	e := newEnv(t)
	e.populate(1000)
	target := e.roll()
	g := newGate(4)
	h := &hookKeyring{Keyring: e.kr, before: g.before}
	m := e.manager(reencrypt.Config{Keyring: h})
	if _, err := m.Start(context.Background(), e.zone, reencrypt.Options{Batch: 100}); err != nil {
		t.Fatal(err)
	}
	<-g.reached
	done := make(chan *reencrypt.Status)
	go func() {
		st, err := m.Cancel(context.Background(), e.zone.ID)
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	time.Sleep(20 * time.Millisecond) // Cancel waits for the batch in flight
	close(g.release)
	st := <-done
	if st.State != reencrypt.StateCancelled || st.Reencrypted != 400 || st.Seen != 400 || st.Checkpoint == "" || st.Completed != nil {
		t.Fatalf("cancelled status %+v", st)
	}
	if _, err := m.Cancel(context.Background(), e.zone.ID); !errors.Is(err, reencrypt.ErrNotRunning) {
		t.Fatalf("second cancel: %v", err)
	}
	if got, _ := m.Status(e.zone.ID); got.State != reencrypt.StateCancelled || got.Checkpoint != st.Checkpoint {
		t.Fatalf("stored status %+v", got)
	}
	st = e.run(m, reencrypt.Options{Batch: 100})
	if st.State != reencrypt.StateCompleted || st.Reencrypted != 1000 || st.Seen != 1000 || st.Skipped != 0 {
		t.Fatalf("resumed status %+v", st)
	}
	if n := h.items.Load(); n != 1000 {
		t.Fatalf("%d EDEKs re-wrapped in all, want 1000 (each file once)", n)
	}
	if e.allOnOrAbove(target) != 1000 {
		t.Fatal("files missing")
	}
}

func TestCrashThenResume(t *testing.T) {
	dir := t.TempDir()
	s, err := local.Open(filepath.Join(dir, "ks"))
	if err != nil {
		t.Fatal(err)
	}
	mk := keystest.NewMainKey()
	e := newEnvStore(t, s, mk)
	e.populate(1500)
	target := e.roll()
	g := newGate(3)
	h := &hookKeyring{Keyring: e.kr, before: g.before}
	m := e.manager(reencrypt.Config{Keyring: h})
	if _, err := m.Start(context.Background(), e.zone, reencrypt.Options{Batch: 200}); err != nil {
		t.Fatal(err)
	}
	<-g.reached
	// "kill -9": the manager stops mid-batch without writing a final state, and the
	// store is closed and opened again.
	go func() { time.Sleep(10 * time.Millisecond); close(g.release) }()
	m.Close()
	e.reopen(s, filepath.Join(dir, "ks"), mk)
	h2 := &hookKeyring{Keyring: e.kr}
	m2 := e.manager(reencrypt.Config{Keyring: h2})
	st, err := m2.Status(e.zone.ID)
	if err != nil || st.State != reencrypt.StateProcessing || st.Reencrypted != 400 && st.Reencrypted != 600 {
		t.Fatalf("after crash: %+v, %v", st, err) // the batch in flight may or may not have stored its checkpoint
	}
	done := int64(st.Reencrypted)
	resumed, err := m2.Resume(context.Background(), e.resolve)
	if err != nil || len(resumed) != 1 {
		t.Fatalf("resume: %v, %v", resumed, err)
	}
	st = e.wait(m2)
	if st.State != reencrypt.StateCompleted || st.Seen != 1500 || st.Failed != 0 || st.Reencrypted+st.Skipped != 1500 {
		t.Fatalf("resumed status %+v", st)
	}
	if e.allOnOrAbove(target) != 1500 {
		t.Fatal("files missing")
	}
	if n := h2.items.Load() + h.items.Load(); n != 1500 || h.items.Load() < done {
		t.Fatalf("%d EDEKs re-wrapped in all (%d before the crash), want each of 1500 once", n, h.items.Load())
	}
}

// reopen closes the keyring and store and opens them again, as a restarted daemon would.
func (e *env) reopen(s *local.Store, dir string, mk keys.MainKey) {
	e.kr.Close()
	s.Close()
	s, err := local.Open(dir)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	e.store, e.kr = s, keys.NewKeyring(s, mk, "vol-test")
	e.t.Cleanup(e.kr.Close)
}

func TestResumeMissingZoneFails(t *testing.T) {
	e := newEnv(t)
	e.populate(300)
	e.roll()
	g := newGate(1)
	m := e.manager(reencrypt.Config{Keyring: &hookKeyring{Keyring: e.kr, before: g.before}})
	m.Start(context.Background(), e.zone, reencrypt.Options{Batch: 100})
	<-g.reached
	close(g.release)
	m.Close()
	m2 := e.manager(reencrypt.Config{Log: testLogger(t, "cannot resume")})
	gone := errors.New("zone not registered")
	got, err := m2.Resume(context.Background(), func(context.Context, [16]byte) (reencrypt.Zone, error) { return reencrypt.Zone{}, gone })
	if err != nil || len(got) != 1 || got[0].State != reencrypt.StateFailed || got[0].Error == "" {
		t.Fatalf("resume: %+v, %v", got, err)
	}
	// A later Start carries on from the checkpoint.
	st := e.run(m2, reencrypt.Options{Batch: 100})
	if st.State != reencrypt.StateCompleted || st.Seen != 300 || st.Error != "" {
		t.Fatalf("status %+v", st)
	}
}

func TestCloseLeavesResumable(t *testing.T) {
	e := newEnv(t)
	e.populate(500)
	e.roll()
	var calls atomic.Int64
	slow := &hookKeyring{Keyring: e.kr, before: func(int, []keys.Rewrap) error {
		calls.Add(1)
		time.Sleep(5 * time.Millisecond)
		return nil
	}}
	m := e.manager(reencrypt.Config{Keyring: slow})
	m.Start(context.Background(), e.zone, reencrypt.Options{Batch: 10})
	time.Sleep(30 * time.Millisecond)
	m.Close()
	if _, err := m.Start(context.Background(), e.zone, reencrypt.Options{}); !errors.Is(err, reencrypt.ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
	m2 := e.manager(reencrypt.Config{})
	list, err := m2.List()
	if err != nil || len(list) != 1 || list[0].State != reencrypt.StateProcessing {
		t.Fatalf("list %+v %v", list, err)
	}
	if _, err := m2.Cancel(context.Background(), e.zone.ID); err != nil {
		t.Fatal(err) // a stored, not running walk is marked cancelled
	}
	if got, _ := m2.Resume(context.Background(), e.resolve); len(got) != 0 {
		t.Fatalf("resumed a cancelled walk: %+v", got)
	}
}
