package content

import "sync"

// Scratch buffers for one request's sealed or plaintext bytes come in two
// kinds. Large ones (largeMin and up: the 1 MiB READs and WRITEs of
// sequential readers and writers) are kept on a stack of up to largeKept,
// which garbage collection leaves alone (a sync.Pool is emptied by every
// collection, and each megabyte allocated again costs its zeroing and page
// faults: BENCHMARKS.md, session 8) and which hands out the buffer freed
// last, the one most likely still in the cache. Smaller ones share a
// sync.Pool.
const (
	largeMin  = 256 << 10
	largeKept = 16
)

var (
	bufPool = sync.Pool{New: func() any { return new([]byte) }}

	largeMu   sync.Mutex
	largeBufs []*[]byte
)

// getBuf returns a pooled buffer of length n.
func getBuf(n int) *[]byte {
	if n < largeMin {
		b := bufPool.Get().(*[]byte)
		if cap(*b) < n {
			*b = make([]byte, n)
		}
		*b = (*b)[:n]
		return b
	}
	var b *[]byte
	largeMu.Lock()
	if k := len(largeBufs); k > 0 {
		b, largeBufs = largeBufs[k-1], largeBufs[:k-1]
	}
	largeMu.Unlock()
	if b == nil || cap(*b) < n {
		// Rounded up, so that it fits the next request of about this size.
		b = new([]byte)
		*b = make([]byte, n, (n+largeMin-1)/largeMin*largeMin)
	}
	*b = (*b)[:n]
	return b
}

// putBuf returns b for reuse.
func putBuf(b *[]byte) {
	if cap(*b) < largeMin {
		bufPool.Put(b)
		return
	}
	largeMu.Lock()
	if len(largeBufs) < largeKept {
		largeBufs = append(largeBufs, b)
	}
	largeMu.Unlock()
}
