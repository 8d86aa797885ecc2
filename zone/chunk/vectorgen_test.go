package chunk

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

const vecChunk = 4096

// genCase builds one vector from a plaintext; mutate may damage the sealed
// bytes and say what opening must then give.
type genCase struct {
	name   string
	plain  int // plaintext length, filled with a pattern
	expect string
	mutate func(t *testing.T, v *vector, c *Cipher, plain []byte)
}

var genCases = []genCase{
	{name: "len=0", plain: 0, expect: "ok"},
	{name: "len=1", plain: 1, expect: "ok"},
	{name: "len=chunk", plain: vecChunk, expect: "ok"},
	{name: "len=chunk+1", plain: vecChunk + 1, expect: "ok"},
	{name: "flipped-bit", plain: vecChunk + 1, expect: "auth", mutate: func(_ *testing.T, v *vector, _ *Cipher, _ []byte) {
		v.sealed[NonceLen+100] ^= 0x10
	}},
	{name: "swapped-chunks", plain: 3 * vecChunk, expect: "auth", mutate: func(_ *testing.T, v *vector, _ *Cipher, _ []byte) {
		ss := vecChunk + Overhead
		a := bytes.Clone(v.sealed[:ss])
		copy(v.sealed[:ss], v.sealed[ss:2*ss])
		copy(v.sealed[ss:2*ss], a)
	}},
	{name: "other-file-id", plain: vecChunk + 1, expect: "auth", mutate: func(t *testing.T, v *vector, c *Cipher, plain []byte) {
		other, _ := New(c.suite, v.key, [16]byte{0xff}, c.layout)
		other.rand = c.rand
		copy(v.sealed, other.Seal(nil, plain[:vecChunk], 0, false))
	}},
	{name: "cut-at-boundary", plain: 2*vecChunk + 1, expect: "auth", mutate: func(_ *testing.T, v *vector, _ *Cipher, _ []byte) {
		v.sealed = v.sealed[:2*(vecChunk+Overhead)]
	}},
	{name: "cut-mid-tag", plain: vecChunk + 100, expect: "truncated", mutate: func(_ *testing.T, v *vector, _ *Cipher, _ []byte) {
		v.sealed = v.sealed[:vecChunk+Overhead+20]
	}},
	{name: "hole-middle", plain: 3 * vecChunk, expect: "ok", mutate: func(_ *testing.T, v *vector, _ *Cipher, plain []byte) {
		clear(v.sealed[vecChunk+Overhead : 2*(vecChunk+Overhead)])
		clear(plain[vecChunk : 2*vecChunk])
	}},
	{name: "hole-final", plain: vecChunk + 300, expect: "ok", mutate: func(_ *testing.T, v *vector, _ *Cipher, plain []byte) {
		clear(v.sealed[vecChunk+Overhead:])
		clear(plain[vecChunk:])
	}},
	{name: "torn-append-remnant", plain: 2*vecChunk + 5, expect: "ok", mutate: func(_ *testing.T, v *vector, c *Cipher, plain []byte) {
		// chunk 0 is the old final chunk of 1000 bytes, sealed as last.
		clear(plain[1000:vecChunk])
		clear(v.sealed[:vecChunk+Overhead])
		copy(v.sealed, c.Seal(nil, plain[:1000], 0, true))
	}},
}

// genVectors seals every case under both suites with deterministic nonces.
func genVectors(t *testing.T) map[string]*vector {
	out := map[string]*vector{}
	for _, s := range []Suite{AES256GCM, XChaCha20Poly1305} {
		for _, gc := range genCases {
			out[s.String()+"_"+gc.name] = genVector(t, s, gc)
		}
	}
	return out
}

func genVector(t *testing.T, s Suite, gc genCase) *vector {
	v := &vector{expect: gc.expect, suite: s, chunkSize: vecChunk, final: true}
	v.key = bytes.Repeat([]byte{byte(s)}, KeyLen)
	copy(v.fileID[:], "ezfs-vector-0001")
	c, err := New(s, v.key, v.fileID, Layout{ChunkSize: vecChunk})
	if err != nil {
		t.Fatal(err)
	}
	c.rand = &detReader{ctr: uint64(s) << 32}
	plain := make([]byte, gc.plain)
	for i := range plain {
		plain[i] = byte(i*7 + i>>8)
	}
	v.sealed = c.SealRun(nil, plain, 0, true)
	if gc.mutate != nil {
		gc.mutate(t, v, c, plain)
	}
	v.plainHash = sha256.Sum256(plain)
	return v
}
