package content

import (
	"fmt"
	"io"
)

// ReadAt reads plaintext at off into p, like os.File.ReadAt: fewer than
// len(p) bytes come with io.EOF at the end of the file. A chunk that fails
// authentication returns the bytes before it and its *chunk.AuthError; a
// range reaching into a backing file cut inside a chunk returns an error
// wrapping chunk.ErrTruncated.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.readAt(p, off, false)
}

// ReadAtDirect is ReadAt for a reader that opened the file with O_DIRECT:
// the ciphertext is read with O_DIRECT too (direct.go).
func (f *File) ReadAtDirect(p []byte, off int64) (int, error) {
	return f.readAt(p, off, true)
}

func (f *File) readAt(p []byte, off int64, direct bool) (int, error) {
	if err := checkOff(off); err != nil || len(p) == 0 {
		return 0, err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	g, err := f.stat()
	if err != nil {
		return 0, err
	}
	if off >= g.size {
		return 0, eofOr(g.damage)
	}
	n := int(min(int64(len(p)), g.size-off))
	got, err := f.read(p[:n], off, g, direct)
	if err == nil && n < len(p) {
		err = eofOr(g.damage)
	}
	return got, err
}

func eofOr(damage error) error {
	if damage != nil {
		return damage
	}
	return io.EOF
}

// read fills p (within the file) from the chunks it spans. A request that
// starts on a chunk boundary and ends on one (or at the end of the file)
// is decrypted straight into p; others go through a pooled buffer.
func (f *File) read(p []byte, off int64, g geometry, direct bool) (int, error) {
	first, last := off/f.cs, (off+int64(len(p))-1)/f.cs
	end := off + int64(len(p))
	if off%f.cs == 0 && (end%f.cs == 0 || end == g.size) {
		out, err := f.readRange(p[:0], g, first, last, direct)
		return len(out), err
	}
	buf := getBuf(int((last - first + 1) * f.cs))
	defer putBuf(buf)
	out, err := f.readRange((*buf)[:0], g, first, last, direct)
	skip := int(off - first*f.cs)
	if len(out) <= skip {
		return 0, err
	}
	return copy(p, out[skip:]), err
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
