package chunk

import (
	"runtime"
	"sync"

	"github.com/ezfs/ezfs/zone/chunk/internal/vaesgcm"
)

// parallelMin is the run size from which SealRun and OpenRun split the
// work across runWorkers goroutines; below it, goroutine start-up costs
// more than it saves.
const parallelMin = 64 << 10

// runWorkers is how many goroutines share a large run: every core but one,
// which the application and the kernel's FUSE copies use at the same time.
// On a 2-core machine that leaves one, so runs are not split there: handing
// half of a 1 MiB run to the other core costs a cross-core wake-up per
// request, and sequential zone writes through the mount measured 0.69x of
// the non-zone directory with the split against 0.80x without it
// (BENCHMARKS.md). A variable so tests can force a split.
var runWorkers = func() int { return runtime.GOMAXPROCS(0) - 1 }

// SealRun seals plain as consecutive chunks starting at index first and
// appends them to dst. Every chunk but the run's last is full and sealed
// as not-last; the run's last chunk is sealed as the file's final chunk
// when last is set. Large runs are split across cores (runWorkers).
func (c *Cipher) SealRun(dst, plain []byte, first uint64, last bool) []byte {
	if len(plain) == 0 {
		return dst
	}
	cs := c.layout.ChunkSize
	n := (len(plain) + cs - 1) / cs
	ret, out := grow(dst, len(plain)+n*Overhead)
	c.split(n, len(plain), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := plain[i*cs : min((i+1)*cs, len(plain))]
			o := out[i*(cs+Overhead) : i*(cs+Overhead) : len(out)]
			c.Seal(o, p, first+uint64(i), last && i == n-1)
		}
	})
	return ret
}

// OpenRun opens consecutive sealed chunks starting at index first and
// appends their plaintext to dst. All chunks but the run's last must be
// full (ChunkSize+Overhead bytes). final says whether the run's last chunk
// is the file's final chunk (see Open). On failure it returns dst extended
// by the plaintext of the chunks before the lowest failing one, and that
// chunk's *AuthError (or an error wrapping ErrTruncated for a short tail).
func (c *Cipher) OpenRun(dst, sealed []byte, first uint64, final bool) ([]byte, error) {
	if len(sealed) == 0 {
		return dst, nil
	}
	ss := int(c.layout.SealedSize())
	n := (len(sealed) + ss - 1) / ss
	tail := len(sealed) - (n-1)*ss
	if tail <= Overhead {
		return dst, c.checkSealed(tail, first+uint64(n-1))
	}
	ret, out := grow(dst, len(sealed)-n*Overhead)
	var mu sync.Mutex
	bad, badErr := n, error(nil)
	c.split(n, len(sealed), func(lo, hi int) {
		if i, err := c.openRange(out, sealed, first, final, n, lo, hi); err != nil {
			mu.Lock()
			if i < bad {
				bad, badErr = i, err
			}
			mu.Unlock()
		}
	})
	if badErr != nil {
		return ret[:len(dst)+bad*c.layout.ChunkSize], badErr
	}
	return ret, nil
}

// openRange opens chunks lo..hi-1 of a run of n into out. It stops at the
// first chunk that does not open and returns its index and error.
//
// Each chunk first gets the one try that fits an intact file, sealed as
// last only if it ends a final run, with the AAD and the subkey of the
// chunk before it (the chunks of one writer share a subkey); only a chunk
// that fails it goes through Open, which tries holes, the other flag and
// torn-append remnants.
func (c *Cipher) openRange(out, sealed []byte, first uint64, final bool, n, lo, hi int) (int, error) {
	cs, ss := c.layout.ChunkSize, c.layout.ChunkSize+Overhead
	aad := aadPool.Get().(*[aadLen]byte)
	defer aadPool.Put(aad)
	var k runKey
	for i := lo; i < hi; i++ {
		s := sealed[i*ss : min((i+1)*ss, len(sealed))]
		o := out[i*cs : i*cs : len(out)]
		index, last := first+uint64(i), final && i == n-1
		if !isZero(s[:NonceLen]) {
			aead, nonce := c.runOpener(&k, s[:NonceLen])
			c.fillAAD(aad, index, last)
			if _, err := aead.Open(o, nonce, s[NonceLen:], aad[:]); err == nil {
				continue
			}
		}
		if _, err := c.Open(o, s, index, last); err != nil {
			return i, err
		}
	}
	return hi, nil
}

// OpenRunInPlace opens a run as OpenRun does, but within sealed itself:
// chunk i's plaintext ends up at sealed[i*ChunkSize:], so the run's
// plaintext is the prefix of sealed it returns and a read needs no second
// buffer. The VAES kernels write each chunk's plaintext straight to its
// place; other AEADs open it where it lies and it is moved down while in
// the cache. The run is opened on one core: a chunk's plaintext lands on
// the bytes of chunks before it. ok is false when a chunk failed the one
// try of an intact file (see openRange): that try may have overwritten it,
// so the caller reads the run again and opens it with OpenRun, which tries
// every way a chunk may have been sealed and names the chunk that fails.
func (c *Cipher) OpenRunInPlace(sealed []byte, first uint64, final bool) (plain []byte, ok bool) {
	cs, ss := c.layout.ChunkSize, c.layout.ChunkSize+Overhead
	n := (len(sealed) + ss - 1) / ss
	if n > 0 && len(sealed)-(n-1)*ss <= Overhead {
		return nil, false
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	var k runKey
	for i := range n {
		s := sealed[i*ss : min((i+1)*ss, len(sealed))]
		ct, to := s[NonceLen:], sealed[i*cs:i*cs]
		if isZero(s[:NonceLen]) && isZero(ct) { // a hole reads as zeros
			clear(to[:len(ct)-TagLen])
			continue
		}
		copy(sc.nonce[:], s[:NonceLen]) // the plaintext may land on it
		aead, nonce := c.runOpener(&k, sc.nonce[:])
		_, down := aead.(*vaesgcm.AEAD)
		if !down {
			to = ct[:0]
		}
		c.fillAAD(&sc.aad, first+uint64(i), final && i == n-1)
		p, err := aead.Open(to, nonce, ct, sc.aad[:])
		if err != nil {
			return nil, false
		}
		if !down {
			copy(sealed[i*cs:], p)
		}
	}
	return sealed[:len(sealed)-n*Overhead], true
}

// scratch is what OpenRunInPlace hands an AEAD apart from the run: a
// slice given to an interface method escapes, and a pool keeps the run
// free of allocations.
type scratch struct {
	aad   [aadLen]byte
	nonce [NonceLen]byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// split runs fn over [0,n) chunks, in one call when the run is small or
// only one worker is available, else in contiguous ranges on runWorkers
// goroutines.
func (c *Cipher) split(n, size int, fn func(lo, hi int)) {
	w := min(runWorkers(), n)
	if size < parallelMin || w < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Go(func() { fn(k*n/w, (k+1)*n/w) })
	}
	fn(0, n/w)
	wg.Wait()
}
