package reencrypt

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	p := pacer{rate: 100, start: time.Now()}
	if d := p.wait(50); d > 0 {
		t.Fatalf("first batch waits %v", d)
	}
	if d := p.wait(50); d < 400*time.Millisecond || d > 500*time.Millisecond {
		t.Fatalf("second batch of 50 at 100/s waits %v, want ~0.5s", d)
	}
	if d := (&pacer{}).wait(1000); d != 0 {
		t.Fatalf("unlimited waits %v", d)
	}
}

func TestBatchFor(t *testing.T) {
	for _, c := range []struct {
		batch int
		rate  float64
		want  int
	}{{1000, 0, 1000}, {1000, 100, 25}, {1000, 1, 1}, {10, 1e6, 10}} {
		if got := batchFor(c.batch, c.rate); got != c.want {
			t.Errorf("batchFor(%d, %v) = %d, want %d", c.batch, c.rate, got, c.want)
		}
	}
}

func TestActivity(t *testing.T) {
	a := NewActivity(50 * time.Millisecond)
	if a.Busy() {
		t.Fatal("busy before any operation")
	}
	a.Note()
	if !a.Busy() {
		t.Fatal("not busy right after an operation")
	}
	time.Sleep(60 * time.Millisecond)
	if a.Busy() {
		t.Fatal("still busy after the window")
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 3: 400 * time.Millisecond, 10: time.Second, 70: time.Second} {
		for range 20 {
			if d := b.delay(n); d < want/2 || d > want {
				t.Fatalf("delay(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}
