package content

import (
	"fmt"

	"github.com/ezfs/ezfs/zone/chunk"
)

// Truncate sets the plaintext size. Shrinking cuts the backing file and
// re-seals the new final chunk as last; growing re-seals the old final
// chunk as a full not-last chunk and extends the backing file sparsely,
// so the new chunks are holes that read as zeros. Truncate is also how a
// backing file cut inside a chunk is repaired (to at most Size of its
// readable chunks).
func (f *File) Truncate(size int64) error {
	if err := checkOff(size); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.stat()
	switch {
	case err != nil:
	case g.damage != nil && size > g.size:
		err = g.damage
	case size < g.size || g.damage != nil:
		err = f.shrink(size, g)
	case size > g.size:
		err = f.grow(size, g)
	}
	if err != nil {
		return fmt.Errorf("truncate to %d: %w", size, err)
	}
	return nil
}

// shrink cuts the backing file, then re-seals the new final chunk k as
// last. A crash in between leaves chunk k failing authentication (only
// the tail of the file is lost).
func (f *File) shrink(size int64, g geometry) error {
	if size == 0 {
		return f.f.Truncate(0)
	}
	k := (size - 1) / f.cs
	buf := getBuf(int(f.cs))
	defer putBuf(buf)
	if _, err := f.readChunk((*buf)[:0], g, k); err != nil {
		return err
	}
	if err := f.f.Truncate(f.l.BackingSize(size)); err != nil {
		return err
	}
	return f.sealAt(k, (*buf)[:size-k*f.cs], true)
}

// grow extends the file to size. Within the final chunk it is one re-seal;
// past it, the backing file is extended first and the old final chunk
// re-sealed as full not-last after, the torn-append order (FORMAT.md).
func (f *File) grow(size int64, g geometry) error {
	if g.size == 0 {
		return f.f.Truncate(f.l.BackingSize(size))
	}
	oldLast, newLast := g.lastChunk(f.cs), (size-1)/f.cs
	if oldLast == newLast {
		buf := getBuf(int(f.cs))
		defer putBuf(buf)
		out, err := f.readChunk((*buf)[:0], g, oldLast)
		if err != nil {
			return err
		}
		plain := (*buf)[:size-oldLast*f.cs]
		clear(plain[len(out):])
		return f.sealAt(oldLast, plain, true)
	}
	if err := f.f.Truncate(f.l.BackingSize(size)); err != nil {
		return err
	}
	return f.resealFull(g, oldLast)
}

func (f *File) sealAt(i int64, plain []byte, last bool) error {
	sb := getBuf(len(plain) + chunk.Overhead)
	defer putBuf(sb)
	return f.pwrite(f.c.Seal((*sb)[:0], plain, uint64(i), last), i*f.ss)
}
