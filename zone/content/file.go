package content

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone/chunk"
)

// ErrOffset reports a negative offset or size.
var ErrOffset = errors.New("negative offset")

// File is the plaintext view of one backing file. It is safe for
// concurrent use: reads run in parallel, writes and truncates one at a
// time. File assumes it is the only writer of the backing file; share one
// File per inode. It reads the backing size on every call, so size changes
// made by others are seen, but interleaved writes by two Files are not
// coordinated.
type File struct {
	mu sync.RWMutex
	f  *os.File
	c  *chunk.Cipher
	l  chunk.Layout
	cs int64 // plaintext chunk size
	ss int64 // sealed chunk size

	werr error  // a background write's error, for the next caller (behind.go)
	dio  direct // reads for O_DIRECT readers (direct.go)
}

// Open returns the plaintext view of backing under c. It does not take
// ownership of backing: the caller closes the File, then backing.
func Open(backing *os.File, c *chunk.Cipher) (*File, error) {
	l := c.Layout()
	if err := chunk.CheckChunkSize(l.ChunkSize); err != nil {
		return nil, err
	}
	return &File{f: backing, c: c, l: l, cs: int64(l.ChunkSize), ss: l.SealedSize()}, nil
}

// Close releases what File opened itself (a descriptor for direct reads);
// backing stays open.
func (f *File) Close() error {
	return f.dio.close()
}

// geometry is the backing file as found by one fstat.
type geometry struct {
	size    int64 // plaintext size; with damage, the size of the readable full chunks
	backing int64
	damage  error // non-nil when the backing size is impossible (ErrTruncated)
}

// stat reads the backing size with one fstat (unix.Fstat: os.File.Stat would
// allocate a FileInfo on every request).
func (f *File) stat() (geometry, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.f.Fd()), &st); err != nil {
		return geometry{}, &os.PathError{Op: "fstat", Path: f.f.Name(), Err: err}
	}
	g := geometry{backing: st.Size}
	g.size, g.damage = f.l.PlainSize(g.backing)
	if g.damage != nil {
		g.size = g.backing / f.ss * f.cs
	}
	return g, nil
}

// lastChunk returns the index of the final chunk, or -1 for an empty or
// damaged file (whose readable chunks are all middle chunks).
func (g geometry) lastChunk(cs int64) int64 {
	if g.damage != nil || g.size == 0 {
		return -1
	}
	return (g.size - 1) / cs
}

// Size returns the plaintext size, or an error wrapping chunk.ErrTruncated
// when the backing file was cut inside a chunk.
func (f *File) Size() (int64, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	g, err := f.stat()
	if err != nil {
		return 0, err
	}
	return g.size, g.damage
}

// Sync flushes written chunks to stable storage (fdatasync). It is also the
// point that orders a torn append's two writes (see the package doc).
func (f *File) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.takeErr(), unix.Fdatasync(int(f.f.Fd())))
}

func checkOff(off int64) error {
	if off < 0 {
		return fmt.Errorf("offset %d: %w", off, ErrOffset)
	}
	return nil
}

var _ io.ReaderAt = (*File)(nil)
var _ io.WriterAt = (*File)(nil)
