package content_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ezfs/ezfs/zone/chunk"
	"github.com/ezfs/ezfs/zone/content"
)

var (
	seedFlag = flag.Uint64("seed", 0, "seed of the model test (0: time-based)")
	stepFlag = flag.Int("steps", 1500, "steps of the model test")
)

// rng is splitmix64: a seeded, reproducible source for the model test.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) intn(n int64) int64 { return int64(r.next() % uint64(n)) }

func (r *rng) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.next())
	}
	return b
}

var testKey = bytes.Repeat([]byte{9}, chunk.KeyLen)

func newCipher(t testing.TB, s chunk.Suite, cs int) *chunk.Cipher {
	t.Helper()
	c, err := chunk.New(s, testKey, [16]byte{4, 2}, chunk.Layout{ChunkSize: cs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newFile opens a fresh backing file in a temp dir and its plaintext view.
func newFile(t testing.TB, s chunk.Suite, cs int) (*content.File, *os.File) {
	t.Helper()
	b, err := os.OpenFile(filepath.Join(t.TempDir(), "backing"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return reopen(t, b, s, cs), b
}

func reopen(t testing.TB, b *os.File, s chunk.Suite, cs int) *content.File {
	t.Helper()
	f, err := content.Open(b, newCipher(t, s, cs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readAll reads the whole plaintext through ReadAt.
func readAll(t testing.TB, f *content.File) []byte {
	t.Helper()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, size+10)
	n, err := f.ReadAt(p, 0)
	if int64(n) != size || (err != io.EOF) {
		t.Fatalf("read all: n=%d size=%d err=%v", n, size, err)
	}
	return p[:n]
}

// mustWriteBehind writes p at off through WriteBehind, then scribbles over
// p: the background write must have taken its own copy.
func mustWriteBehind(t testing.TB, f *content.File, p []byte, off int64) {
	t.Helper()
	if n, err := f.WriteBehind(p, off); err != nil || n != len(p) {
		t.Fatalf("write behind %d at %d: n=%d err=%v", len(p), off, n, err)
	}
	for i := range p {
		p[i] ^= 0xff
	}
}

func mustWrite(t testing.TB, f *content.File, p []byte, off int64) {
	t.Helper()
	if n, err := f.WriteAt(p, off); err != nil || n != len(p) {
		t.Fatalf("write %d at %d: n=%d err=%v", len(p), off, n, err)
	}
}

func TestModel(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	for _, s := range []chunk.Suite{chunk.AES256GCM, chunk.XChaCha20Poly1305} {
		t.Run(s.String(), func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("reproduce with -seed=%d", seed)
				}
			}()
			runModel(t, s, &rng{s: seed})
		})
	}
}

func runModel(t *testing.T, s chunk.Suite, r *rng) {
	const cs = 4096
	f, b := newFile(t, s, cs)
	var model []byte
	for step := 0; step < *stepFlag && !t.Failed(); step++ {
		op := modelStep(t, r, &f, b, &model, s)
		if got := readAll(t, f); !bytes.Equal(got, model) {
			t.Fatalf("step %d (%s): content differs (len %d, want %d)", step, op, len(got), len(model))
		}
	}
}

// modelStep applies one random operation to the File and the model.
func modelStep(t *testing.T, r *rng, f **content.File, b *os.File, model *[]byte, s chunk.Suite) string {
	size := int64(len(*model))
	switch k := r.intn(10); {
	case k < 5:
		off, n := r.intn(size+3*4096), 1+r.intn(3*4096)
		large := r.intn(8) == 0
		if large {
			n = 1 + r.intn(200<<10) // large: long runs, maybe stored in the background
		}
		if r.intn(4) == 0 { // chunk-aligned: sealed straight from p
			off -= off % 4096
			if r.intn(2) == 0 {
				n = (n + 4095) / 4096 * 4096
			}
		}
		p := r.bytes(int(n))
		if large && r.intn(2) == 0 {
			*model = modelWrite(*model, p, off)
			mustWriteBehind(t, *f, p, off)
			return fmt.Sprintf("write behind %d at %d", n, off)
		}
		mustWrite(t, *f, p, off)
		*model = modelWrite(*model, p, off)
		return fmt.Sprintf("write %d at %d", n, off)
	case k < 6:
		p := r.bytes(int(1 + r.intn(9000)))
		mustWrite(t, *f, p, size)
		*model = append(*model, p...)
		return fmt.Sprintf("append %d", len(p))
	case k < 8:
		n := r.intn(size + 5*4096)
		if r.intn(2) == 0 {
			n = r.intn(size + 1)
		}
		if err := (*f).Truncate(n); err != nil {
			t.Fatal(err)
		}
		*model = modelTruncate(*model, n)
		return fmt.Sprintf("truncate %d", n)
	case k < 9:
		if err := (*f).Flush(); err != nil {
			t.Fatal(err)
		}
		*f = reopen(t, b, s, 4096)
		return "reopen"
	}
	checkRandomRead(t, r, *f, *model)
	return "read"
}

func modelWrite(m, p []byte, off int64) []byte {
	if end := off + int64(len(p)); end > int64(len(m)) {
		m = append(m, make([]byte, end-int64(len(m)))...)
	}
	copy(m[off:], p)
	return m
}

func modelTruncate(m []byte, n int64) []byte {
	if n <= int64(len(m)) {
		return m[:n]
	}
	return append(m, make([]byte, n-int64(len(m)))...)
}

func checkRandomRead(t *testing.T, r *rng, f *content.File, model []byte) {
	off, n := r.intn(int64(len(model))+100), 1+r.intn(20000)
	p := make([]byte, n)
	got, err := f.ReadAt(p, off)
	want := max(0, min(int64(len(model))-off, n))
	if int64(got) != want || (want < n) != (err == io.EOF) || (err != nil && err != io.EOF) {
		t.Fatalf("read %d at %d: got %d, %v; want %d", n, off, got, err, want)
	}
	if want > 0 && !bytes.Equal(p[:got], model[off:off+want]) {
		t.Fatalf("read %d at %d: wrong bytes", n, off)
	}
}

func TestConcurrentDisjointWrites(t *testing.T) {
	f, _ := newFile(t, chunk.AES256GCM, 4096)
	const workers, span = 6, 50000 // spans share chunks at their edges
	want := make([]byte, workers*span)
	var wg sync.WaitGroup
	for w := range workers {
		r := &rng{s: uint64(w + 1)}
		copy(want[w*span:], r.bytes(span))
		wg.Go(func() {
			for off := 0; off < span; off += 1000 {
				mustWrite(t, f, want[w*span+off:w*span+min(off+1000, span)], int64(w*span+off))
			}
		})
	}
	wg.Wait()
	if !bytes.Equal(readAll(t, f), want) {
		t.Fatal("content differs after concurrent writes")
	}
}

// corrupt applies edit to the backing file's bytes.
func corrupt(t *testing.T, b *os.File, edit func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(b.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.Name(), edit(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDamage(t *testing.T) {
	const cs, ss = 4096, 4096 + chunk.Overhead
	for _, tc := range []struct {
		name    string
		edit    func([]byte) []byte
		badAt   int64 // plaintext offset whose read fails
		okAt    int64 // plaintext offset that stays readable
		wantErr error
		index   uint64
	}{
		{"flipped-byte", func(b []byte) []byte { b[ss+100] ^= 1; return b }, cs, 0, chunk.ErrAuth, 1},
		{"cut-at-boundary", func(b []byte) []byte { return b[:2*ss] }, cs, 0, chunk.ErrAuth, 1},
		{"cut-mid-chunk", func(b []byte) []byte { return b[:2*ss+20] }, 2 * cs, cs, chunk.ErrTruncated, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, b := newFile(t, chunk.AES256GCM, cs)
			mustWrite(t, f, bytes.Repeat([]byte("z"), 3*cs+10), 0)
			corrupt(t, b, tc.edit)
			p := make([]byte, 100)
			if _, err := f.ReadAt(p, tc.okAt); err != nil {
				t.Fatalf("read of intact chunk: %v", err)
			}
			_, err := f.ReadAt(p, tc.badAt)
			checkDamage(t, err, tc.wantErr, tc.index)
		})
	}
}

func checkDamage(t *testing.T, err, want error, index uint64) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("want %v, got %v", want, err)
	}
	var ae *chunk.AuthError
	if want == chunk.ErrAuth && (!errors.As(err, &ae) || ae.Index != index) {
		t.Fatalf("want AuthError{%d}, got %v", index, err)
	}
}

func TestCutMidChunkSizeAndRepair(t *testing.T) {
	f, b := newFile(t, chunk.XChaCha20Poly1305, 4096)
	mustWrite(t, f, bytes.Repeat([]byte("q"), 9000), 0)
	corrupt(t, b, func(d []byte) []byte { return d[:2*4136+7] })
	if _, err := f.Size(); !errors.Is(err, chunk.ErrTruncated) {
		t.Fatalf("Size: want ErrTruncated, got %v", err)
	}
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, chunk.ErrTruncated) {
		t.Fatalf("WriteAt: want ErrTruncated, got %v", err)
	}
	if err := f.Truncate(5000); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, f); !bytes.Equal(got, bytes.Repeat([]byte("q"), 5000)) {
		t.Fatal("content after repair")
	}
}

func TestTornAppendRemnant(t *testing.T) {
	f, b := newFile(t, chunk.AES256GCM, 4096)
	head := bytes.Repeat([]byte("h"), 1000)
	mustWrite(t, f, head, 0)
	old, _ := os.ReadFile(b.Name())
	tail := bytes.Repeat([]byte("t"), 6000)
	mustWrite(t, f, tail, 1000)
	// Crash remnant: the new tail is on disk but chunk 0 is still the old
	// final chunk (1000 bytes, sealed as last), followed by zeros.
	corrupt(t, b, func(d []byte) []byte {
		clear(d[:4136])
		copy(d, old)
		return d
	})
	want := append(append(bytes.Clone(head), make([]byte, 4096-1000)...), tail[3096:]...)
	if got := readAll(t, f); !bytes.Equal(got, want) {
		t.Fatal("remnant not read as old chunk plus zeros")
	}
}

func TestSparseTruncate(t *testing.T) {
	f, b := newFile(t, chunk.AES256GCM, 4096)
	mustWrite(t, f, []byte("hello"), 0)
	if err := f.Truncate(1 << 40); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(b.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Blocks*512 > 64<<10 {
		t.Fatalf("1 TiB truncate allocated %d bytes", st.Blocks*512)
	}
	p := make([]byte, 8192)
	if n, err := f.ReadAt(p, 1<<40-8192); n != 8192 || err != nil || !bytes.Equal(p, make([]byte, 8192)) {
		t.Fatalf("read of hole at end: %d, %v", n, err)
	}
	if n, err := f.ReadAt(p[:5], 0); n != 5 || err != nil || string(p[:5]) != "hello" {
		t.Fatalf("read head: %d %v %q", n, err, p[:5])
	}
}

func TestReadCutAtBoundary(t *testing.T) {
	f, b := newFile(t, chunk.AES256GCM, 4096)
	mustWrite(t, f, make([]byte, 3*4096), 0)
	corrupt(t, b, func(d []byte) []byte { return d[:2*4136] })
	if _, err := f.ReadAt(make([]byte, 1), 2*4096-1); !errors.Is(err, chunk.ErrAuth) {
		t.Fatalf("read of the new final chunk: want ErrAuth, got %v", err)
	}
}

// TestWriteBehindErrors: an error of a write stored in the background comes
// back, once, from the next call that reports errors.
func TestWriteBehindErrors(t *testing.T) {
	for _, next := range []string{"flush", "sync", "write"} {
		t.Run(next, func(t *testing.T) {
			f, b := newFile(t, chunk.AES256GCM, 4096)
			mustWrite(t, f, bytes.Repeat([]byte("a"), 3*4096), 0)
			if _, err := b.WriteAt([]byte{0xff}, 4136+30); err != nil { // chunk 1 fails now
				t.Fatal(err)
			}
			// Starts inside chunk 1, so the background write must open it to patch it.
			if n, err := f.WriteBehind(make([]byte, 200<<10), 4096+100); err != nil || n != 200<<10 {
				t.Fatalf("write behind: n=%d err=%v", n, err)
			}
			var err error
			switch next {
			case "flush":
				err = f.Flush()
			case "sync":
				err = f.Sync()
			case "write":
				_, err = f.WriteAt([]byte("b"), 0)
			}
			if !errors.Is(err, chunk.ErrAuth) {
				t.Fatalf("%s after a failed background write: %v, want the chunk's authentication error", next, err)
			}
			if err := f.Flush(); err != nil {
				t.Fatalf("the error came back twice: %v", err)
			}
		})
	}
}

// TestWriteBehindFullDisk: a write that does not fit fails at once with
// ENOSPC (the reservation), and what was written before stays readable.
func TestWriteBehindFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	b, err := os.OpenFile(filepath.Join(dir, "backing"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f := reopen(t, b, chunk.AES256GCM, 4096)
	first := bytes.Repeat([]byte("x"), 512<<10)
	mustWriteBehind(t, f, bytes.Clone(first), 0)
	if _, err := f.WriteBehind(make([]byte, 1<<20), 512<<10); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write past a full disk: %v, want ENOSPC", err)
	}
	if err := f.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if got := readAll(t, f); !bytes.Equal(got, first) {
		t.Fatalf("after ENOSPC: %d bytes, want the %d written before", len(got), len(first))
	}
}
