package chunk_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/ezfs/ezfs/zone/chunk"
)

var suites = []chunk.Suite{chunk.AES256GCM, chunk.XChaCha20Poly1305}

func newCipher(t testing.TB, s chunk.Suite, cs int) *chunk.Cipher {
	t.Helper()
	c, err := chunk.New(s, bytes.Repeat([]byte{7}, chunk.KeyLen), [16]byte{1, 2, 3}, chunk.Layout{ChunkSize: cs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLayout(t *testing.T) {
	l := chunk.Layout{ChunkSize: 4096}
	for _, tc := range []struct {
		name           string
		plain, backing int64
	}{
		{"len=0", 0, 0},
		{"len=1", 1, 41},
		{"len=chunk", 4096, 4136},
		{"len=chunk+1", 4097, 4136 + 41},
		{"len=2chunks", 8192, 8272},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.BackingSize(tc.plain); got != tc.backing {
				t.Fatalf("BackingSize(%d) = %d, want %d", tc.plain, got, tc.backing)
			}
			if got, err := l.PlainSize(tc.backing); err != nil || got != tc.plain {
				t.Fatalf("PlainSize(%d) = %d, %v; want %d", tc.backing, got, err, tc.plain)
			}
		})
	}
	for _, b := range []int64{1, 40, 4136 + 1, 4136 + 40, -1} {
		t.Run(fmt.Sprintf("impossible=%d", b), func(t *testing.T) {
			if _, err := l.PlainSize(b); !errors.Is(err, chunk.ErrTruncated) {
				t.Fatalf("PlainSize(%d): want ErrTruncated, got %v", b, err)
			}
		})
	}
}

func TestCheckChunkSize(t *testing.T) {
	for n, ok := range map[int]bool{4096: true, 1 << 20: true, 65536: true, 2048: false, 2 << 20: false, 5000: false, 0: false} {
		if err := chunk.CheckChunkSize(n); (err == nil) != ok {
			t.Errorf("CheckChunkSize(%d) = %v", n, err)
		}
	}
}

func TestParseSuite(t *testing.T) {
	for _, s := range suites {
		if got, err := chunk.ParseSuite(s.String()); err != nil || got != s {
			t.Errorf("ParseSuite(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := chunk.ParseSuite("rot13"); !errors.Is(err, chunk.ErrSuite) {
		t.Errorf("ParseSuite(rot13): %v", err)
	}
	if !chunk.DefaultSuite().Valid() {
		t.Error("DefaultSuite not valid")
	}
}

func TestSealOpen(t *testing.T) {
	for _, s := range suites {
		c := newCipher(t, s, 4096)
		for _, tc := range []struct {
			name        string
			n           int
			sealedLast  bool
			openFinal   bool
			wantAuthErr bool
		}{
			{"len=1/last", 1, true, true, false},
			{"len=chunk/last", 4096, true, true, false},
			{"len=chunk/middle", 4096, false, false, false},
			{"cut-at-boundary", 4096, false, true, true},
			{"torn-append-remnant", 4096, true, false, false},
		} {
			t.Run(s.String()+"/"+tc.name, func(t *testing.T) {
				plain := make([]byte, tc.n)
				rand.Read(plain)
				sealed := c.Seal([]byte("hdr"), plain, 9, tc.sealedLast)
				if len(sealed) != 3+tc.n+chunk.Overhead {
					t.Fatalf("sealed len %d", len(sealed))
				}
				got, err := c.Open([]byte("x"), sealed[3:], 9, tc.openFinal)
				checkOpen(t, got, err, append([]byte("x"), plain...), tc.wantAuthErr, 9)
			})
		}
	}
}

func checkOpen(t *testing.T, got []byte, err error, want []byte, wantAuth bool, index uint64) {
	t.Helper()
	if wantAuth {
		var ae *chunk.AuthError
		if !errors.As(err, &ae) || ae.Index != index || !errors.Is(err, chunk.ErrAuth) {
			t.Fatalf("want AuthError{%d}, got %v", index, err)
		}
		return
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("open: %v (equal=%t)", err, bytes.Equal(got, want))
	}
}

func TestTamper(t *testing.T) {
	for _, s := range suites {
		c := newCipher(t, s, 4096)
		sealed := c.Seal(nil, []byte("hello"), 3, true)
		for _, tc := range []struct {
			name  string
			edit  func(b []byte) []byte
			index uint64
		}{
			{"flipped-nonce", func(b []byte) []byte { b[0] ^= 1; return b }, 3},
			{"flipped-tag", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, 3},
			{"wrong-index", func(b []byte) []byte { return b }, 4},
			{"nonzero-hole", func(b []byte) []byte { clear(b); b[30] = 1; return b }, 3},
		} {
			t.Run(s.String()+"/"+tc.name, func(t *testing.T) {
				_, err := c.Open(nil, tc.edit(bytes.Clone(sealed)), tc.index, true)
				checkOpen(t, nil, err, nil, true, tc.index)
			})
		}
	}
}

func TestHole(t *testing.T) {
	c := newCipher(t, chunk.AES256GCM, 4096)
	for _, n := range []int{1, 100, 4096} {
		got, err := c.Open(nil, make([]byte, n+chunk.Overhead), 0, true)
		if err != nil || len(got) != n || !bytes.Equal(got, make([]byte, n)) {
			t.Fatalf("hole of %d: %v, len %d", n, err, len(got))
		}
	}
	if _, err := c.Open(nil, make([]byte, chunk.Overhead), 0, true); !errors.Is(err, chunk.ErrTruncated) {
		t.Fatalf("short chunk: %v", err)
	}
}

func TestRun(t *testing.T) {
	for _, workers := range []int{1, 3} { // serial, and split into three ranges
		restore := chunk.SetRunWorkers(workers)
		for _, s := range suites {
			for _, n := range []int{1, 4096, 4097, 64 << 10, 1<<20 - 1, 1 << 20} {
				t.Run(fmt.Sprintf("workers=%d/%v/len=%d", workers, s, n), func(t *testing.T) { checkRun(t, newCipher(t, s, 4096), n) })
			}
		}
		restore()
	}
}

func checkRun(t *testing.T, c *chunk.Cipher, n int) {
	plain := make([]byte, n)
	rand.Read(plain)
	sealed := c.SealRun(nil, plain, 5, true)
	if int64(len(sealed)) != c.Layout().BackingSize(int64(n)) {
		t.Fatalf("sealed len %d", len(sealed))
	}
	got, err := c.OpenRun(nil, sealed, 5, true)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open run: %v", err)
	}
	inPlace := bytes.Clone(sealed)
	if got, ok := c.OpenRunInPlace(inPlace, 5, true); !ok || !bytes.Equal(got, plain) || &got[0] != &inPlace[0] {
		t.Fatalf("open run in place: ok %v, equal %v", ok, bytes.Equal(got, plain))
	}
	if _, ok := c.OpenRunInPlace(bytes.Clone(sealed), 5, false); ok {
		t.Fatal("open run in place: a final chunk opened as a middle one")
	}
	if n <= 2*4096 {
		return
	}
	sealed[2*4136+50] ^= 1 // chunk index 5+2 fails; chunks 5, 6 come back
	got, err = c.OpenRun(nil, sealed, 5, true)
	checkOpen(t, nil, err, nil, true, 7)
	if !bytes.Equal(got, plain[:2*4096]) {
		t.Fatalf("prefix before failing chunk: len %d", len(got))
	}
	if _, ok := c.OpenRunInPlace(sealed, 5, true); ok {
		t.Fatal("open run in place: a tampered chunk opened")
	}
}

func TestSubkeyRotation(t *testing.T) {
	defer chunk.SetMaxSubkeyUses(3)()
	w := newCipher(t, chunk.AES256GCM, 4096)
	r := newCipher(t, chunk.AES256GCM, 4096)
	prefixes := map[string]bool{}
	for i := range 10 {
		sealed := w.Seal(nil, []byte("x"), uint64(i), true)
		prefixes[string(chunk.WriterPrefix(w))] = true
		if _, err := r.Open(nil, sealed, uint64(i), true); err != nil {
			t.Fatal(err)
		}
	}
	if len(prefixes) != 4 || chunk.CachedSubkeys(r) != 4 {
		t.Fatalf("prefixes %d, reader cache %d; want 4, 4", len(prefixes), chunk.CachedSubkeys(r))
	}
}

func TestNoAllocs(t *testing.T) {
	for _, s := range suites {
		c := newCipher(t, s, 4096)
		plain := make([]byte, 4096)
		buf := make([]byte, 0, 4096+chunk.Overhead)
		out := make([]byte, 0, 4096)
		sealed := c.Seal(nil, plain, 0, false)
		allocs := testing.AllocsPerRun(100, func() {
			c.Seal(buf, plain, 0, false)
			c.Open(out, sealed, 0, false)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per seal+open", s, allocs)
		}
	}
}

func TestConcurrent(t *testing.T) {
	c := newCipher(t, chunk.AES256GCM, 4096)
	plain := make([]byte, 256<<10)
	rand.Read(plain)
	done := make(chan error)
	for range 4 {
		go func() {
			s := c.SealRun(nil, plain, 0, true)
			_, err := c.OpenRun(nil, s, 0, true)
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
