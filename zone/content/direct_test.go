package content_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ezfs/ezfs/zone/chunk"
	"github.com/ezfs/ezfs/zone/content"
)

// cached returns how many pages of b are in the page cache.
func cached(t *testing.T, b *os.File) uint64 {
	t.Helper()
	var cs unix.Cachestat_t
	if err := unix.Cachestat(uint(b.Fd()), &unix.CachestatRange{}, &cs, 0); err != nil {
		t.Skipf("cachestat: %v", err)
	}
	return cs.Cache
}

// dropCache writes b back and drops it from the page cache.
func dropCache(t *testing.T, b *os.File) {
	t.Helper()
	if err := unix.Fdatasync(int(b.Fd())); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(b.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if n := cached(t, b); n != 0 {
		t.Skipf("%d pages stay cached after FADV_DONTNEED", n)
	}
}

// A reader that opened a zone file with O_DIRECT (ReadPlain with direct)
// reads exactly what ReadAt reads, dirty data included, at any offset and size; the backing file
// stays out of the page cache; damage is still detected.
func TestReadDirect(t *testing.T) {
	f, b := newFile(t, chunk.AES256GCM, 4096)
	var st unix.Statx_t
	if err := unix.Statx(int(b.Fd()), "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &st); err != nil || st.Dio_offset_align == 0 {
		t.Skip("the temporary directory's file system has no direct I/O")
	}
	r := &rng{s: 7}
	data := r.bytes(300<<10 + 123) // a partial final chunk
	mustWrite(t, f, data, 0)
	check := func(stage string) {
		t.Helper()
		for _, rg := range [][2]int64{{0, 4096}, {0, 1 << 20}, {100, 5000}, {4095, 2}, {65536, 131072}, {int64(len(data)) - 10, 100}, {int64(len(data)), 1}} {
			p := make([]byte, rg[1])
			n, err := readDirect(f, p, rg[0])
			want := data[min(rg[0], int64(len(data))):min(rg[0]+rg[1], int64(len(data)))]
			if !bytes.Equal(p[:n], want) || (err != nil && (err != io.EOF || n == len(p))) {
				t.Fatalf("%s: direct read of %d bytes at %d = %d, %v; want %d bytes", stage, rg[1], rg[0], n, err, len(want))
			}
		}
	}
	check("dirty backing pages")
	dropCache(t, b)
	check("cold backing file")
	if n := cached(t, b); n != 0 {
		t.Errorf("direct reads left %d backing pages in the page cache", n)
	}
	f.ReadAt(make([]byte, 1<<20), 0)
	if cached(t, b) == 0 {
		t.Error("buffered reads left nothing in the page cache: the check above cannot fail")
	}

	corrupt(t, b, func(d []byte) []byte { d[5*4136+9] ^= 1; return d })
	dropCache(t, b)
	_, err := readDirect(f, make([]byte, 8192), 4*4096)
	var ae *chunk.AuthError
	if !errors.As(err, &ae) || ae.Index != 5 {
		t.Fatalf("direct read of a flipped byte in chunk 5: %v", err)
	}
}

// readDirect is ReadAt through ReadPlain with direct.
func readDirect(f *content.File, p []byte, off int64) (int, error) {
	pl, err := f.ReadPlain(off, len(p), true)
	n := copy(p, pl.Bytes)
	pl.Release()
	return n, err
}
