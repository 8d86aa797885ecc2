package reencrypt

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ezfs/ezfs/keys"
)

// Backoff bounds the retries of a failing provider call. Zero fields take the defaults.
type Backoff struct {
	Attempts int           // calls in all, default 6
	Base     time.Duration // first pause, default 100ms; each later one doubles
	Max      time.Duration // longest pause, default 10s
}

func (b Backoff) withDefaults() Backoff {
	if b.Attempts <= 0 {
		b.Attempts = 6
	}
	if b.Base <= 0 {
		b.Base = 100 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 10 * time.Second
	}
	return b
}

// delay returns the pause before retry n (1, 2, ...): Base·2^(n-1) capped at Max, with
// "equal jitter" (half fixed, half random) so that walks do not retry in step.
func (b Backoff) delay(n int) time.Duration {
	d := b.Max
	if n < 32 && b.Base<<(n-1) < b.Max {
		d = b.Base << (n - 1)
	}
	var r [8]byte
	rand.Read(r[:])
	return d/2 + time.Duration(binary.LittleEndian.Uint64(r[:])%uint64(d/2+1))
}

// itemError reports whether err is about one EDEK (it cannot be decrypted), not the provider.
func itemError(err error) bool {
	return errors.Is(err, keys.ErrAuth) || errors.Is(err, keys.ErrVersionNotFound) || errors.Is(err, keys.ErrKeyNotFound)
}

// itemCause drops the batch index of a *keys.RewrapError, which means nothing to a user.
func itemCause(err error) error {
	if re, ok := errors.AsType[*keys.RewrapError](err); ok {
		return re.Err
	}
	return err
}

// maxIsolate is how many bad items a batch may hit before the walk sends its items one by one.
const maxIsolate = 2

// rewrap re-wraps the EDEKs of items (all pending), filling item.edek or marking the item
// failed. A provider that keeps failing returns the error, which fails the walk.
func (w *walk) rewrap(items []*item) error {
	for bad := 0; len(items) > 0; {
		if bad >= maxIsolate {
			return w.rewrapEach(items)
		}
		err := w.call(items)
		var re *keys.RewrapError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &re) && re.Index >= 0 && re.Index < len(items) && itemError(re.Err):
			items[re.Index].fail(fmt.Errorf("re-encrypt EDEK: %w", re.Err))
			items = append(items[:re.Index:re.Index], items[re.Index+1:]...)
			bad++
		case itemError(err):
			bad = maxIsolate // which item is unknown: isolate one by one
		default:
			return err
		}
	}
	return nil
}

// rewrapEach sends items one at a time, so a bad one fails alone.
func (w *walk) rewrapEach(items []*item) error {
	for _, it := range items {
		err := w.call([]*item{it})
		if err != nil && !itemError(err) {
			return err
		}
		if err != nil {
			it.fail(fmt.Errorf("re-encrypt EDEK: %w", itemCause(err)))
		}
	}
	return nil
}

// call makes one batch call, retrying provider errors with backoff. It returns nil after
// filling every item's edek, an item error at once, or the last provider error.
func (w *walk) call(items []*item) error {
	req := make([]keys.Rewrap, len(items))
	for i, it := range items {
		req[i] = keys.Rewrap{EDEK: it.meta.EDEK, Binding: it.meta.Binding()}
	}
	for n := 1; ; n++ {
		out, err := w.m.cfg.Keyring.ReencryptEDEKs(w.ctx, req)
		if err == nil && len(out) != len(req) {
			err = fmt.Errorf("provider returned %d EDEKs for %d", len(out), len(req))
		}
		if err == nil {
			w.fill(items, out)
			return nil
		}
		if itemError(err) || n >= w.m.backoff.Attempts || w.ctx.Err() != nil {
			return err
		}
		w.log.Warn("re-encrypt batch failed, retrying", "zone", w.zone.Path, "attempt", n, "err", err)
		if err := w.sleep(w.m.backoff.delay(n)); err != nil {
			return err
		}
	}
}

// fill records the re-wrapped EDEKs; one still below the target fails its item.
func (w *walk) fill(items []*item, out []keys.EDEK) {
	for i, it := range items {
		if e := out[i]; e.Key.Name != it.meta.EDEK.Key.Name || e.Key.Version < w.target() {
			it.fail(fmt.Errorf("provider re-wrapped to %s, below target version %d", e.Key, w.target()))
		} else {
			it.edek = e
		}
	}
}
