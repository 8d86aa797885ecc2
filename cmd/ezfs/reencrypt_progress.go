package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/ezfs/ezfs/zone/reencrypt"
)

// Following a walk (STYLE.md "CLI"): a progress line redrawn in place when stderr is a
// terminal, plain lines (or JSON status objects with --json) every few seconds otherwise,
// the full status on SIGUSR1, and a summary at the end.

// pollInterval is how often a follower asks for the status; plainEvery spaces plain lines.
var (
	pollInterval = 200 * time.Millisecond
	plainEvery   = 5 * time.Second
)

// follower follows one walk until it ends.
type follower struct {
	g       *globals
	c       walkClient
	zone    string // as c names it
	tty     bool   // stderr is a terminal: redraw one line
	total   uint64 // files expected (last walk's count or a count of the tree), 0 unknown
	lastOut time.Time
	drawn   bool
}

func newFollower(g *globals, c walkClient, zone string) *follower {
	f, ok := g.stderr.(*os.File)
	return &follower{g: g, c: c, zone: zone, tty: ok && term.IsTerminal(int(f.Fd()))}
}

// follow polls the walk from st on until it ends or ctx is done (then it returns the last
// status and an interrupted error).
func (f *follower) follow(ctx context.Context, st reencrypt.Status) (reencrypt.Status, error) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	counted := f.estimate(ctx, st.Zone)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	defer f.clear()
	for st.State.Active() {
		select {
		case <-ctx.Done():
			return st, interrupted(ctx.Err())
		case <-usr1:
			f.clear()
			printWalk(f.g.stderr, st)
		case n := <-counted:
			f.total = n
		case <-tick.C:
			next, err := f.c.Status(ctx, f.zone)
			if err != nil {
				return st, err
			}
			st = next
			f.draw(st)
		}
	}
	return st, nil
}

// estimate sets the expected total from the last completed walk; without one, on a
// terminal, it counts the zone's files in the background.
func (f *follower) estimate(ctx context.Context, dir string) <-chan uint64 {
	ch := make(chan uint64, 1)
	if f.total = f.c.Estimate(ctx, f.zone); f.total > 0 || !f.tty || dir == "" {
		return ch
	}
	go func() {
		var n uint64
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err == nil && d.Type().IsRegular() {
				n++
			}
			return nil
		})
		if err == nil {
			ch <- n
		}
	}()
	return ch
}

// draw shows progress: in place on a terminal, else a line every plainEvery.
func (f *follower) draw(st reencrypt.Status) {
	if f.tty && !f.g.json {
		fmt.Fprintf(f.g.stderr, "\r\033[K%s", f.line(st, true))
		f.drawn = true
		return
	}
	if time.Since(f.lastOut) < plainEvery {
		return
	}
	f.lastOut = time.Now()
	if f.g.json {
		b, _ := json.Marshal(st)
		fmt.Fprintf(f.g.stderr, "%s\n", b)
		return
	}
	fmt.Fprintf(f.g.stderr, "%s: %s\n", st.Zone, f.line(st, false))
}

// clear removes the progress line from the terminal.
func (f *follower) clear() {
	if f.drawn {
		fmt.Fprint(f.g.stderr, "\r\033[K")
		f.drawn = false
	}
}

// line is one progress line: done/total with a bar when the total is known, rate, ETA,
// failures.
func (f *follower) line(st reencrypt.Status, bar bool) string {
	var b strings.Builder
	total := max(f.total, st.Seen)
	if f.total > 0 {
		frac := float64(st.Seen) / float64(total)
		if bar {
			const width = 24
			n := int(frac * width)
			fmt.Fprintf(&b, "[%s%s] ", strings.Repeat("#", n), strings.Repeat(".", width-n))
		}
		fmt.Fprintf(&b, "%3.0f%% %d/%d files", 100*frac, st.Seen, total)
	} else {
		fmt.Fprintf(&b, "%s %d files", st.State, st.Seen)
	}
	fmt.Fprintf(&b, ", %.0f files/s", st.Rate)
	if f.total > st.Seen && st.Rate > 0 {
		eta := time.Duration(float64(f.total-st.Seen) / st.Rate * float64(time.Second))
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	fmt.Fprintf(&b, ", %d re-encrypted, %d failed", st.Reencrypted, st.Failed)
	return b.String()
}

// finishWalk prints the summary of an ended walk (the status object on stdout with
// --json) and returns an error unless it completed with no failed file.
func finishWalk(g *globals, st reencrypt.Status) error {
	if g.json {
		if err := g.printJSON(st); err != nil {
			return err
		}
	} else {
		g.printf("%s\n", summary(st))
		for _, fl := range st.Failures {
			g.printf("  failed: %s: %s\n", fl.Path, fl.Reason)
		}
	}
	z := shellQuote(st.Zone)
	switch {
	case walkClean(st):
		return nil
	case st.State == reencrypt.StateCompleted:
		return withHint(fmt.Errorf("re-encryption of %s completed with %d failed files", st.Zone, st.Failed), "ezfs reencrypt status "+z)
	case st.State == reencrypt.StateFailed:
		return withHint(fmt.Errorf("re-encryption of %s failed: %s", st.Zone, st.Error), "ezfs reencrypt start "+z+" --wait")
	}
	return withHint(errors.New("re-encryption of "+st.Zone+" was "+st.State.String()), "ezfs reencrypt start "+z+" --wait")
}

// summary is the closing line of a walk.
func summary(st reencrypt.Status) string {
	s := fmt.Sprintf("re-encryption of %s to %s@%d %s: %d files seen, %d re-encrypted, %d skipped, %d failed",
		st.Zone, st.Key, st.TargetVersion, st.State, st.Seen, st.Reencrypted, st.Skipped, st.Failed)
	if st.Rate > 0 {
		s += fmt.Sprintf(" (%.0f files/s)", st.Rate)
	}
	return s
}
