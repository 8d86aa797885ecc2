package reencrypt_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ezfs/ezfs/zone/reencrypt"
)

func TestRateCapsWalk(t *testing.T) {
	e := newEnv(t)
	e.populate(60)
	e.roll()
	start := time.Now()
	st := e.run(e.manager(reencrypt.Config{}), reencrypt.Options{Rate: 200})
	// 60 files at 200/s in batches of 50: the second batch waits 0.25 s.
	if el := time.Since(start); el < 200*time.Millisecond || st.Reencrypted != 60 {
		t.Fatalf("took %v, status %+v", el, st)
	}
}

func TestYieldsToForegroundIO(t *testing.T) {
	e := newEnv(t)
	e.populate(40)
	e.roll()
	var asked atomic.Int64
	busy := func() bool { asked.Add(1); return true } // always busy: each batch waits MaxYield
	m := e.manager(reencrypt.Config{Busy: busy})
	start := time.Now()
	st := e.run(m, reencrypt.Options{Batch: 20})
	el := time.Since(start)
	if st.State != reencrypt.StateCompleted || asked.Load() < 10 || el < reencrypt.MaxYield {
		t.Fatalf("asked %d times in %v, status %+v", asked.Load(), el, st)
	}
	// An explicit Yield overrides Config.Busy.
	asked.Store(0)
	st = e.run(m, reencrypt.Options{Yield: func() bool { return false }})
	if asked.Load() != 0 || st.State != reencrypt.StateCompleted {
		t.Fatalf("Config.Busy asked %d times", asked.Load())
	}
}
