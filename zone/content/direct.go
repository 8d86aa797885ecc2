package content

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A reader that opened a zone file with O_DIRECT (a database with its own
// cache, fio --direct=1) gets its ciphertext read with O_DIRECT as well,
// through a second descriptor of the backing file: nothing of it stays in
// the backing page cache, and each read reaches the disk, as the caller
// asked. Sealed chunks are not block-aligned, so the backing range is
// rounded out to the file system's alignment. File systems without direct
// I/O (statx reports no alignment) get buffered reads.

// directMaxAlign bounds the alignment direct I/O may ask for (a page).
// Every buffer that may be read into directly has directSlack spare bytes:
// room to align its start and to round the range out at both ends.
const (
	directMaxAlign = 4096
	directSlack    = 3 * directMaxAlign
)

// direct is the O_DIRECT descriptor of one backing file, opened on first use.
type direct struct {
	once  sync.Once
	fd    int   // -1 when direct reads are not possible
	align int64 // offset and length alignment
	off   atomic.Bool
}

// open reopens the backing file read-only with O_DIRECT, if its file system
// states an alignment for direct I/O (statx STATX_DIOALIGN) that a page meets.
func (d *direct) open(backing int) {
	d.fd = -1
	var st unix.Statx_t
	if err := unix.Statx(backing, "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &st); err != nil ||
		st.Mask&unix.STATX_DIOALIGN == 0 || st.Dio_offset_align == 0 ||
		st.Dio_offset_align > directMaxAlign || st.Dio_mem_align > directMaxAlign {
		return
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", backing), unix.O_RDONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	d.fd, d.align = fd, int64(st.Dio_offset_align)
}

// close releases the descriptor, if it was opened.
func (d *direct) close() error {
	d.once.Do(func() { d.fd = -1 })
	if d.fd < 0 {
		return nil
	}
	fd := d.fd
	d.fd = -1
	return unix.Close(fd)
}

// readSealed returns the backing bytes [start, end), read into buf, which
// has at least end-start+directSlack bytes; with O_DIRECT if direct and
// the file system allows. The result aliases buf.
func (f *File) readSealed(buf []byte, start, end int64, direct bool) ([]byte, error) {
	if direct && !f.dio.off.Load() {
		f.dio.once.Do(func() { f.dio.open(int(f.f.Fd())) })
		if f.dio.fd >= 0 {
			if b, ok, err := f.dio.read(buf, start, end); ok || err != nil {
				return b, err
			}
		}
	}
	b := buf[:end-start]
	_, err := f.f.ReadAt(b, start)
	return b, err
}

// read reads [start, end) with O_DIRECT, rounded out to the alignment, into
// an aligned part of buf. ok is false when the caller should read buffered
// instead: the file system refused the request (then direct reads stay off
// for this file) or the file ended early (the buffered read reports it).
func (d *direct) read(buf []byte, start, end int64) (b []byte, ok bool, err error) {
	lo := start &^ (d.align - 1)
	hi := (end + d.align - 1) &^ (d.align - 1)
	skip := (directMaxAlign - int(uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%directMaxAlign)) % directMaxAlign
	a := buf[skip : skip+int(hi-lo)]
	n, err := unix.Pread(d.fd, a, lo)
	switch {
	case errors.Is(err, unix.EINVAL):
		d.off.Store(true)
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read %d bytes at %d (O_DIRECT): %w", hi-lo, lo, err)
	case int64(n) < end-lo:
		return nil, false, nil
	}
	return a[start-lo : end-lo], true, nil
}
