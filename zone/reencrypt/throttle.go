package reencrypt

import (
	"sync/atomic"
	"time"
)

// pacer spaces batches so that files are visited at no more than rate per second.
type pacer struct {
	rate  float64
	start time.Time
	done  float64 // files charged so far
}

// wait charges n files and returns how long to pause before visiting them: the files
// charged earlier must have had their share of time first.
func (p *pacer) wait(n int) time.Duration {
	if p.rate <= 0 {
		return 0
	}
	due := p.start.Add(time.Duration(p.done / p.rate * float64(time.Second)))
	p.done += float64(n)
	return time.Until(due)
}

// batchFor returns the batch size for a walk at rate files/s: at most batch, and small
// enough for about four batches a second, so a low rate is smooth rather than bursty.
func batchFor(batch int, rate float64) int {
	if rate <= 0 {
		return batch
	}
	return max(1, min(batch, int(rate/4)))
}

// Activity tells walks whether the mount is serving foreground I/O. The FUSE layer calls
// Note on each read, write or metadata operation; Busy (the Manager's Config.Busy) reports
// whether one happened within the window. It is safe for concurrent use.
type Activity struct {
	window time.Duration
	epoch  time.Time
	last   atomic.Int64 // nanoseconds after epoch of the latest Note, 0 for none
}

// NewActivity returns an Activity that is busy for window after each Note.
func NewActivity(window time.Duration) *Activity {
	return &Activity{window: window, epoch: time.Now()}
}

// Note records one foreground operation. It costs one clock read and one atomic store.
func (a *Activity) Note() { a.last.Store(int64(time.Since(a.epoch)) | 1) }

// Busy reports whether an operation was noted within the window.
func (a *Activity) Busy() bool {
	last := a.last.Load()
	return last != 0 && time.Since(a.epoch)-time.Duration(last) < a.window
}
