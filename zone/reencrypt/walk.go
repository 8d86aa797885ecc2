package reencrypt

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// walk is one running walk of one zone.
type walk struct {
	m      *Manager
	zone   Zone
	ctx    context.Context // the Manager's: cancelled by Close
	log    *slog.Logger
	stop   chan struct{} // closed by Cancel
	once   sync.Once
	done   chan struct{} // closed when the walk has ended
	rootfd int           // the zone root, held open so that a rename of the zone does not matter
	tree   tree
	opts   Options // Batch resolved; Yield may be nil
	size   int     // files per batch of the first pass
	pace   pacer
	worked time.Time // when the current batch began (after its throttle)

	mu       sync.Mutex
	rec      record
	base     time.Duration // rec.Active before this run
	runStart time.Time     // when this run began, zero before
	touched  []string      // entries reported by BeginMove/Touch, not yet checked
	moving   int           // renames in flight
	draining bool          // the walk is checking its last entries: new renames wait
	movable  *sync.Cond    // on mu: signalled when draining ends
	closing  bool          // the walk is completing: no more entries are taken
}

// pass holds what the verification pass gathers.
type pass struct {
	verify bool
	fails  Status            // failures found by the verification pass
	census map[uint32]uint64 // files per key version
}

func (w *walk) target() uint32 { return w.rec.TargetVersion } // fixed at submission

// run walks the zone and stores how the walk ended; after Close it stores nothing more, so
// the walk stays resumable as after a crash.
func (w *walk) run() {
	defer w.m.finished(w)
	defer unix.Close(w.rootfd)
	err := w.walk()
	switch {
	case err == nil:
		w.finish(StateCompleted, nil)
	case w.stopped():
		w.finish(StateCancelled, nil)
	case w.ctx.Err() != nil:
		w.log.Info("re-encryption walk paused; it resumes at next mount", "checkpoint", w.status().Checkpoint)
	default:
		w.finish(StateFailed, err)
	}
}

func (w *walk) walk() error {
	if err := w.begin(); err != nil {
		return err
	}
	if err := w.firstPass(); err != nil {
		return err
	}
	return w.verifyPass()
}

// begin marks the walk processing and stores that.
func (w *walk) begin() error {
	w.mu.Lock()
	w.rec.State = StateProcessing
	if w.rec.Started == nil {
		t := now()
		w.rec.Started = &t
	}
	w.base, w.runStart = w.rec.Active, time.Now()
	w.pace = pacer{rate: w.opts.Rate, start: w.runStart}
	cp := w.rec.Checkpoint
	w.mu.Unlock()
	w.log.Info("re-encryption walk started", "key", fmt.Sprintf("%s@%d", w.zone.Key, w.target()), "checkpoint", cp)
	return w.save()
}

// firstPass visits the files after the checkpoint in walk order, one batch at a time, and
// stores the checkpoint after each batch.
func (w *walk) firstPass() error {
	p := &pass{}
	var batch []*item
	for rel, err := range w.tree.files("", w.status().Checkpoint) {
		if batch = append(batch, newItem(rel, err)); len(batch) >= w.size {
			if err := w.flush(batch, p); err != nil {
				return err
			}
			batch = nil
		}
	}
	return w.flush(batch, p)
}

// verifyPass re-reads every file, re-wraps any still below the target, counts files per
// version and recounts failures; then it checks reported renames until none is left.
func (w *walk) verifyPass() error {
	p := &pass{verify: true, census: make(map[uint32]uint64)}
	var batch []*item
	for rel, err := range w.tree.files("", "") {
		if batch = append(batch, newItem(rel, err)); len(batch) >= w.opts.Batch {
			if err := w.flush(batch, p); err != nil {
				return err
			}
			batch = nil
		}
	}
	if err := w.flush(batch, p); err != nil {
		return err
	}
	if err := w.drain(p); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rec.Failed, w.rec.Failures, w.rec.Versions = p.fails.Failed, p.fails.Failures, p.census
	return nil
}

func newItem(rel string, err error) *item {
	it := &item{rel: rel, walked: err == nil}
	if err != nil {
		it.fail(fmt.Errorf("read directory: %w", err))
	}
	return it
}

// flush processes one batch plus the entries touched meanwhile; the first pass then stores
// its checkpoint.
func (w *walk) flush(batch []*item, p *pass) error {
	if err := w.throttle(len(batch), !p.verify); err != nil {
		return err
	}
	batch = append(batch, w.takeTouched()...)
	if len(batch) == 0 {
		return nil
	}
	if err := w.process(batch); err != nil {
		return err
	}
	w.account(batch, p)
	if p.verify {
		return nil
	}
	return w.save()
}

// drain checks touched entries until there are none and no rename is in flight, then
// closes the walk to further reports: every file is on the target from then on. New
// renames in the zone wait meanwhile (BeginMove), so that a busy renamer cannot keep the
// walk from completing; they wait at most for the last touched entries to be checked.
func (w *walk) drain(p *pass) error {
	w.setDraining(true)
	defer w.setDraining(false)
	for {
		w.mu.Lock()
		n, moving := len(w.touched), w.moving
		w.closing = n == 0 && moving == 0
		w.mu.Unlock()
		switch {
		case n > 0:
			if err := w.flush(nil, p); err != nil {
				return err
			}
		case moving == 0:
			return nil
		default:
			if err := w.sleep(time.Millisecond); err != nil {
				return err
			}
		}
	}
}

// setDraining holds new renames back (on) or lets them go (off).
func (w *walk) setDraining(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.draining = on
	if !on {
		w.movable.Broadcast()
	}
}

// account adds a processed batch to the status.
func (w *walk) account(items []*item, p *pass) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, it := range items {
		w.count(it, p)
		if v := it.version(); p.verify && v != 0 {
			p.census[v]++
		}
	}
}

func (w *walk) count(it *item, p *pass) {
	if it.walked && !p.verify {
		w.rec.Seen++
		w.rec.Checkpoint = it.rel
	}
	switch it.result {
	case resDone:
		w.rec.Reencrypted++
	case resSkipped, resGone:
		if it.walked && !p.verify {
			w.rec.Skipped++
		}
	case resChanged:
		w.touched = append(w.touched, it.rel)
	case resFailed:
		f := Failure{Path: it.rel, Reason: it.err.Error()}
		if p.verify {
			p.fails.addFailure(f)
		} else {
			w.rec.addFailure(f)
		}
		level := slog.LevelWarn // once per file: the verification pass finds it again
		if p.verify {
			level = slog.LevelDebug
		}
		w.log.Log(w.ctx, level, "file not re-encrypted", "path", f.Path, "err", f.Reason)
	}
}

// takeTouched returns the files at or below the entries touched since the last call.
func (w *walk) takeTouched() []*item {
	w.mu.Lock()
	touched := w.touched
	w.touched = nil
	w.mu.Unlock()
	var items []*item
	for _, rel := range touched {
		for f, err := range w.tree.expand(rel) {
			items = append(items, newItem(f, err))
			items[len(items)-1].walked = false
		}
	}
	return items
}

// throttle pauses before a batch of n files: for the rate cap (first pass only) and while
// foreground I/O is busy. It fails with errStopped after Cancel or Close.
func (w *walk) throttle(n int, rate bool) error {
	if w.stopped() || w.ctx.Err() != nil {
		return errStopped
	}
	// Yield to foreground I/O for at most as long as the last batch took (and MaxYield):
	// a busy mount slows the walk to half its speed at most, so a zone that is always in
	// use still gets walked.
	budget := min(MaxYield, time.Since(w.worked))
	if rate {
		if err := w.sleep(w.pace.wait(n)); err != nil {
			return err
		}
	}
	for waited := time.Duration(0); w.opts.Yield != nil && waited < budget && w.opts.Yield(); waited += yieldPause {
		if err := w.sleep(yieldPause); err != nil {
			return err
		}
	}
	w.worked = time.Now()
	return nil
}

// sleep pauses for d, or less after Cancel or Close (errStopped).
func (w *walk) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-w.stop:
	case <-w.ctx.Done():
	}
	return errStopped
}

func (w *walk) cancel() { w.once.Do(func() { close(w.stop) }) }

func (w *walk) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// active is the time spent walking over all runs; w.mu held.
func (w *walk) active() time.Duration {
	if w.runStart.IsZero() {
		return w.base
	}
	return w.base + time.Since(w.runStart)
}

// status returns a copy of the live status.
func (w *walk) status() *Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.rec.Status
	st.Active = w.active()
	return st.clone()
}

// save stores the walk record (the checkpoint).
func (w *walk) save() error {
	w.mu.Lock()
	w.rec.Active = w.active()
	b := w.rec.encode()
	w.mu.Unlock()
	if err := w.m.put(w.zone.ID, b); err != nil {
		return fmt.Errorf("store re-encryption checkpoint: %w", err)
	}
	return nil
}

// finish stores the walk's final state.
func (w *walk) finish(s State, err error) {
	w.mu.Lock()
	w.rec.State = s
	if err != nil {
		w.rec.Error = err.Error()
	}
	if s == StateCompleted {
		t := now()
		w.rec.Completed, w.rec.LastWalk = &t, &t
	}
	w.mu.Unlock()
	if serr := w.save(); serr != nil {
		w.log.Error("store re-encryption status", "err", serr)
	}
	st := w.status()
	w.log.Info("re-encryption walk "+s.String(), "reencrypted", st.Reencrypted, "skipped", st.Skipped,
		"failed", st.Failed, "seen", st.Seen, "err", st.Error)
}
