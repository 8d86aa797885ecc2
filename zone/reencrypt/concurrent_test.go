package reencrypt_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/zone"
	"github.com/ezfs/ezfs/zone/reencrypt"
)

// mutator changes the zone the way users of the mount would while a walk runs.
type mutator struct {
	e    *env
	m    *reencrypt.Manager
	seq  atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup
}

func (u *mutator) loop(f func(r *rand.Rand)) {
	u.wg.Go(func() {
		r := rand.New(rand.NewPCG(uint64(u.seq.Add(1)), 7))
		for {
			select {
			case <-u.stop:
				return
			default:
				f(r)
				time.Sleep(100 * time.Microsecond)
			}
		}
	})
}

func (u *mutator) abs(rel string) string { return filepath.Join(u.e.zone.Dir, rel) }

func (u *mutator) randomFile(r *rand.Rand) string {
	return fmt.Sprintf("d%02d/s%d/f%05d", r.IntN(7), r.IntN(3), r.IntN(2000))
}

func (u *mutator) create(*rand.Rand) {
	u.e.create(fmt.Sprintf("new/n%d", u.seq.Add(1)))
}

func (u *mutator) remove(r *rand.Rand) { os.Remove(u.abs(u.randomFile(r))) }

func (u *mutator) write(r *rand.Rand) {
	f, err := os.OpenFile(u.abs(u.randomFile(r)), os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		f.Write([]byte("more data"))
		f.Close()
	}
}

// rename moves a file or a directory from late in walk order to the front ("a/"), where the
// walk has already been, reporting it as the FUSE layer does.
func (u *mutator) rename(r *rand.Rand) {
	src := u.randomFile(r)
	if r.IntN(10) == 0 {
		src = fmt.Sprintf("d%02d/s%d", 3+r.IntN(4), r.IntN(3))
	}
	dst := fmt.Sprintf("a/m%d", u.seq.Add(1))
	end := u.m.BeginMove(u.e.zone.ID)
	if err := os.Rename(u.abs(src), u.abs(dst)); err != nil {
		dst = ""
	}
	end(dst)
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	e.populate(2000)
	os.Mkdir(filepath.Join(e.zone.Dir, "a"), 0o755)
	target := e.roll()
	slow := &hookKeyring{Keyring: e.kr, before: func(int, []keys.Rewrap) error { time.Sleep(2 * time.Millisecond); return nil }}
	m := e.manager(reencrypt.Config{Keyring: slow})
	u := &mutator{e: e, m: m, stop: make(chan struct{})}
	for _, f := range []func(*rand.Rand){u.create, u.remove, u.write, u.rename, u.rename} {
		u.loop(f)
	}
	st := e.run(m, reencrypt.Options{Batch: 25})
	close(u.stop)
	u.wg.Wait()
	if st.State != reencrypt.StateCompleted || st.Failed != 0 {
		t.Fatalf("status %+v", st)
	}
	n := e.allOnOrAbove(target)
	t.Logf("%d files at the end; status %d re-encrypted, %d skipped, %d seen", n, st.Reencrypted, st.Skipped, st.Seen)
}

// TestTouchDuringVerification moves old-version files into the part of the zone that the
// verification pass has passed; only the reports through BeginMove catch them.
func TestTouchDuringVerification(t *testing.T) {
	for _, report := range []bool{true, false} {
		t.Run(fmt.Sprintf("report=%v", report), func(t *testing.T) {
			e := newEnv(t)
			rels := e.populate(300)
			outside := filepath.Join(filepath.Dir(e.zone.Dir), "outside")
			os.Mkdir(outside, 0o755)
			for i := range 5 {
				p := filepath.Join(outside, fmt.Sprint(i))
				os.WriteFile(p, []byte("old"), 0o644)
				e.setMeta(p)
			}
			target := e.roll()
			mv := &lateMover{e: e, from: outside, last: lastInOrder(rels), report: report}
			mv.m = e.manager(reencrypt.Config{})
			st := e.run(mv.m, reencrypt.Options{Batch: 50, Yield: mv.yield})
			if st.State != reencrypt.StateCompleted || mv.moved < 2 {
				t.Fatalf("moved %d, status %+v", mv.moved, st)
			}
			below := 0
			for _, s := range e.snapshot() {
				if s.meta.EDEK.Key.Version < target {
					below++
				}
			}
			if report && below != 0 || !report && below == 0 {
				t.Fatalf("report=%v: %d files below target", report, below)
			}
		})
	}
}

// lateMover is a Yield hook that, once the first pass has reached the last file, moves one
// old-version file from outside to the front of the zone at each batch.
type lateMover struct {
	e      *env
	m      *reencrypt.Manager
	from   string
	last   string
	report bool
	moved  int
}

func (mv *lateMover) yield() bool {
	st, _ := mv.m.Status(mv.e.zone.ID)
	if mv.moved >= 5 || st.Checkpoint != mv.last {
		return false
	}
	end := mv.m.BeginMove(mv.e.zone.ID)
	rel := fmt.Sprintf("a%d", mv.moved)
	os.Rename(filepath.Join(mv.from, fmt.Sprint(mv.moved)), filepath.Join(mv.e.zone.Dir, rel))
	mv.moved++
	if !mv.report {
		rel = "" // as if the rename had failed
	}
	end(rel)
	return false
}

func lastInOrder(rels []string) string {
	last := rels[0]
	for _, r := range rels {
		if reencrypt.ComparePaths(r, last) > 0 {
			last = r
		}
	}
	return last
}

func TestMoveInFlightHoldsCompletion(t *testing.T) {
	e := newEnv(t)
	e.populate(100)
	target := e.roll()
	g := newGate(1)
	log := testLogger(t, "file not re-encrypted")
	m := e.manager(reencrypt.Config{Keyring: &hookKeyring{Keyring: e.kr, before: g.before}, Log: log})
	m.Start(context.Background(), e.zone, reencrypt.Options{})
	<-g.reached
	end := m.BeginMove(e.zone.ID)
	close(g.release)
	time.Sleep(50 * time.Millisecond)
	if st, _ := m.Status(e.zone.ID); st.State != reencrypt.StateProcessing {
		t.Fatalf("completed with a move in flight: %s", st.State)
	}
	p := filepath.Join(e.zone.Dir, "late")
	os.WriteFile(p, nil, 0o644)
	old := e.meta(filepath.Join(e.zone.Dir, "top00000"))
	old.EDEK.Key.Version = 1 // not decryptable, but below target: it must be tried
	unix.Setxattr(p, zone.XattrFile, old.Encode(), 0)
	end("late")
	end("late") // a second call is ignored
	st := e.wait(m)
	if st.State != reencrypt.StateCompleted || st.Failed != 1 || st.Failures[0].Path != "late" {
		t.Fatalf("status %+v", st)
	}
	e.allOnOrAboveExcept(target, "late")
}

func TestProviderRetried(t *testing.T) {
	e := newEnv(t)
	e.populate(200)
	target := e.roll()
	down := errors.New("provider unavailable")
	h := &hookKeyring{Keyring: e.kr, before: func(call int, _ []keys.Rewrap) error {
		if call <= 3 {
			return down
		}
		return nil
	}}
	m := e.manager(reencrypt.Config{Keyring: h, Log: testLogger(t, "retrying")})
	st := e.run(m, reencrypt.Options{Batch: 100})
	if st.State != reencrypt.StateCompleted || st.Reencrypted != 200 || h.calls.Load() != 5 {
		t.Fatalf("calls %d, status %+v", h.calls.Load(), st)
	}
	e.allOnOrAbove(target)
}

func TestProviderDownFailsThenResumes(t *testing.T) {
	e := newEnv(t)
	e.populate(300)
	target := e.roll()
	var broken atomic.Bool
	h := &hookKeyring{Keyring: e.kr, before: func(call int, _ []keys.Rewrap) error {
		if call == 2 {
			broken.Store(true)
		}
		if broken.Load() {
			return errors.New("provider unavailable")
		}
		return nil
	}}
	log := testLogger(t, "retrying")
	m := e.manager(reencrypt.Config{Keyring: h, Log: log, Backoff: reencrypt.Backoff{Attempts: 3, Base: time.Millisecond}})
	st := e.run(m, reencrypt.Options{Batch: 100})
	if st.State != reencrypt.StateFailed || st.Error == "" || st.Reencrypted != 100 || st.Checkpoint == "" {
		t.Fatalf("status %+v", st)
	}
	broken.Store(false)
	h.before = nil
	st = e.run(m, reencrypt.Options{Batch: 100})
	if st.State != reencrypt.StateCompleted || st.Reencrypted != 300 || st.Error != "" {
		t.Fatalf("status %+v", st)
	}
	e.allOnOrAbove(target)
}

// opaqueKeyring reports a bad item without saying which, as a remote provider might.
type opaqueKeyring struct{ reencrypt.Keyring }

func (o opaqueKeyring) ReencryptEDEKs(ctx context.Context, items []keys.Rewrap) ([]keys.EDEK, error) {
	out, err := o.Keyring.ReencryptEDEKs(ctx, items)
	if re, ok := errors.AsType[*keys.RewrapError](err); ok {
		return nil, fmt.Errorf("provider: %w", re.Err)
	}
	return out, err
}

func TestBadItemsIsolated(t *testing.T) {
	for _, opaque := range []bool{false, true} {
		t.Run(fmt.Sprintf("opaque=%v", opaque), func(t *testing.T) {
			e := newEnv(t)
			rels := e.populate(300)
			bad := map[string]bool{}
			for _, i := range []int{5, 77, 78, 200} {
				p := filepath.Join(e.zone.Dir, rels[i])
				m := e.meta(p)
				m.EDEK.Wrapped[40] ^= 0x80
				unix.Setxattr(p, zone.XattrFile, m.Encode(), 0)
				bad[rels[i]] = true
			}
			target := e.roll()
			var kr reencrypt.Keyring = e.kr
			if opaque {
				kr = opaqueKeyring{e.kr}
			}
			m := e.manager(reencrypt.Config{Keyring: kr, Log: testLogger(t, "file not re-encrypted")})
			st := e.run(m, reencrypt.Options{Batch: 100})
			if st.State != reencrypt.StateCompleted || st.Failed != 4 || st.Reencrypted != 296 {
				t.Fatalf("status %+v", st)
			}
			for _, f := range st.Failures {
				if !bad[f.Path] || !strings.Contains(f.Reason, "key authentication failed") {
					t.Errorf("failure %+v", f)
				}
			}
			for rel, s := range e.snapshot() {
				if !bad[rel] && s.meta.EDEK.Key.Version != target {
					t.Errorf("%s left on %s", rel, s.meta.EDEK.Key)
				}
			}
		})
	}
}
