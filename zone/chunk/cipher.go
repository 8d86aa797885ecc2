package chunk

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeyLen is the DEK length of both suites.
const KeyLen = 32

// aadLen is file id (16) ‖ chunk index (8) ‖ last flag (1).
const aadLen = 16 + 8 + 1

// Cipher seals and opens the chunks of one file under its DEK. It is safe
// for concurrent use; buffers passed in stay owned by the caller.
type Cipher struct {
	suite  Suite
	layout Layout
	fileID [16]byte
	x      *xaes       // AES256GCM
	xc     cipher.AEAD // XChaCha20Poly1305
	rand   io.Reader   // nonce source; only tests replace it
}

// aadPool holds AAD scratch: a slice handed to an AEAD escapes, and a pool
// keeps Seal and Open free of per-chunk allocations.
var aadPool = sync.Pool{New: func() any { return new([aadLen]byte) }}

// New returns the cipher of the file fileID with a 32-byte DEK. The DEK is
// not retained (its expanded key schedule is); wipe dek when done with it.
func New(suite Suite, dek []byte, fileID [16]byte, l Layout) (*Cipher, error) {
	if err := CheckChunkSize(l.ChunkSize); err != nil {
		return nil, err
	}
	if len(dek) != KeyLen {
		return nil, fmt.Errorf("new %v cipher: DEK of %d bytes: %w", suite, len(dek), ErrKey)
	}
	c := &Cipher{suite: suite, layout: l, fileID: fileID, rand: rand.Reader}
	var err error
	switch suite {
	case AES256GCM:
		c.x, err = newXAES(dek)
	case XChaCha20Poly1305:
		c.xc, err = chacha20poly1305.NewX(dek)
	default:
		err = fmt.Errorf("new cipher: %v: %w", suite, ErrSuite)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Suite returns the cipher's suite.
func (c *Cipher) Suite() Suite { return c.suite }

// Layout returns the cipher's layout.
func (c *Cipher) Layout() Layout { return c.layout }

// Wipe drops the key material the Cipher holds. The Cipher must not be
// used afterwards. Go's AES and ChaCha key schedules cannot be zeroed from
// outside; Wipe drops the references so they become garbage.
func (c *Cipher) Wipe() {
	if c.x != nil {
		c.x.wipe()
	}
	c.x, c.xc = nil, nil
}

// Seal appends the sealed chunk index of plain to dst and returns the
// extended slice. last marks the file's final chunk. plain must hold
// 1..ChunkSize bytes and must not overlap dst's spare capacity; Seal panics
// otherwise, as that is a caller bug.
func (c *Cipher) Seal(dst, plain []byte, index uint64, last bool) []byte {
	if len(plain) == 0 || len(plain) > c.layout.ChunkSize {
		panic(fmt.Sprintf("chunk: seal of %d bytes with chunk size %d", len(plain), c.layout.ChunkSize))
	}
	ret, out := grow(dst, len(plain)+Overhead)
	nonce := out[:NonceLen]
	aead, inner := c.sealer(nonce)
	aad := c.aad(index, last)
	aead.Seal(out[NonceLen:NonceLen], inner, plain, aad[:])
	aadPool.Put(aad)
	return ret
}

// sealer draws the nonce and returns the AEAD and the nonce it takes.
func (c *Cipher) sealer(nonce []byte) (cipher.AEAD, []byte) {
	if c.x != nil {
		return c.x.sealer(nonce, c.rand), nonce[prefixLen:]
	}
	mustRead(c.rand, nonce)
	return c.xc, nonce
}

// opener returns the AEAD for a sealed chunk's nonce and the nonce it takes.
func (c *Cipher) opener(nonce []byte) (cipher.AEAD, []byte) {
	if c.x != nil {
		return c.x.opener(nonce), nonce[prefixLen:]
	}
	return c.xc, nonce
}

// runKey is the subkey of the chunk opened before in a run.
type runKey struct {
	prefix [prefixLen]byte
	aead   cipher.AEAD
}

// runOpener is opener for a run: it looks the subkey up only when the
// nonce's prefix differs from the previous chunk's.
func (c *Cipher) runOpener(k *runKey, nonce []byte) (cipher.AEAD, []byte) {
	if c.x == nil {
		return c.xc, nonce
	}
	if p := [prefixLen]byte(nonce[:prefixLen]); k.aead == nil || p != k.prefix {
		k.prefix, k.aead = p, c.x.opener(nonce)
	}
	return k.aead, nonce[prefixLen:]
}

// aad returns the pooled AAD of chunk index; put it back into aadPool.
func (c *Cipher) aad(index uint64, last bool) *[aadLen]byte {
	a := aadPool.Get().(*[aadLen]byte)
	c.fillAAD(a, index, last)
	return a
}

// fillAAD writes file id ‖ index ‖ last flag into a.
func (c *Cipher) fillAAD(a *[aadLen]byte, index uint64, last bool) {
	copy(a[:16], c.fileID[:])
	binary.BigEndian.PutUint64(a[16:24], index)
	a[24] = 0
	if last {
		a[24] = 1
	}
}

// grow extends dst by n bytes, returning the whole slice and the new part.
func grow(dst []byte, n int) (ret, out []byte) {
	total := len(dst) + n
	if cap(dst) < total {
		ret = make([]byte, total, total+total/4)
		copy(ret, dst)
	} else {
		ret = dst[:total]
	}
	return ret, ret[len(dst):]
}

func mustRead(r io.Reader, b []byte) {
	if _, err := io.ReadFull(r, b); err != nil {
		panic("chunk: nonce source: " + err.Error())
	}
}
