package content

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// WriteBehind is WriteAt for large writes: it returns once p is copied
// and the backing space the write needs is reserved, and seals and writes
// in the background, so the next request can travel while this one is
// sealed. Every other call on f waits for the background write first (it
// holds the file's lock until done). Running out of space is reported by
// WriteBehind itself (the reservation fails); any other error of the
// background write is returned by the next WriteAt, WriteBehind, Sync or
// Flush.
func (f *File) WriteBehind(p []byte, off int64) (int, error) {
	if err := checkOff(off); err != nil || len(p) == 0 {
		return 0, err
	}
	f.mu.Lock()
	g, err := f.writable()
	if err == nil {
		err = f.reserve(g, off, int64(len(p)))
	}
	if err != nil {
		f.mu.Unlock()
		return 0, fmt.Errorf("write %d bytes at %d: %w", len(p), off, err)
	}
	buf := getBuf(len(p))
	copy(*buf, p)
	go func() {
		defer f.mu.Unlock()
		defer putBuf(buf)
		if err := f.write(*buf, off, g); err != nil {
			f.werr = fmt.Errorf("write %d bytes at %d: %w", len(p), off, err)
		}
	}()
	return len(p), nil
}

// reserve allocates, without changing the backing size, the backing bytes
// that a write of n bytes at off will store: its chunks, and the old final
// chunk that an extending write re-seals as full. A full disk then fails
// the request instead of its background write. Holes stay holes. A file
// system without fallocate gets no reservation.
func (f *File) reserve(g geometry, off, n int64) error {
	first, end := off/f.cs, off+n
	stop := f.l.BackingSize(min(max(g.size, end), ((end-1)/f.cs+1)*f.cs))
	err := f.fallocate(first*f.ss, stop)
	if oldLast := g.lastChunk(f.cs); err == nil && end > g.size && oldLast >= 0 && oldLast < first {
		err = f.fallocate(oldLast*f.ss, (oldLast+1)*f.ss)
	}
	return err
}

func (f *File) fallocate(from, to int64) error {
	err := unix.Fallocate(int(f.f.Fd()), unix.FALLOC_FL_KEEP_SIZE, from, to-from)
	if err == unix.EOPNOTSUPP || err == unix.ENOSYS {
		return nil
	}
	return err
}

// takeErr returns and clears the error of the last background write.
// Callers hold f.mu.
func (f *File) takeErr() error {
	err := f.werr
	f.werr = nil
	return err
}

// Flush waits for a background write and returns its error, if any.
func (f *File) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.takeErr()
}

// Wait waits for a background write, leaving its error for the next call
// that reports errors. Changes made beside f (times, mode) wait first, so
// the write cannot land after them.
func (f *File) Wait() {
	f.mu.Lock()
	f.mu.Unlock()
}
