package content

import (
	"errors"
	"fmt"

	"github.com/ezfs/ezfs/zone/chunk"
)

// WriteAt writes p at off, re-sealing only the chunks it touches (a
// partial chunk is read, patched and re-sealed). Writing past the end
// extends the file; the gap reads as zeros and stays sparse. A file whose
// backing was cut inside a chunk is refused (truncate it first).
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if err := checkOff(off); err != nil || len(p) == 0 {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.writable()
	if err == nil {
		err = f.write(p, off, g)
	}
	if err != nil {
		return 0, fmt.Errorf("write %d bytes at %d: %w", len(p), off, err)
	}
	return len(p), nil
}

// writable returns the file's geometry for a write, or why it must not be
// made: an earlier background write failed (that error, reported once), or
// the backing file was cut inside a chunk. Callers hold f.mu.
func (f *File) writable() (geometry, error) {
	g, err := f.stat()
	if err == nil {
		err = errors.Join(f.takeErr(), g.damage)
	}
	return g, err
}

func (f *File) write(p []byte, off int64, g geometry) error {
	end := off + int64(len(p))
	newSize := max(g.size, end)
	first, lastW := off/f.cs, (end-1)/f.cs
	base := first * f.cs
	plain := p
	if off != base || (end%f.cs != 0 && end < g.size) {
		// Partial chunks at the edges: patch p into their old plaintext.
		buf := getBuf(int(min(newSize, (lastW+1)*f.cs) - base))
		defer putBuf(buf)
		plain = *buf
		if err := f.fillEdges(plain, g, base, off, end); err != nil {
			return err
		}
		copy(plain[off-base:], p)
	}
	sb := getBuf(len(plain) + int(lastW-first+1)*chunk.Overhead)
	defer putBuf(sb)
	sealed := f.c.SealRun((*sb)[:0], plain, uint64(first), lastW == (newSize-1)/f.cs)
	return f.store(sealed, g, first, newSize)
}

// fillEdges loads the old plaintext of the partial head and tail chunks of
// a write into plain (which starts at plaintext offset base).
func (f *File) fillEdges(plain []byte, g geometry, base, off, end int64) error {
	first, lastW := base/f.cs, (end-1)/f.cs
	head, tail := off > base, end < base+int64(len(plain))
	if head {
		if err := f.load(plain, g, base, first); err != nil {
			return err
		}
	}
	if tail && !(head && lastW == first) {
		return f.load(plain, g, base, lastW)
	}
	return nil
}

// load puts the old plaintext of chunk i into plain at its place, zeros
// where the old file had no bytes.
func (f *File) load(plain []byte, g geometry, base, i int64) error {
	at := i*f.cs - base
	dst := plain[at:min(at+f.cs, int64(len(plain)))]
	n := 0
	if i*f.cs < g.size {
		out, err := f.readChunk(dst[:0:len(dst)], g, i)
		if err != nil {
			return err
		}
		n = len(out)
	}
	clear(dst[n:])
	return nil
}

// store writes sealed chunks starting at chunk first. When the write
// extends the file, chunks past the old final chunk go first, then those
// up to it, then (if untouched) the old final chunk is re-sealed as a full
// not-last chunk: a crash in between leaves a middle chunk sealed as last,
// which readers accept (FORMAT.md "Torn append").
func (f *File) store(sealed []byte, g geometry, first, newSize int64) error {
	oldLast := g.lastChunk(f.cs)
	if newSize == g.size || oldLast < 0 {
		return f.pwrite(sealed, first*f.ss)
	}
	split := min(max(oldLast+1-first, 0)*f.ss, int64(len(sealed)))
	if err := f.pwrite(sealed[split:], first*f.ss+split); err != nil {
		return err
	}
	if err := f.pwrite(sealed[:split], first*f.ss); err != nil {
		return err
	}
	if oldLast < first && oldLast < (newSize-1)/f.cs {
		return f.resealFull(g, oldLast)
	}
	return nil
}

// resealFull re-seals the old final chunk i as a full not-last chunk,
// padded with zeros.
func (f *File) resealFull(g geometry, i int64) error {
	buf := getBuf(int(f.cs))
	defer putBuf(buf)
	out, err := f.readChunk((*buf)[:0], g, i)
	if err != nil {
		return err
	}
	clear((*buf)[len(out):])
	sb := getBuf(int(f.ss))
	defer putBuf(sb)
	return f.pwrite(f.c.Seal((*sb)[:0], *buf, uint64(i), false), i*f.ss)
}

func (f *File) pwrite(b []byte, off int64) error {
	if len(b) == 0 {
		return nil
	}
	_, err := f.f.WriteAt(b, off)
	return err
}
