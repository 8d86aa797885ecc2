package content_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ezfs/ezfs/zone/chunk"
)

const benchFile = 64 << 20 // file size for the random-I/O benchmarks

// target is what the benchmarks drive: a content.File or a plain os.File.
type target interface {
	io.ReaderAt
	io.WriterAt
}

func benchTargets(b *testing.B, fn func(b *testing.B, t target)) {
	b.Run("plain-os-file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "plain"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		fn(b, f)
	})
	for _, cs := range []int{4 << 10, 16 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("aes-256-gcm/%dKiB", cs>>10), func(b *testing.B) {
			f, _ := newFile(b, chunk.AES256GCM, cs)
			fn(b, f)
		})
	}
}

func BenchmarkSeqWrite1MiB(b *testing.B) {
	benchTargets(b, func(b *testing.B, t target) {
		p := make([]byte, 1<<20)
		b.SetBytes(1 << 20)
		for i := 0; b.Loop(); i++ {
			if _, err := t.WriteAt(p, int64(i%64)<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSeqRead1MiB(b *testing.B) {
	benchTargets(b, func(b *testing.B, t target) {
		fill(b, t)
		p := make([]byte, 1<<20)
		b.SetBytes(1 << 20)
		for i := 0; b.Loop(); i++ {
			if _, err := t.ReadAt(p, int64(i%64)<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRandWrite4KiB(b *testing.B) {
	benchTargets(b, func(b *testing.B, t target) {
		fill(b, t)
		r, p := &rng{s: 1}, make([]byte, 4096)
		b.SetBytes(4096)
		for b.Loop() {
			if _, err := t.WriteAt(p, r.intn(benchFile/4096)*4096); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRandRead4KiB(b *testing.B) {
	benchTargets(b, func(b *testing.B, t target) {
		fill(b, t)
		r, p := &rng{s: 1}, make([]byte, 4096)
		b.SetBytes(4096)
		for b.Loop() {
			if _, err := t.ReadAt(p, r.intn(benchFile/4096)*4096); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func fill(b *testing.B, t target) {
	p := make([]byte, 1<<20)
	for off := int64(0); off < benchFile; off += 1 << 20 {
		if _, err := t.WriteAt(p, off); err != nil {
			b.Fatal(err)
		}
	}
}
