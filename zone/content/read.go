package content

import (
	"fmt"
	"io"
	"sync"
)

// Plain is plaintext that a read left in a pooled buffer. Release returns
// the buffer; Bytes must not be used after it.
type Plain struct {
	Bytes []byte
	buf   *[]byte
}

var plainPool = sync.Pool{New: func() any { return new(Plain) }}

// Release returns p and its buffer to their pools.
func (p *Plain) Release() {
	if p.buf != nil {
		putBuf(p.buf)
	}
	p.Bytes, p.buf = nil, nil
	plainPool.Put(p)
}

// ReadAt reads plaintext at off into p, like os.File.ReadAt: fewer than
// len(p) bytes come with io.EOF at the end of the file. A chunk that fails
// authentication returns the bytes before it and its *chunk.AuthError; a
// range reaching into a backing file cut inside a chunk returns an error
// wrapping chunk.ErrTruncated.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	pl, err := f.ReadPlain(off, len(p), false)
	n := copy(p, pl.Bytes)
	pl.Release()
	return n, err
}

// ReadPlain reads up to n bytes of plaintext at off, with ReadAt's results
// and errors, into a pooled buffer: the one its ciphertext is read into,
// where the chunks are opened (chunk.Cipher.OpenRunInPlace). With direct,
// for a reader that opened the file with O_DIRECT, the ciphertext is read
// with O_DIRECT too (direct.go). Release the result, also after an error.
func (f *File) ReadPlain(off int64, n int, direct bool) (*Plain, error) {
	p := plainPool.Get().(*Plain)
	if err := checkOff(off); err != nil || n <= 0 {
		return p, err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	g, err := f.stat()
	if err != nil {
		return p, err
	}
	if off >= g.size {
		return p, eofOr(g.damage)
	}
	m := int(min(int64(n), g.size-off))
	err = f.read(p, off, m, g, direct)
	if err == nil && m < n {
		err = eofOr(g.damage)
	}
	return p, err
}

func eofOr(damage error) error {
	if damage != nil {
		return damage
	}
	return io.EOF
}

// read sets p to the plaintext of [off, off+m), which lies within the
// file. Should a chunk need more than the one try of an intact file (a
// torn-append remnant, or damage to report), the run is read again and
// opened by readRange into the same buffer.
func (f *File) read(p *Plain, off int64, m int, g geometry, direct bool) error {
	first, last := off/f.cs, (off+int64(m)-1)/f.cs
	start, end := first*f.ss, min(g.backing, (last+1)*f.ss)
	p.buf = getBuf(int(end-start) + directSlack)
	sealed, err := f.readSealed(*p.buf, start, end, direct)
	if err != nil {
		return fmt.Errorf("read chunks %d..%d at %d: %w", first, last, start, err)
	}
	out, ok := f.c.OpenRunInPlace(sealed, uint64(first), last == g.lastChunk(f.cs))
	if !ok {
		out, err = f.readRange((*p.buf)[:0], g, first, last, direct)
	}
	if skip := int(off - first*f.cs); len(out) > skip {
		p.Bytes = out[skip:min(len(out), skip+m)]
	}
	return err
}

// readRange appends the plaintext of chunks first..last to dst, read with
// O_DIRECT if direct.
func (f *File) readRange(dst []byte, g geometry, first, last int64, direct bool) ([]byte, error) {
	start, end := first*f.ss, min(g.backing, (last+1)*f.ss)
	buf := getBuf(int(end-start) + directSlack)
	defer putBuf(buf)
	sealed, err := f.readSealed(*buf, start, end, direct)
	if err != nil {
		return dst, fmt.Errorf("read chunks %d..%d at %d: %w", first, last, start, err)
	}
	return f.c.OpenRun(dst, sealed, uint64(first), last == g.lastChunk(f.cs))
}

// readChunk appends the plaintext of chunk i to dst.
func (f *File) readChunk(dst []byte, g geometry, i int64) ([]byte, error) {
	return f.readRange(dst, g, i, i, false)
}
