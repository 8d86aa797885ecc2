package integration

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// posixCase is one named POSIX behaviour (hanwen/go-fuse posixtest/test.go). fn runs
// in an empty directory of its own and states what ext4 does.
type posixCase struct {
	name string
	fn   func(t *testing.T, dir string)
	ezfs bool // about ezfs itself (its hidden xattrs): not run on the ext4 reference
}

// TestPOSIX runs every case of posixCases in a zone and in a non-zone directory of
// one mount, and on the ext4 directory the test's temporary files live in, as the
// reference the expectations were checked against (issue 3 "Inside a zone").
func TestPOSIX(t *testing.T) {
	v := newVolume(t)
	v.mount(t)
	zoneDir := v.zone(t, "zone")
	plain := filepath.Join(v.mnt, "plain")
	if err := os.Mkdir(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	ref := t.TempDir()
	var sfs unix.Statfs_t
	if err := unix.Statfs(ref, &sfs); err != nil || sfs.Type != unix.EXT4_SUPER_MAGIC {
		ref = "" // no ext4 at hand: the mount's two sides only
	}
	for _, side := range []struct{ name, dir string }{{"zone", zoneDir}, {"plain", plain}, {"ext4", ref}} {
		t.Run(side.name, func(t *testing.T) {
			if side.dir == "" {
				t.Skip("the temporary directory is not on ext4")
			}
			for _, c := range posixCases {
				t.Run(c.name, func(t *testing.T) {
					if c.ezfs && side.name == "ext4" {
						t.Skip("about ezfs's own xattrs")
					}
					d := filepath.Join(side.dir, c.name)
					if err := os.Mkdir(d, 0o755); err != nil {
						t.Fatal(err)
					}
					c.fn(t, d)
				})
			}
		})
	}
}

// pxData returns n deterministic pseudo-random bytes of stream seed.
func pxData(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

// pxWriteFile creates p with data and mode 0644.
func pxWriteFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pxReadFile returns the content of p.
func pxReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", filepath.Base(p), err)
	}
	return b
}

// pxOpen opens p read-write (creating it) and closes it in cleanup.
func pxOpen(t *testing.T, p string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(p, flag, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// pxSame fails unless got equals want, naming the first differing offset.
func pxSame(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("%s: %d bytes, want %d; first difference at offset %d", what, len(got), len(want), i)
}

// pxErrno fails unless err is the errno want.
func pxErrno(t *testing.T, what string, err error, want unix.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v (%s)", what, err, want, unix.ErrnoName(want))
	}
}

// pxStat returns the stat of p (not following a symlink).
func pxStat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", filepath.Base(p), err)
	}
	return st
}

// pxFstat returns the stat of an open file.
func pxFstat(t *testing.T, f *os.File) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatalf("fstat %s: %v", filepath.Base(f.Name()), err)
	}
	return st
}

// pxReadAt reads n bytes at off of f, which must all be there.
func pxReadAt(t *testing.T, f *os.File, off int64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	got, err := f.ReadAt(b, off)
	if got != n {
		t.Fatalf("read %d at %d: %d bytes, %v", n, off, got, err)
	}
	return b
}

// pxZeros fails unless b is all zeros.
func pxZeros(t *testing.T, what string, b []byte) {
	t.Helper()
	if i := bytes.IndexFunc(b, func(r rune) bool { return r != 0 }); i >= 0 {
		t.Errorf("%s: byte %d of %d is not zero", what, i, len(b))
	}
}

// pxSparse fails if st uses more than limit bytes of disk.
func pxSparse(t *testing.T, what string, st unix.Stat_t, limit int64) {
	t.Helper()
	if st.Blocks*512 > limit {
		t.Errorf("%s: st_blocks %d (%d bytes) for size %d, want at most %d bytes: not sparse",
			what, st.Blocks, st.Blocks*512, st.Size, limit)
	}
}

// pxDirectAt reads n bytes at off of p with O_DIRECT, past the kernel's page cache, so
// what it returns is what the filesystem stored (shorter at EOF). ok is false if
// O_DIRECT is refused.
func pxDirectAt(t *testing.T, p string, off int64, n int) (b []byte, ok bool) {
	t.Helper()
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECT, 0)
	if errors.Is(err, unix.EINVAL) {
		t.Logf("O_DIRECT refused on %s: checked through the page cache only", filepath.Base(p))
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	// ext4 wants O_DIRECT aligned: read whole pages into a mapping (page aligned).
	start, end := off&^4095, (off+int64(n)+4095)&^4095
	buf, err := unix.Mmap(-1, 0, int(max(end-start, 4096)), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(buf)
	got := 0
	for got < len(buf) {
		m, err := unix.Pread(fd, buf[got:], start+int64(got))
		if err != nil {
			t.Fatalf("O_DIRECT read of %s at %d: %v", filepath.Base(p), start+int64(got), err)
		}
		if m == 0 {
			break
		}
		got += m
	}
	lo := min(int(off-start), got)
	return bytes.Clone(buf[lo:min(lo+n, got)]), true
}

// pxCheck fails unless p holds want, read through the page cache and with O_DIRECT.
func pxCheck(t *testing.T, what, p string, want []byte) {
	t.Helper()
	pxSame(t, what, pxReadFile(t, p), want)
	if b, ok := pxDirectAt(t, p, 0, len(want)+4096); ok {
		pxSame(t, what+" (O_DIRECT)", b, want)
	}
}

// posixCases are the behaviours of issue 3 "Inside a zone", each as ext4 has them.
var posixCases = []posixCase{
	{name: "create-excl", fn: testCreateExcl},
	{name: "open-trunc", fn: testOpenTrunc},
	{name: "append-two-fds", fn: testAppend},
	{name: "rw-offsets", fn: testReadWriteOffsets},
	{name: "hole-pwrite", fn: testHolePwrite},
	{name: "truncate-1g-ftruncate", fn: func(t *testing.T, dir string) { testTruncate1G(t, dir, true) }},
	{name: "truncate-1g-path", fn: func(t *testing.T, dir string) { testTruncate1G(t, dir, false) }},
	{name: "truncate-down-up", fn: testTruncateDownUp},
	{name: "fallocate", fn: testFallocate},
	{name: "mmap-shared-write", fn: testMmapSharedWrite},
	{name: "mmap-read", fn: testMmapRead},
	{name: "fsync-fdatasync", fn: testFsync},
	{name: "rename", fn: testRename},
	{name: "rename-noreplace-exchange", fn: testRenameFlags},
	{name: "hardlink", fn: testHardlink},
	{name: "symlink", fn: testSymlink},
	{name: "path-max", fn: testPathMax},
	{name: "mkdir-rmdir", fn: testMkdirRmdir},
	{name: "chmod-modes", fn: testChmod},
	{name: "create-modes-umask", fn: testCreateModes},
	{name: "chown", fn: testChown},
	{name: "utimens", fn: testUtimens},
	{name: "statfs", fn: testStatfs},
	{name: "xattr-user", fn: testXattrUser},
	{name: "xattr-large", fn: testXattrLarge},
	{name: "xattr-ezfs-hidden", fn: testXattrEzfs, ezfs: true},
	{name: "lock-posix", fn: testLockPOSIX},
	{name: "lock-flock", fn: testLockFlock},
	{name: "stat-sizes", fn: testStatSizes},
	{name: "readdir", fn: testReaddir},
	{name: "unlink-open", fn: testUnlinkOpen},
}

func testCreateExcl(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("first")); err != nil {
		t.Error(err)
	}
	f.Close()
	_, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	pxErrno(t, "second O_CREAT|O_EXCL", err, unix.EEXIST)
	// O_CREAT alone opens the existing file without touching it.
	g, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	pxSame(t, "after O_CREAT reopen", pxReadFile(t, p), []byte("first"))
	if m := pxStat(t, p).Mode & 0o7777; m != 0o644 {
		t.Errorf("mode after O_CREAT reopen %#o, want 0644", m)
	}
	// O_EXCL does not follow a dangling symlink.
	l := filepath.Join(dir, "l")
	if err := os.Symlink("target", l); err != nil {
		t.Fatal(err)
	}
	_, err = os.OpenFile(l, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	pxErrno(t, "O_EXCL on a dangling symlink", err, unix.EEXIST)
	if _, err := os.Lstat(filepath.Join(dir, "target")); !errors.Is(err, unix.ENOENT) {
		t.Errorf("O_EXCL through a symlink created its target: %v", err)
	}
}

func testOpenTrunc(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	pxWriteFile(t, p, pxData(10000, 1))
	reader := pxOpen(t, p, os.O_RDONLY)
	pxSame(t, "before O_TRUNC", pxReadAt(t, reader, 0, 10000), pxData(10000, 1)) // fill the page cache
	f := pxOpen(t, p, os.O_WRONLY|os.O_TRUNC)
	if st := pxFstat(t, f); st.Size != 0 {
		t.Errorf("fstat after O_TRUNC: size %d, want 0", st.Size)
	}
	if st := pxStat(t, p); st.Size != 0 {
		t.Errorf("stat after O_TRUNC: size %d, want 0", st.Size)
	}
	if _, err := f.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	pxCheck(t, "after O_TRUNC and write", p, []byte("abc"))
	b := make([]byte, 10000)
	n, err := reader.ReadAt(b, 0)
	if n != 3 || err != io.EOF {
		t.Errorf("other fd after O_TRUNC: %d bytes, %v; want 3, EOF", n, err)
	}
	pxSame(t, "other fd after O_TRUNC", b[:n], []byte("abc"))
	// O_TRUNC of an empty file and of a file at a chunk boundary.
	pxWriteFile(t, p, pxData(4096, 2))
	pxOpen(t, p, os.O_RDWR|os.O_TRUNC).Close()
	if st := pxStat(t, p); st.Size != 0 {
		t.Errorf("O_TRUNC of 4096 bytes: size %d", st.Size)
	}
}

func testAppend(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	a := pxOpen(t, p, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
	b := pxOpen(t, p, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
	var want []byte
	for i := range 10 {
		data := pxData(1000+i*1531, uint64(i))
		f := a
		if i%2 == 1 {
			f = b
		}
		if n, err := f.Write(data); n != len(data) || err != nil {
			t.Fatalf("append %d: %d, %v", i, n, err)
		}
		want = append(want, data...)
		if st := pxFstat(t, f); st.Size != int64(len(want)) {
			t.Errorf("after append %d: size %d, want %d", i, st.Size, len(want))
		}
	}
	// A seek does not move an O_APPEND write.
	if _, err := a.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "tail"...)
	pxCheck(t, "two appending fds", p, want)
}

func testReadWriteOffsets(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	f := pxOpen(t, p, os.O_RDWR|os.O_CREATE)
	var model []byte
	writes := []struct{ off, n int }{
		{0, 1}, {1, 4094}, {4095, 2}, {4096, 4096}, {4000, 200}, {1, 8190}, {8191, 4098},
		{12288, 1}, {100, 100000}, {20000, 3}, {0, 0}, {4096*30 - 5, 10}, {5000, 1<<20 + 7},
		{3 << 20, 4096}, {(3 << 20) - 1, 2},
	}
	for i, w := range writes {
		data := pxData(w.n, uint64(100+i))
		if n, err := f.WriteAt(data, int64(w.off)); n != w.n || err != nil {
			t.Fatalf("write %d at %d: %d, %v", w.n, w.off, n, err)
		}
		if end := w.off + w.n; end > len(model) {
			model = append(model, make([]byte, end-len(model))...)
		}
		copy(model[w.off:], data)
		pxSame(t, "read back the write", pxReadAt(t, f, int64(w.off), w.n), data)
		pxCheck(t, "whole file after write", p, model)
	}
	if st := pxFstat(t, f); st.Size != int64(len(model)) {
		t.Errorf("size %d, want %d", st.Size, len(model))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 300 {
		off, n := rng.IntN(len(model)+9000), rng.IntN(20000)
		if rng.IntN(4) == 0 {
			off = rng.IntN(len(model)/4096+2)*4096 + rng.IntN(3) - 1
			off = max(off, 0)
		}
		buf := make([]byte, n)
		got, err := f.ReadAt(buf, int64(off))
		want := min(n, max(len(model)-off, 0))
		if got != want || (got < n && err != io.EOF) || (got == n && err != nil) {
			t.Fatalf("read %d at %d of %d: %d bytes, %v; want %d", n, off, len(model), got, err, want)
		}
		if want > 0 {
			pxSame(t, "random read", buf[:got], model[off:off+want])
		}
	}
	// Sequential reads with an odd buffer size.
	g := pxOpen(t, p, os.O_RDONLY)
	var seq []byte
	buf := make([]byte, 777)
	for {
		n, err := g.Read(buf)
		seq = append(seq, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pxSame(t, "sequential 777-byte reads", seq, model)
}

func testHolePwrite(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	f := pxOpen(t, p, os.O_RDWR|os.O_CREATE)
	head, tail := pxData(100, 1), pxData(5000, 2)
	const off = 10<<20 + 3
	if _, err := f.Write(head); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(tail, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	st := pxFstat(t, f)
	if st.Size != off+5000 {
		t.Errorf("size %d, want %d", st.Size, off+5000)
	}
	pxSparse(t, "10 MiB hole", st, 256<<10)
	pxSame(t, "head", pxReadAt(t, f, 0, 100), head)
	for o := int64(100); o < off; o += 1 << 20 {
		pxZeros(t, "hole", pxReadAt(t, f, o, int(min(1<<20, off-o))))
	}
	pxSame(t, "tail", pxReadAt(t, f, off, 5000), tail)
	if b, ok := pxDirectAt(t, p, 0, 9000); ok {
		pxSame(t, "head and hole (O_DIRECT)", b, append(bytes.Clone(head), make([]byte, 8900)...))
	}
	if b, ok := pxDirectAt(t, p, off-3000, 9000); ok {
		pxSame(t, "hole and tail (O_DIRECT)", b, append(make([]byte, 3000), tail...))
	}
	f.Close()
	pxSparse(t, "10 MiB hole after close", pxStat(t, p), 256<<10)
}

func testTruncate1G(t *testing.T, dir string, byFd bool) {
	const size = 1 << 30
	p := filepath.Join(dir, "f")
	head := pxData(5000, 3)
	pxWriteFile(t, p, head)
	f := pxOpen(t, p, os.O_RDWR)
	if byFd {
		if err := unix.Ftruncate(int(f.Fd()), size); err != nil {
			t.Fatalf("ftruncate to 1 GiB: %v", err)
		}
	} else if err := os.Truncate(p, size); err != nil {
		t.Fatalf("truncate to 1 GiB: %v", err)
	}
	for _, st := range []unix.Stat_t{pxFstat(t, f), pxStat(t, p)} {
		if st.Size != size {
			t.Errorf("size %d, want %d", st.Size, size)
		}
		pxSparse(t, "1 GiB truncate", st, 1<<20)
	}
	pxSame(t, "data before the truncate", pxReadAt(t, f, 0, 5000), head)
	pxZeros(t, "rest of the first chunks", pxReadAt(t, f, 5000, 20000))
	pxZeros(t, "middle", pxReadAt(t, f, 512<<20+123, 70000))
	pxZeros(t, "last bytes", pxReadAt(t, f, size-10, 10))
	if n, err := f.ReadAt(make([]byte, 10), size); n != 0 || err != io.EOF {
		t.Errorf("read at EOF: %d, %v", n, err)
	}
	if _, err := f.WriteAt([]byte{'z'}, size-1); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	pxSame(t, "last byte", pxReadAt(t, f, size-1, 1), []byte{'z'})
	pxZeros(t, "before the last byte", pxReadAt(t, f, size-5000, 4999))
	if b, ok := pxDirectAt(t, p, 0, 9000); ok {
		pxSame(t, "first chunks (O_DIRECT)", b, append(bytes.Clone(head), make([]byte, 4000)...))
	}
	if b, ok := pxDirectAt(t, p, 512<<20+123, 70000); ok {
		pxSame(t, "middle (O_DIRECT)", b, make([]byte, 70000))
	}
	if b, ok := pxDirectAt(t, p, size-5000, 6000); ok {
		pxSame(t, "end (O_DIRECT)", b, append(make([]byte, 4999), 'z'))
	}
	st := pxFstat(t, f)
	if st.Size != size {
		t.Errorf("size after writing the last byte %d", st.Size)
	}
	pxSparse(t, "1 GiB file with its last byte written", st, 1<<20)
	if out := strings.Fields(sh(t, "du -k "+p)); len(out) == 0 || len(out[0]) > 4 {
		t.Errorf("du -k of a sparse 1 GiB file: %v", out)
	}
}

func testTruncateDownUp(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	data := pxData(10000, 4)
	pxWriteFile(t, p, data)
	f := pxOpen(t, p, os.O_RDWR)
	pxSame(t, "before", pxReadAt(t, f, 0, 10000), data) // fill the page cache
	if err := os.Truncate(p, 5000); err != nil {
		t.Fatal(err)
	}
	if st := pxStat(t, p); st.Size != 5000 {
		t.Errorf("size after truncate down %d", st.Size)
	}
	pxCheck(t, "after truncate down", p, data[:5000])
	if err := os.Truncate(p, 12000); err != nil {
		t.Fatal(err)
	}
	want := append(bytes.Clone(data[:5000]), make([]byte, 7000)...)
	pxCheck(t, "after truncate up (path)", p, want)
	pxSame(t, "after truncate up (open fd)", pxReadAt(t, f, 0, 12000), want)

	// Down mid-chunk, then a write past the cut: the rest of the cut chunk reads as zeros.
	if err := f.Truncate(4100); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("X"), 9000); err != nil {
		t.Fatal(err)
	}
	want = append(bytes.Clone(data[:4100]), make([]byte, 4900)...)
	want = append(want, 'X')
	pxCheck(t, "truncate down then write past the cut", p, want)

	// To a chunk boundary, to zero, and up again.
	for _, cut := range []int64{4096, 0} {
		if err := f.Truncate(cut); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(8192); err != nil {
			t.Fatal(err)
		}
		w := append(bytes.Clone(want[:cut]), make([]byte, 8192-cut)...)
		pxCheck(t, "down to a boundary then up", p, w)
	}
}

func testFallocate(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	f := pxOpen(t, p, os.O_RDWR|os.O_CREATE)
	fd := int(f.Fd())
	if err := unix.Fallocate(fd, 0, 0, 10000); err != nil {
		t.Fatalf("fallocate mode 0 on an empty file: %v", err)
	}
	if st := pxFstat(t, f); st.Size != 10000 {
		t.Errorf("size after fallocate mode 0: %d, want 10000", st.Size)
	}
	pxCheck(t, "fallocated range", p, make([]byte, 10000))
	head := pxData(3000, 5)
	if _, err := f.WriteAt(head, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fallocate(fd, 0, 8000, 5000); err != nil {
		t.Fatalf("fallocate mode 0 past EOF: %v", err)
	}
	if err := unix.Fallocate(fd, 0, 0, 100); err != nil {
		t.Fatalf("fallocate mode 0 inside the file: %v", err)
	}
	want := append(bytes.Clone(head), make([]byte, 10000)...)
	if st := pxFstat(t, f); st.Size != 13000 {
		t.Errorf("size after fallocate to 13000: %d", st.Size)
	}
	pxCheck(t, "after fallocate mode 0", p, want)

	// Other modes: ext4 does each; a zone may refuse one with EOPNOTSUPP, never EIO,
	// and must not damage the file when it does.
	modes := []struct {
		name      string
		mode      uint32
		off, n    int64
		zeroRange bool
	}{
		{"KEEP_SIZE past EOF", unix.FALLOC_FL_KEEP_SIZE, 13000, 1 << 20, false},
		{"PUNCH_HOLE", unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_KEEP_SIZE, 1000, 5000, true},
		{"ZERO_RANGE", unix.FALLOC_FL_ZERO_RANGE, 100, 50, true},
	}
	for _, m := range modes {
		err := unix.Fallocate(fd, m.mode, m.off, m.n)
		if err != nil {
			pxErrno(t, "fallocate "+m.name, err, unix.EOPNOTSUPP)
			t.Logf("fallocate %s: %v", m.name, err)
		} else {
			t.Logf("fallocate %s: supported", m.name)
			if m.zeroRange {
				copy(want[m.off:m.off+m.n], make([]byte, m.n))
			}
		}
		if st := pxFstat(t, f); st.Size != 13000 {
			t.Errorf("size after fallocate %s: %d, want 13000", m.name, st.Size)
		}
		pxCheck(t, "content after fallocate "+m.name, p, want)
	}
}

func testMmapSharedWrite(t *testing.T, dir string) {
	for _, size := range []int{3 * 4096, 3*4096 - 1000} {
		p := filepath.Join(dir, "f"+strconv.Itoa(size))
		data := pxData(size, uint64(size))
		pxWriteFile(t, p, data)
		f := pxOpen(t, p, os.O_RDWR)
		m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatalf("mmap MAP_SHARED PROT_READ|PROT_WRITE of %d bytes: %v", size, err)
		}
		pxSame(t, "read through the mapping", m, data)
		for _, w := range []struct{ off, n int }{{0, 10}, {4090, 12}, {8191, 2}, {size - 5, 5}} {
			patch := pxData(w.n, uint64(w.off+1))
			copy(m[w.off:], patch)
			copy(data[w.off:], patch)
		}
		if err := unix.Msync(m, unix.MS_SYNC); err != nil {
			t.Errorf("msync: %v", err)
		}
		if err := unix.Munmap(m); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
		pxCheck(t, "reopened after a shared writable mapping", p, data)
		if st := pxStat(t, p); st.Size != int64(size) {
			t.Errorf("size after mmap writes %d, want %d", st.Size, size)
		}
	}
}

func testMmapRead(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	const size = 3*4096 + 100
	data := pxData(size, 6)
	f := pxOpen(t, p, os.O_RDWR|os.O_CREATE)
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []int{unix.MAP_SHARED, unix.MAP_PRIVATE} {
		m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, flag)
		if err != nil {
			t.Fatalf("mmap PROT_READ: %v", err)
		}
		pxSame(t, "mmap of a file written with write()", m, data)
		// A later write() through the same fd is seen through the mapping.
		if _, err := f.WriteAt([]byte("hello"), 5000); err != nil {
			t.Fatal(err)
		}
		copy(data[5000:], "hello")
		pxSame(t, "mapping after a write()", m, data)
		unix.Munmap(m)
		data[5000]++ // change it again for the next mapping
		if _, err := f.WriteAt(data[5000:5001], 5000); err != nil {
			t.Fatal(err)
		}
	}
}

func testFsync(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	data := pxData(3*4096+17, 7)
	f := pxOpen(t, p, os.O_RDWR|os.O_CREATE)
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fsync(int(f.Fd())); err != nil {
		t.Errorf("fsync: %v", err)
	}
	if _, err := f.WriteAt([]byte("more"), 4094); err != nil {
		t.Fatal(err)
	}
	copy(data[4094:], "more")
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		t.Errorf("fdatasync: %v", err)
	}
	if err := unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER); err != nil {
		t.Errorf("sync_file_range: %v", err)
	}
	d := pxOpen(t, dir, os.O_RDONLY)
	if err := unix.Fsync(int(d.Fd())); err != nil {
		t.Errorf("fsync of the directory: %v", err)
	}
	if err := unix.Fdatasync(int(d.Fd())); err != nil {
		t.Errorf("fdatasync of the directory: %v", err)
	}
	ro := pxOpen(t, p, os.O_RDONLY)
	if err := unix.Fsync(int(ro.Fd())); err != nil {
		t.Errorf("fsync of a read-only fd: %v", err)
	}
	pxCheck(t, "after fsync", p, data)
}

func testRename(t *testing.T, dir string) {
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	da, dc := pxData(5000, 8), pxData(9000, 9)
	pxWriteFile(t, a, da)
	fa := pxOpen(t, a, os.O_RDWR)
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(a); !errors.Is(err, unix.ENOENT) {
		t.Errorf("old name after rename: %v", err)
	}
	pxCheck(t, "new name", b, da)
	// The fd opened before the rename still writes to the file.
	if _, err := fa.WriteAt([]byte("renamed"), 4093); err != nil {
		t.Fatal(err)
	}
	copy(da[4093:], "renamed")
	pxCheck(t, "write through an fd opened before the rename", b, da)

	// Over an existing file: its old content stays readable through an open fd.
	pxWriteFile(t, c, dc)
	fc := pxOpen(t, c, os.O_RDONLY)
	ino := pxStat(t, b).Ino
	if err := os.Rename(b, c); err != nil {
		t.Fatalf("rename over an existing file: %v", err)
	}
	pxCheck(t, "renamed over", c, da)
	if st := pxStat(t, c); st.Ino != ino || st.Nlink != 1 {
		t.Errorf("renamed file: ino %d nlink %d, want ino %d nlink 1", st.Ino, st.Nlink, ino)
	}
	pxSame(t, "replaced file through its open fd", pxReadAt(t, fc, 0, 9000), dc)
	if _, err := os.Lstat(b); !errors.Is(err, unix.ENOENT) {
		t.Errorf("source after rename over: %v", err)
	}

	// Directories: with content, over an empty one, not over a non-empty one.
	d1, d2, d3 := filepath.Join(dir, "d1"), filepath.Join(dir, "d2"), filepath.Join(dir, "d3")
	for _, d := range []string{d1, d2, d3} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pxWriteFile(t, filepath.Join(d1, "inner"), dc)
	pxWriteFile(t, filepath.Join(d3, "x"), nil)
	// unix.Rename: os.Rename refuses a directory target itself, before the system call.
	if err := unix.Rename(d1, d2); err != nil {
		t.Fatalf("rename a directory over an empty one: %v", err)
	}
	pxSame(t, "file in a renamed directory", pxReadFile(t, filepath.Join(d2, "inner")), dc)
	pxErrno(t, "rename a directory over a non-empty one", unix.Rename(d2, d3), unix.ENOTEMPTY)
	pxErrno(t, "rename a file over a directory", unix.Rename(c, d3), unix.EISDIR)
	pxErrno(t, "rename a directory over a file", unix.Rename(d3, c), unix.ENOTDIR)
	// Renaming a file onto itself (via a hard link too) is a no-op.
	if err := os.Rename(c, c); err != nil {
		t.Errorf("rename onto itself: %v", err)
	}
	pxSame(t, "after rename onto itself", pxReadFile(t, c), da)
}

func testRenameFlags(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	pxWriteFile(t, a, []byte("aaaa"))
	pxWriteFile(t, b, pxData(5000, 10))
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_NOREPLACE)
	pxErrno(t, "RENAME_NOREPLACE over an existing file", err, unix.EEXIST)
	pxCheck(t, "after a refused RENAME_NOREPLACE", b, pxData(5000, 10))
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, filepath.Join(dir, "c"), unix.RENAME_NOREPLACE); err != nil {
		t.Errorf("RENAME_NOREPLACE to a new name: %v", err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(dir, "c"), unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
		t.Fatalf("RENAME_EXCHANGE: %v", err)
	}
	pxSame(t, "exchanged b", pxReadFile(t, b), []byte("aaaa"))
	pxSame(t, "exchanged c", pxReadFile(t, filepath.Join(dir, "c")), pxData(5000, 10))
}

func testHardlink(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	data := pxData(9000, 11)
	pxWriteFile(t, a, data)
	if err := os.Link(a, b); err != nil {
		t.Fatalf("link: %v", err)
	}
	sa, sb := pxStat(t, a), pxStat(t, b)
	if sa.Nlink != 2 || sb.Nlink != 2 || sa.Ino != sb.Ino {
		t.Errorf("after link: nlink %d and %d, ino %d and %d; want nlink 2, one inode", sa.Nlink, sb.Nlink, sa.Ino, sb.Ino)
	}
	pxSame(t, "second name", pxReadFile(t, b), data)
	fb := pxOpen(t, b, os.O_RDWR)
	fa := pxOpen(t, a, os.O_RDONLY)
	if _, err := fb.WriteAt([]byte("through b"), 4090); err != nil {
		t.Fatal(err)
	}
	copy(data[4090:], "through b")
	pxCheck(t, "first name after a write through the second", a, data)
	pxSame(t, "open fd of the first name", pxReadAt(t, fa, 0, 9000), data)
	if _, err := fb.WriteAt([]byte("grow"), 9000); err != nil {
		t.Fatal(err)
	}
	if st := pxStat(t, a); st.Size != 9004 {
		t.Errorf("size through the other name after growing: %d", st.Size)
	}
	pxErrno(t, "link onto an existing name", os.Link(a, b), unix.EEXIST)
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	if st := pxStat(t, b); st.Nlink != 1 {
		t.Errorf("nlink after unlinking one name: %d", st.Nlink)
	}
	pxCheck(t, "remaining name", b, append(data, "grow"...))
}

func testSymlink(t *testing.T, dir string) {
	target := filepath.Join(dir, "target")
	data := pxData(6000, 12)
	pxWriteFile(t, target, data)
	l := filepath.Join(dir, "l")
	if err := os.Symlink("target", l); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(l); got != "target" || err != nil {
		t.Errorf("readlink: %q, %v", got, err)
	}
	st := pxStat(t, l)
	if st.Mode&unix.S_IFMT != unix.S_IFLNK || st.Size != int64(len("target")) {
		t.Errorf("lstat of a symlink: mode %#o size %d", st.Mode, st.Size)
	}
	pxSame(t, "read through a symlink", pxReadFile(t, l), data)
	pxErrno(t, "symlink onto an existing name", os.Symlink("x", l), unix.EEXIST)

	// Long targets: 4000 bytes, 4095 (the longest Linux takes), and 4000 bytes that resolve.
	for _, n := range []int{4000, 4095} {
		long := strings.Repeat(strings.Repeat("t", 99)+"/", n/100+1)[:n]
		ln := filepath.Join(dir, "long"+strconv.Itoa(n))
		if err := os.Symlink(long, ln); err != nil {
			t.Fatalf("symlink with a %d-byte target: %v", n, err)
		}
		if got, err := os.Readlink(ln); got != long || err != nil {
			t.Errorf("readlink of a %d-byte target: %d bytes, %v", n, len(got), err)
		}
		if st := pxStat(t, ln); st.Size != int64(n) {
			t.Errorf("lstat size of a %d-byte symlink: %d", n, st.Size)
		}
	}
	resolving := strings.Repeat("./", (4000-len("target"))/2) + "target"
	lr := filepath.Join(dir, "resolving")
	if err := os.Symlink(resolving, lr); err != nil {
		t.Fatalf("symlink with a %d-byte target: %v", len(resolving), err)
	}
	pxSame(t, "read through a 4000-byte target", pxReadFile(t, lr), data)
	// A dangling symlink and one to a directory.
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dangling")); !errors.Is(err, unix.ENOENT) {
		t.Errorf("stat through a dangling symlink: %v", err)
	}
	if err := os.Symlink(".", filepath.Join(dir, "self")); err != nil {
		t.Fatal(err)
	}
	pxSame(t, "through a symlink to a directory", pxReadFile(t, filepath.Join(dir, "self", "target")), data)
}

func testPathMax(t *testing.T, dir string) {
	const total = unix.PathMax - 1 // the longest path a system call takes
	comp := strings.Repeat("n", 200)
	p := dir
	for total-len(p)-1 > 250 {
		p = filepath.Join(p, comp)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatalf("mkdir at depth %d bytes: %v", len(p), err)
		}
	}
	name := strings.Repeat("f", total-len(p)-1)
	f := filepath.Join(p, name)
	if len(f) != total {
		t.Fatalf("path of %d bytes, want %d", len(f), total)
	}
	data := pxData(10000, 13)
	pxWriteFile(t, f, data)
	pxCheck(t, "read at PATH_MAX", f, data)
	if st := pxStat(t, f); st.Size != 10000 || st.Mode&0o777 != 0o644 {
		t.Errorf("stat at PATH_MAX: size %d mode %#o", st.Size, st.Mode)
	}
	if err := os.Chmod(f, 0o600); err != nil {
		t.Errorf("chmod at PATH_MAX: %v", err)
	}
	g := filepath.Join(p, strings.Repeat("g", len(name)))
	if err := os.Rename(f, g); err != nil {
		t.Errorf("rename at PATH_MAX: %v", err)
	}
	if err := os.Link(g, f); err != nil {
		t.Errorf("link at PATH_MAX: %v", err)
	}
	if ents, err := os.ReadDir(p); err != nil || len(ents) != 2 {
		t.Errorf("readdir at PATH_MAX: %d entries, %v", len(ents), err)
	}
	for _, q := range []string{f, g} {
		if err := os.Remove(q); err != nil {
			t.Errorf("unlink at PATH_MAX: %v", err)
		}
	}
	for q := p; q != dir; q = filepath.Dir(q) {
		if err := os.Remove(q); err != nil {
			t.Fatalf("rmdir %d bytes deep: %v", len(q), err)
		}
	}
}

func testMkdirRmdir(t *testing.T, dir string) {
	d := filepath.Join(dir, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if st := pxStat(t, d); st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Nlink != 2 {
		t.Errorf("new directory: mode %#o nlink %d", st.Mode, st.Nlink)
	}
	if st := pxStat(t, dir); st.Nlink != 3 {
		t.Errorf("parent nlink with one subdirectory: %d, want 3", st.Nlink)
	}
	pxErrno(t, "mkdir of an existing directory", os.Mkdir(d, 0o755), unix.EEXIST)
	pxWriteFile(t, filepath.Join(d, "f"), []byte("x"))
	pxErrno(t, "rmdir of a non-empty directory", unix.Rmdir(d), unix.ENOTEMPTY)
	pxErrno(t, "rmdir of a file", unix.Rmdir(filepath.Join(d, "f")), unix.ENOTDIR)
	pxErrno(t, "unlink of a directory", unix.Unlink(d), unix.EISDIR)
	if err := os.Remove(filepath.Join(d, "f")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Rmdir(d); err != nil {
		t.Fatalf("rmdir of an empty directory: %v", err)
	}
	if _, err := os.Lstat(d); !errors.Is(err, unix.ENOENT) {
		t.Errorf("after rmdir: %v", err)
	}
	if st := pxStat(t, dir); st.Nlink != 2 {
		t.Errorf("parent nlink after rmdir: %d, want 2", st.Nlink)
	}
	// A directory can be recreated under the same name, and nested.
	if err := os.MkdirAll(filepath.Join(d, "a", "b", "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(d); err != nil {
		t.Fatal(err)
	}
}

func testChmod(t *testing.T, dir string) {
	f, d := filepath.Join(dir, "f"), filepath.Join(dir, "d")
	pxWriteFile(t, f, []byte("x"))
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range []uint32{0o644, 0o4755, 0o2755, 0o1777, 0o6777, 0o7000, 0o0000, 0o2770, 0o0777} {
		for _, p := range []string{f, d} {
			if err := unix.Chmod(p, m); err != nil {
				t.Errorf("chmod %#o: %v", m, err)
				continue
			}
			if got := pxStat(t, p).Mode & 0o7777; got != m {
				t.Errorf("chmod %#o of %s: stat shows %#o", m, filepath.Base(p), got)
			}
		}
	}
	// fchmod through an open fd, and the file stays readable by root at mode 0000.
	fd := pxOpen(t, f, os.O_RDWR)
	if err := unix.Fchmod(int(fd.Fd()), 0o4711); err != nil {
		t.Errorf("fchmod: %v", err)
	} else if got := pxStat(t, f).Mode & 0o7777; got != 0o4711 {
		t.Errorf("fchmod 04711: stat shows %#o", got)
	}
	if err := unix.Chmod(f, 0); err != nil {
		t.Fatal(err)
	}
	pxSame(t, "root reads a mode-0000 file", pxReadFile(t, f), []byte("x"))
}

func testCreateModes(t *testing.T, dir string) {
	old := unix.Umask(0)
	defer unix.Umask(old)
	type made struct {
		name  string
		umask int
		mode  uint32
		want  uint32
		dir   bool
	}
	for _, c := range []made{
		{"f666", 0, 0o666, 0o666, false},
		{"f4755", 0, 0o4755, 0o4755, false},
		{"f0", 0, 0, 0, false},
		{"f-umask", 0o022, 0o666, 0o644, false},
		{"f-umask077", 0o077, 0o666, 0o600, false},
		{"d777", 0, 0o777, 0o777, true},
		{"d1777", 0, 0o1777, 0o1777, true},
		{"d-umask", 0o022, 0o777, 0o755, true},
	} {
		unix.Umask(c.umask)
		p := filepath.Join(dir, c.name)
		if c.dir {
			if err := unix.Mkdir(p, c.mode); err != nil {
				t.Fatal(err)
			}
		} else {
			fd, err := unix.Open(p, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, c.mode)
			if err != nil {
				t.Fatalf("create %s mode %#o: %v", c.name, c.mode, err)
			}
			// The creating fd writes even when the mode gives no permission at all.
			if n, err := unix.Write(fd, []byte("data")); n != 4 || err != nil {
				t.Errorf("write through the creating fd of %s (mode %#o): %d, %v", c.name, c.mode, n, err)
			}
			unix.Close(fd)
		}
		if got := pxStat(t, p).Mode & 0o7777; got != c.want {
			t.Errorf("%s: mode %#o with umask %#o gives %#o, want %#o", c.name, c.mode, c.umask, got, c.want)
		}
	}
	unix.Umask(0)
	pxSame(t, "mode-0000 file written by its creating fd", pxReadFile(t, filepath.Join(dir, "f0")), []byte("data"))
	// A setgid directory passes its group and the bit to what is made in it.
	sg := filepath.Join(dir, "sgid")
	if err := os.Mkdir(sg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sg, 0, 4242); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(sg, 0o2775); err != nil {
		t.Fatal(err)
	}
	pxWriteFile(t, filepath.Join(sg, "f"), nil)
	if err := unix.Mkdir(filepath.Join(sg, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if st := pxStat(t, filepath.Join(sg, "f")); st.Gid != 4242 {
		t.Errorf("file in a setgid directory: gid %d, want 4242", st.Gid)
	}
	if st := pxStat(t, filepath.Join(sg, "sub")); st.Gid != 4242 || st.Mode&0o7777 != 0o2755 {
		t.Errorf("directory in a setgid directory: gid %d mode %#o, want 4242 02755", st.Gid, st.Mode&0o7777)
	}
}

func testChown(t *testing.T, dir string) {
	f, d, l := filepath.Join(dir, "f"), filepath.Join(dir, "d"), filepath.Join(dir, "l")
	pxWriteFile(t, f, []byte("x"))
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", l); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f, d} {
		if err := os.Chown(p, 1234, 5678); err != nil {
			t.Fatalf("chown: %v", err)
		}
		if st := pxStat(t, p); st.Uid != 1234 || st.Gid != 5678 {
			t.Errorf("chown 1234:5678 of %s: %d:%d", filepath.Base(p), st.Uid, st.Gid)
		}
	}
	if err := os.Chown(f, -1, 999); err != nil {
		t.Fatal(err)
	}
	if st := pxStat(t, f); st.Uid != 1234 || st.Gid != 999 {
		t.Errorf("chown -1:999: %d:%d", st.Uid, st.Gid)
	}
	if err := os.Lchown(l, 4321, 8765); err != nil {
		t.Fatalf("lchown: %v", err)
	}
	if st := pxStat(t, l); st.Uid != 4321 || st.Gid != 8765 {
		t.Errorf("lchown of a symlink: %d:%d", st.Uid, st.Gid)
	}
	if st := pxStat(t, f); st.Uid != 1234 {
		t.Errorf("lchown changed the target: uid %d", st.Uid)
	}
	fd := pxOpen(t, f, os.O_RDONLY)
	if err := fd.Chown(1, 2); err != nil {
		t.Errorf("fchown: %v", err)
	} else if st := pxStat(t, f); st.Uid != 1 || st.Gid != 2 {
		t.Errorf("fchown 1:2: %d:%d", st.Uid, st.Gid)
	}
	// As on ext4, a chown clears setuid, and setgid of a group-executable file.
	if err := unix.Chmod(f, 0o6755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(f, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if got := pxStat(t, f).Mode & 0o7777; got != 0o755 {
		t.Errorf("mode after chown of a 06755 file: %#o, want 0755", got)
	}
	pxCheck(t, "content after chown", f, []byte("x"))
}

func testUtimens(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	pxWriteFile(t, p, []byte("x"))
	at := unix.Timespec{Sec: 1_000_000_000, Nsec: 123_456_789}
	mt := unix.Timespec{Sec: 1_234_567_890, Nsec: 987_654_321}
	check := func(what, p string, at, mt unix.Timespec) {
		t.Helper()
		st := pxStat(t, p)
		if st.Atim != at || st.Mtim != mt {
			t.Errorf("%s: atime %v mtime %v, want %v and %v", what, st.Atim, st.Mtim, at, mt)
		}
	}
	if err := unix.UtimesNano(p, []unix.Timespec{at, mt}); err != nil {
		t.Fatal(err)
	}
	check("utimensat", p, at, mt)
	mt2 := unix.Timespec{Sec: 2_000_000_000, Nsec: 1}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{{Nsec: unix.UTIME_OMIT}, mt2}, 0); err != nil {
		t.Fatal(err)
	}
	check("UTIME_OMIT atime", p, at, mt2)
	// futimes through an open fd (microseconds).
	f := pxOpen(t, p, os.O_RDWR)
	tv := []unix.Timeval{{Sec: 1_500_000_000, Usec: 250_000}, {Sec: 1_600_000_000, Usec: 750_001}}
	if err := unix.Futimes(int(f.Fd()), tv); err != nil {
		t.Fatal(err)
	}
	check("futimes", p, unix.Timespec{Sec: 1_500_000_000, Nsec: 250_000_000}, unix.Timespec{Sec: 1_600_000_000, Nsec: 750_001_000})
	// A directory, and a symlink itself.
	d := filepath.Join(dir, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.UtimesNano(d, []unix.Timespec{at, mt}); err != nil {
		t.Fatal(err)
	}
	check("directory", d, at, mt)
	l := filepath.Join(dir, "l")
	if err := os.Symlink("f", l); err != nil {
		t.Fatal(err)
	}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, l, []unix.Timespec{at, mt2}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatalf("utimensat AT_SYMLINK_NOFOLLOW: %v", err)
	}
	check("symlink", l, at, mt2)
	// A write moves mtime to now.
	if err := unix.UtimesNano(p, []unix.Timespec{at, mt}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("later"), 3); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if st := pxStat(t, p); st.Mtim.Sec < 1_700_000_000 || st.Ctim.Sec < 1_700_000_000 {
		t.Errorf("after a write: mtime %v ctime %v, want now", st.Mtim, st.Ctim)
	}
}

func testStatfs(t *testing.T, dir string) {
	var s unix.Statfs_t
	if err := unix.Statfs(dir, &s); err != nil {
		t.Fatal(err)
	}
	if s.Bsize <= 0 || s.Frsize <= 0 || s.Blocks == 0 || s.Bfree > s.Blocks || s.Bavail > s.Bfree ||
		s.Files == 0 || s.Ffree > s.Files || s.Namelen <= 0 {
		t.Errorf("statfs: %+v", s)
	}
	p := filepath.Join(dir, "f")
	pxWriteFile(t, p, []byte("x"))
	f := pxOpen(t, p, os.O_RDONLY)
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Bsize != s.Bsize || fs.Blocks != s.Blocks {
		t.Errorf("fstatfs of a file %+v differs from statfs of its directory %+v", fs, s)
	}
	if out := sh(t, "df -P "+dir); !strings.Contains(out, "%") {
		t.Errorf("df: %s", out)
	}
}

// pxListxattr returns the xattr names of p.
func pxListxattr(t *testing.T, p string) []string {
	t.Helper()
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		t.Fatalf("listxattr: %v", err)
	}
	var names []string
	for name := range bytes.SplitSeq(buf[:n], []byte{0}) {
		if len(name) > 0 {
			names = append(names, string(name))
		}
	}
	return names
}

func testXattrUser(t *testing.T, dir string) {
	f, d := filepath.Join(dir, "f"), filepath.Join(dir, "d")
	pxWriteFile(t, f, []byte("content"))
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	big := pxData(3500, 14) // xattr-large tries 4000
	for _, p := range []string{f, d} {
		if err := unix.Setxattr(p, "user.test", []byte("hello"), 0); err != nil {
			t.Fatalf("setxattr user.test: %v", err)
		}
		if n, err := unix.Getxattr(p, "user.test", nil); n != 5 || err != nil {
			t.Errorf("getxattr size: %d, %v", n, err)
		}
		buf := make([]byte, 100)
		n, err := unix.Getxattr(p, "user.test", buf)
		if err != nil {
			t.Fatal(err)
		}
		pxSame(t, "getxattr user.test", buf[:n], []byte("hello"))
		_, err = unix.Getxattr(p, "user.test", make([]byte, 2))
		pxErrno(t, "getxattr into a short buffer", err, unix.ERANGE)
		if names := pxListxattr(t, p); !strings.Contains(strings.Join(names, " "), "user.test") {
			t.Errorf("listxattr: %q lacks user.test", names)
		}
		pxErrno(t, "setxattr XATTR_CREATE of an existing name", unix.Setxattr(p, "user.test", []byte("x"), unix.XATTR_CREATE), unix.EEXIST)
		pxErrno(t, "setxattr XATTR_REPLACE of a missing name", unix.Setxattr(p, "user.none", []byte("x"), unix.XATTR_REPLACE), unix.ENODATA)
		if err := unix.Setxattr(p, "user.big", big, 0); err != nil {
			t.Errorf("setxattr of %d bytes: %v", len(big), err)
		} else if n, err := unix.Getxattr(p, "user.big", make([]byte, 8000)); n != len(big) || err != nil {
			t.Errorf("getxattr of %d bytes: %d, %v", len(big), n, err)
		}
		if err := unix.Removexattr(p, "user.big"); err != nil {
			t.Error(err)
		}
		if err := unix.Removexattr(p, "user.test"); err != nil {
			t.Errorf("removexattr: %v", err)
		}
		_, err = unix.Getxattr(p, "user.test", buf)
		pxErrno(t, "getxattr after removexattr", err, unix.ENODATA)
		pxErrno(t, "removexattr of a missing name", unix.Removexattr(p, "user.test"), unix.ENODATA)
		if names := pxListxattr(t, p); strings.Contains(strings.Join(names, " "), "user.test") {
			t.Errorf("listxattr after removexattr: %q", names)
		}
	}
	// No user xattrs on a symlink (ext4 says EPERM).
	l := filepath.Join(dir, "l")
	if err := os.Symlink("f", l); err != nil {
		t.Fatal(err)
	}
	pxErrno(t, "lsetxattr user.test on a symlink", unix.Lsetxattr(l, "user.test", []byte("x"), 0), unix.EPERM)
	pxSame(t, "content after xattrs", pxReadFile(t, f), []byte("content"))
	needTool(t, "getfattr")
	sh(t, "setfattr -n user.tool -v value "+f)
	if out := sh(t, "getfattr --absolute-names --only-values -n user.tool "+f); out != "value" {
		t.Errorf("getfattr: %q", out)
	}
}

func testXattrLarge(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	pxWriteFile(t, f, []byte("content"))
	big := pxData(4000, 17)
	err := unix.Setxattr(f, "user.big", big, 0)
	if errors.Is(err, unix.ENOSPC) && strings.Contains(dir, "/zone/") {
		// ext4 keeps all of a file's xattrs in one 4096-byte block; a zone file's own
		// user.ezfs.file takes part of it.
		t.Skipf("known limitation: setxattr of a %d-byte user xattr on a zone file: %v", len(big), err)
	}
	if err != nil {
		t.Fatalf("setxattr of %d bytes: %v", len(big), err)
	}
	buf := make([]byte, 8000)
	n, err := unix.Getxattr(f, "user.big", buf)
	if err != nil {
		t.Fatal(err)
	}
	pxSame(t, "large xattr", buf[:n], big)
}

func testXattrEzfs(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	pxWriteFile(t, f, []byte("content"))
	// dir's parent is the zone root on the zone side (it carries the zone marker).
	for _, p := range []string{f, dir, filepath.Dir(dir)} {
		for _, name := range pxListxattr(t, p) {
			if strings.HasPrefix(name, "user.ezfs.") {
				t.Errorf("listxattr of %s shows %s", filepath.Base(p), name)
			}
		}
		for _, name := range []string{"user.ezfs.file", "user.ezfs.zone", "user.ezfs.other"} {
			_, err := unix.Getxattr(p, name, make([]byte, 4096))
			pxErrno(t, "getxattr "+name, err, unix.ENODATA)
			pxErrno(t, "setxattr "+name, unix.Setxattr(p, name, []byte("x"), 0), unix.EPERM)
			pxErrno(t, "removexattr "+name, unix.Removexattr(p, name), unix.EPERM)
		}
	}
	pxSame(t, "content after refused xattr changes", pxReadFile(t, f), []byte("content"))
	needTool(t, "getfattr")
	if out := sh(t, "getfattr --absolute-names -d -m - "+f+" "+dir+" 2>&1"); strings.Contains(out, "ezfs") {
		t.Errorf("getfattr -d -m - shows ezfs's attributes:\n%s", out)
	}
}

func testLockPOSIX(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	pxWriteFile(t, p, pxData(1000, 15))
	f1, f2 := pxOpen(t, p, os.O_RDWR), pxOpen(t, p, os.O_RDWR)
	lock := func(f *os.File, cmd int, typ int16, start, n int64) error {
		lk := unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: start, Len: n}
		return unix.FcntlFlock(f.Fd(), cmd, &lk)
	}
	if err := lock(f1, unix.F_OFD_SETLK, unix.F_WRLCK, 0, 100); err != nil {
		t.Fatalf("F_OFD_SETLK: %v", err)
	}
	pxErrno(t, "conflicting F_OFD_SETLK", lock(f2, unix.F_OFD_SETLK, unix.F_WRLCK, 50, 100), unix.EAGAIN)
	pxErrno(t, "conflicting F_OFD_SETLK read lock", lock(f2, unix.F_OFD_SETLK, unix.F_RDLCK, 0, 1), unix.EAGAIN)
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: 0, Len: 10}
	if err := unix.FcntlFlock(f2.Fd(), unix.F_OFD_GETLK, &lk); err != nil || lk.Type != unix.F_WRLCK || lk.Start != 0 || lk.Len != 100 {
		t.Errorf("F_OFD_GETLK: %+v, %v; want the write lock 0+100", lk, err)
	}
	if err := lock(f2, unix.F_OFD_SETLK, unix.F_WRLCK, 100, 50); err != nil {
		t.Errorf("F_OFD_SETLK of a disjoint range: %v", err)
	}
	if err := lock(f1, unix.F_OFD_SETLK, unix.F_UNLCK, 0, 100); err != nil {
		t.Fatal(err)
	}
	if err := lock(f2, unix.F_OFD_SETLK, unix.F_WRLCK, 0, 100); err != nil {
		t.Errorf("F_OFD_SETLK after the unlock: %v", err)
	}
	if err := lock(f2, unix.F_OFD_SETLK, unix.F_UNLCK, 0, 0); err != nil {
		t.Fatal(err)
	}

	// Classic per-process locks against another process.
	needTool(t, "python3")
	child := func() string {
		t.Helper()
		out, _ := pxRun("python3", "-c", `
import fcntl, sys
f = open(sys.argv[1], "r+")
try:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 20)
    print("locked")
except OSError as e:
    print(e.errno)
`, p)
		return strings.TrimSpace(out)
	}
	if err := lock(f1, unix.F_SETLK, unix.F_WRLCK, 0, 0); err != nil {
		t.Fatalf("F_SETLK: %v", err)
	}
	if got := child(); got != "11" {
		t.Errorf("another process's F_SETLK on a locked range: %q, want errno 11 (EAGAIN)", got)
	}
	if err := lock(f1, unix.F_SETLK, unix.F_UNLCK, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := lock(f1, unix.F_SETLK, unix.F_RDLCK, 0, 20); err != nil { // the child asks for 20+10
		t.Fatal(err)
	}
	if got := child(); got != "locked" {
		t.Errorf("another process's F_SETLK on a free range: %q, want locked", got)
	}
}

// pxRun runs a program and returns its combined output and error.
func pxRun(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func testLockFlock(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	pxWriteFile(t, p, []byte("x"))
	f1, f2 := pxOpen(t, p, os.O_RDWR), pxOpen(t, p, os.O_RDONLY)
	if err := unix.Flock(int(f1.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatalf("flock LOCK_EX: %v", err)
	}
	pxErrno(t, "second flock LOCK_EX|LOCK_NB", unix.Flock(int(f2.Fd()), unix.LOCK_EX|unix.LOCK_NB), unix.EWOULDBLOCK)
	pxErrno(t, "flock LOCK_SH|LOCK_NB against LOCK_EX", unix.Flock(int(f2.Fd()), unix.LOCK_SH|unix.LOCK_NB), unix.EWOULDBLOCK)
	needTool(t, "flock")
	if _, err := pxRun("flock", "-n", "-s", p, "true"); err == nil {
		t.Error("flock(1) -n -s got a lock held LOCK_EX")
	}
	if err := unix.Flock(int(f1.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*os.File{f1, f2} {
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
			t.Errorf("shared flock: %v", err)
		}
	}
	if out, err := pxRun("flock", "-n", "-s", p, "true"); err != nil {
		t.Errorf("flock(1) -n -s beside shared locks: %v %s", err, out)
	}
	if _, err := pxRun("flock", "-n", "-x", p, "true"); err == nil {
		t.Error("flock(1) -n -x got a lock held LOCK_SH")
	}
	f1.Close()
	f2.Close()
	if out, err := pxRun("flock", "-n", "-x", p, "true"); err != nil {
		t.Errorf("flock(1) -n -x once the fds are closed: %v %s", err, out)
	}
}

func testStatSizes(t *testing.T, dir string) {
	for _, size := range []int{0, 1, 4095, 4096, 4097, 100000} {
		p := filepath.Join(dir, "s"+strings.Repeat("0", 6-len(strconv.Itoa(size)))+strconv.Itoa(size))
		f := pxOpen(t, p, os.O_RDWR|os.O_CREATE)
		data := pxData(size, uint64(size))
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		if st := pxFstat(t, f); st.Size != int64(size) {
			t.Errorf("fstat of an open %d-byte file: size %d", size, st.Size)
		}
		f.Close()
		st := pxStat(t, p)
		if st.Size != int64(size) {
			t.Errorf("stat of a %d-byte file: size %d", size, st.Size)
		}
		if ls := strings.Fields(sh(t, "ls -l "+p)); len(ls) < 5 || ls[4] != strconv.Itoa(size) {
			t.Errorf("ls -l of a %d-byte file: %v", size, ls)
		}
		if du := strings.Fields(sh(t, "du -b "+p)); len(du) == 0 || du[0] != strconv.Itoa(size) {
			t.Errorf("du -b of a %d-byte file: %v", size, du)
		}
		// du: a dense file uses at least its size, and not much more than ext4 would.
		used, rounded := st.Blocks*512, int64(size+4095)&^4095
		if used < int64(size) || used > 2*rounded+16384 {
			t.Errorf("%d-byte file: st_blocks %d (%d bytes), want between %d and %d bytes", size, st.Blocks, used, size, 2*rounded+16384)
		}
		pxSame(t, "content", pxReadFile(t, p), data)
	}
}

func testReaddir(t *testing.T, dir string) {
	var want []string
	for i := range 300 {
		name := "f" + strings.Repeat("0", 3-len(strconv.Itoa(i))) + strconv.Itoa(i)
		pxWriteFile(t, filepath.Join(dir, name), nil)
		want = append(want, name)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f000", filepath.Join(dir, "ln")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "ln", "sub")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
		switch {
		case e.Name() == "sub" && !e.IsDir(), e.Name() == "ln" && e.Type() != os.ModeSymlink,
			strings.HasPrefix(e.Name(), "f") && !e.Type().IsRegular():
			t.Errorf("%s has type %v", e.Name(), e.Type())
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("readdir: %d names %q...; want %d names", len(got), got[:min(len(got), 5)], len(want))
	}
	if ls := strings.Fields(sh(t, "ls -A "+dir)); len(ls) != len(want) {
		t.Errorf("ls -A: %d names, want %d", len(ls), len(want))
	}
	// Reading in batches, then again after a rewind.
	d := pxOpen(t, dir, os.O_RDONLY)
	count := 0
	for {
		names, err := d.Readdirnames(7)
		count += len(names)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if count != len(want) {
		t.Errorf("readdir in batches of 7: %d names, want %d", count, len(want))
	}
	if err := os.Remove(filepath.Join(dir, "f123")); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != len(want)-1 {
		t.Errorf("readdir after an unlink: %d names, want %d", len(ents), len(want)-1)
	}
	// An empty directory lists nothing but . and ..; no ancestor shows hidden files.
	empty := filepath.Join(dir, "sub")
	if ls := strings.Fields(sh(t, "ls -a "+empty)); strings.Join(ls, " ") != ". .." {
		t.Errorf("ls -a of an empty directory: %q", ls)
	}
	for _, p := range []string{filepath.Dir(dir), filepath.Dir(filepath.Dir(dir))} {
		ents, err := os.ReadDir(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("readdir of %s shows %s", p, e.Name())
			}
		}
		if _, err := os.Lstat(filepath.Join(p, ".ezfs")); !errors.Is(err, unix.ENOENT) {
			t.Errorf("lstat %s/.ezfs: %v, want ENOENT", p, err)
		}
	}
}

func testUnlinkOpen(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	data := pxData(9000, 16)
	pxWriteFile(t, p, data)
	f := pxOpen(t, p, os.O_RDWR)
	g := pxOpen(t, p, os.O_RDONLY)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, unix.ENOENT) {
		t.Errorf("stat after unlink: %v", err)
	}
	pxSame(t, "read through the open fd after unlink", pxReadAt(t, f, 0, 9000), data)
	if _, err := f.WriteAt([]byte("after unlink"), 4090); err != nil {
		t.Fatalf("write after unlink: %v", err)
	}
	copy(data[4090:], "after unlink")
	if _, err := f.WriteAt([]byte("grown"), 20000); err != nil {
		t.Fatalf("write past EOF after unlink: %v", err)
	}
	data = append(append(data, make([]byte, 11000)...), "grown"...)
	pxSame(t, "read back after unlink", pxReadAt(t, f, 0, len(data)), data)
	pxSame(t, "second fd after unlink", pxReadAt(t, g, 0, len(data)), data)
	st := pxFstat(t, f)
	if st.Size != int64(len(data)) || st.Nlink != 0 {
		t.Errorf("fstat after unlink: size %d nlink %d, want %d and 0", st.Size, st.Nlink, len(data))
	}
	if err := f.Truncate(100); err != nil {
		t.Errorf("ftruncate after unlink: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Errorf("fsync after unlink: %v", err)
	}
	// A new file under the old name is another file.
	pxWriteFile(t, p, []byte("new"))
	pxCheck(t, "new file under the old name", p, []byte("new"))
	pxSame(t, "unlinked file after the new one", pxReadAt(t, f, 0, 100), data[:100])
}
