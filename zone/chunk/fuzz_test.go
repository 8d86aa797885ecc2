package chunk

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds arbitrary sealed bytes to OpenRun. It must never panic,
// fail only with ErrAuth or ErrTruncated, and whatever opens must re-seal
// to the same bytes under the same nonce (no malleability). What
// OpenRunInPlace opens must be what OpenRun opens.
func FuzzOpen(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		v, err := parseVector(data)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(v.suite), v.key, v.fileID[:], v.index, v.final, v.sealed)
	}
	f.Fuzz(func(t *testing.T, suite uint8, key, fileID []byte, index uint64, final bool, sealed []byte) {
		if len(key) != KeyLen || len(fileID) != 16 || !Suite(suite).Valid() {
			return
		}
		c, err := New(Suite(suite), key, [16]byte(fileID), Layout{ChunkSize: vecChunk})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := c.OpenRun(nil, sealed, index, final)
		if err != nil && !errors.Is(err, ErrAuth) && !errors.Is(err, ErrTruncated) {
			t.Fatalf("unexpected error class: %v", err)
		}
		if got, ok := c.OpenRunInPlace(bytes.Clone(sealed), index, final); ok && (err != nil || !bytes.Equal(got, plain)) {
			t.Fatalf("in place: %d bytes opened where OpenRun gives %d bytes, %v", len(got), len(plain), err)
		}
		if err != nil {
			sealed = sealed[:len(plain)/vecChunk*(vecChunk+Overhead)]
		}
		checkReseal(t, c, sealed, index)
	})
}

// checkReseal re-seals every opened chunk with its own nonce.
func checkReseal(t *testing.T, c *Cipher, sealed []byte, index uint64) {
	ss := vecChunk + Overhead
	for i := 0; len(sealed) > 0; i++ {
		piece := sealed[:min(ss, len(sealed))]
		sealed = sealed[len(piece):]
		plain, kind, err := c.open(nil, piece, index+uint64(i), false)
		if err != nil {
			t.Fatalf("chunk %d opened in the run but not alone: %v", i, err)
		}
		if !resealMatches(t, c, piece, plain, index+uint64(i), kind) {
			t.Fatalf("chunk %d (kind %d) does not re-seal to the same bytes", i, kind)
		}
	}
}

func resealMatches(t *testing.T, c *Cipher, piece, plain []byte, index uint64, kind openKind) bool {
	switch kind {
	case openedHole:
		return isZero(piece) && isZero(plain)
	case openedRemnant:
		for s := Overhead + 1; s < len(piece); s++ {
			if isZero(piece[s:]) && isZero(plain[s-Overhead:]) &&
				bytes.Equal(reseal(t, c, piece[:NonceLen], plain[:s-Overhead], index, true), piece[:s]) {
				return true
			}
		}
		return false
	}
	return bytes.Equal(reseal(t, c, piece[:NonceLen], plain, index, kind == openedLast), piece)
}

// reseal seals plain with a fresh cipher of the same key whose nonce
// source yields nonce (for XAES: the prefix, then the suffix).
func reseal(t *testing.T, c *Cipher, nonce, plain []byte, index uint64, last bool) []byte {
	n := &Cipher{suite: c.suite, layout: c.layout, fileID: c.fileID, xc: c.xc}
	if c.x != nil {
		n.x = &xaes{block: c.x.block, k1: c.x.k1, cache: map[[prefixLen]byte]cipher.AEAD{}}
	}
	n.rand = bytes.NewReader(nonce)
	return n.Seal(nil, plain, index, last)
}
