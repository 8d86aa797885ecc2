package chunk_test

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"

	"github.com/ezfs/ezfs/zone/chunk"
)

var benchSizes = []int{4 << 10, 16 << 10, 64 << 10}

// BenchmarkSeal and BenchmarkOpen measure one chunk at a time, per suite
// and chunk size.
func BenchmarkSeal(b *testing.B) {
	for _, s := range suites {
		for _, cs := range benchSizes {
			b.Run(fmt.Sprintf("%v/%dKiB", s, cs>>10), func(b *testing.B) {
				c := newCipher(b, s, cs)
				plain, buf := make([]byte, cs), make([]byte, 0, cs+chunk.Overhead)
				b.SetBytes(int64(cs))
				for b.Loop() {
					c.Seal(buf, plain, 1, false)
				}
			})
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, s := range suites {
		for _, cs := range benchSizes {
			b.Run(fmt.Sprintf("%v/%dKiB", s, cs>>10), func(b *testing.B) {
				c := newCipher(b, s, cs)
				sealed, buf := c.Seal(nil, make([]byte, cs), 1, false), make([]byte, 0, cs)
				b.SetBytes(int64(cs))
				for b.Loop() {
					if _, err := c.Open(buf, sealed, 1, false); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSealRun and BenchmarkOpenRun measure a 1 MiB run (a FUSE
// request with max_write 1 MiB), split across runWorkers goroutines
// (none on a 2-core machine; -cpu 4 shows the split).
func BenchmarkSealRun(b *testing.B) {
	for _, s := range suites {
		for _, cs := range benchSizes {
			b.Run(fmt.Sprintf("%v/%dKiB", s, cs>>10), func(b *testing.B) {
				c := newCipher(b, s, cs)
				plain := make([]byte, 1<<20)
				buf := make([]byte, 0, c.Layout().BackingSize(1<<20))
				b.SetBytes(1 << 20)
				for b.Loop() {
					c.SealRun(buf, plain, 0, true)
				}
			})
		}
	}
}

func BenchmarkOpenRun(b *testing.B) {
	for _, s := range suites {
		for _, cs := range benchSizes {
			b.Run(fmt.Sprintf("%v/%dKiB", s, cs>>10), func(b *testing.B) {
				// Opened by a second Cipher of the file, as a mount's reader
				// opens what an earlier writer sealed (no writer subkey).
				sealed := newCipher(b, s, cs).SealRun(nil, make([]byte, 1<<20), 0, true)
				c, buf := newCipher(b, s, cs), make([]byte, 0, 1<<20)
				b.SetBytes(1 << 20)
				for b.Loop() {
					if _, err := c.OpenRun(buf, sealed, 0, true); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkXAESOverhead compares plain AES-256-GCM (12-byte nonce, no
// derivation) with XAES sealing under a cached subkey, and the cost of one
// subkey derivation (a reader cache miss).
func BenchmarkXAESOverhead(b *testing.B) {
	key := make([]byte, 32)
	blk, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(blk)
	for _, cs := range benchSizes {
		plain, buf := make([]byte, cs), make([]byte, 0, cs+chunk.Overhead)
		nonce := make([]byte, 12)
		b.Run(fmt.Sprintf("plain-gcm/%dKiB", cs>>10), func(b *testing.B) {
			b.SetBytes(int64(cs))
			for b.Loop() {
				gcm.Seal(buf, nonce, plain, nonce)
			}
		})
		b.Run(fmt.Sprintf("xaes-cached/%dKiB", cs>>10), func(b *testing.B) {
			c := newCipher(b, chunk.AES256GCM, cs)
			b.SetBytes(int64(cs))
			for b.Loop() {
				c.Seal(buf, plain, 1, false)
			}
		})
	}
	b.Run("derive-subkey", func(b *testing.B) {
		nonce := make([]byte, 24)
		for i := 0; b.Loop(); i++ {
			nonce[0], nonce[1], nonce[2] = byte(i), byte(i>>8), byte(i>>16)
			chunk.XAESSeal(key, nonce, nil, nil)
		}
	})
	b.Run("new-xaes-and-derive", func(b *testing.B) {
		for b.Loop() {
			chunk.XAESSeal(key, make([]byte, 24), nil, nil)
		}
	})
}

// BenchmarkReadRun measures what a zone read does with 1 MiB of ciphertext:
// it arrives in a buffer (a copy here, a pread in the mount), then is opened
// into a second buffer (OpenRun) or where it lies (OpenRunInPlace). Eight
// buffers take turns, as concurrent requests' buffers do.
func BenchmarkReadRun(b *testing.B) {
	for _, s := range suites {
		for _, cs := range benchSizes {
			sealed := newCipher(b, s, cs).SealRun(nil, make([]byte, 1<<20), 0, true)
			var bufs, outs [8][]byte
			for i := range bufs {
				bufs[i], outs[i] = make([]byte, len(sealed)), make([]byte, 0, 1<<20)
			}
			c := newCipher(b, s, cs)
			b.Run(fmt.Sprintf("copy/%v/%dKiB", s, cs>>10), func(b *testing.B) {
				b.SetBytes(1 << 20)
				for i := 0; b.Loop(); i++ {
					copy(bufs[i%8], sealed)
					if _, err := c.OpenRun(outs[i%8], bufs[i%8], 0, true); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("in-place/%v/%dKiB", s, cs>>10), func(b *testing.B) {
				b.SetBytes(1 << 20)
				for i := 0; b.Loop(); i++ {
					copy(bufs[i%8], sealed)
					if _, ok := c.OpenRunInPlace(bufs[i%8], 0, true); !ok {
						b.Fatal("not opened")
					}
				}
			})
		}
	}
}
