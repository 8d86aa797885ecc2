package chunk

import (
	"fmt"
)

// remnantTries bounds how many trailing zero bytes of a torn-append remnant's
// tag are tried (FORMAT.md "Torn append"); a genuine remnant is missed with
// probability 2^-32.
const remnantTries = 4

// openKind says how a chunk opened; tests use it to re-seal.
type openKind int

const (
	openedNotLast openKind = iota // AAD last=0
	openedLast                    // AAD last=1
	openedHole                    // all-zero chunk
	openedRemnant                 // zero-padded chunk sealed as last (torn append)
)

// Open authenticates and decrypts the sealed chunk index, appends its
// plaintext to dst and returns the extended slice. With final, the chunk
// must be sealed as the file's last; without, it may be sealed either way
// (a middle chunk sealed as last is a torn-append remnant, DECISIONS.md).
// A sealed chunk of all zero bytes is a hole and opens to zeros. A failed
// tag returns dst unchanged and an *AuthError; a sealed chunk of at most
// Overhead bytes an error wrapping ErrTruncated.
func (c *Cipher) Open(dst, sealed []byte, index uint64, final bool) ([]byte, error) {
	out, _, err := c.open(dst, sealed, index, final)
	return out, err
}

func (c *Cipher) open(dst, sealed []byte, index uint64, final bool) ([]byte, openKind, error) {
	if err := c.checkSealed(len(sealed), index); err != nil {
		return dst, 0, err
	}
	if isZero(sealed[:NonceLen]) && isZero(sealed[NonceLen:]) {
		ret, out := grow(dst, len(sealed)-Overhead)
		clear(out)
		return ret, openedHole, nil
	}
	if !final { // the common case: a middle chunk sealed as not-last
		if out, err := c.try(dst, sealed, index, false); err == nil {
			return out, openedNotLast, nil
		}
	}
	if out, err := c.try(dst, sealed, index, true); err == nil {
		return out, openedLast, nil
	}
	if final {
		return dst, 0, &AuthError{Index: index}
	}
	if out, ok := c.remnant(dst, sealed, index); ok {
		return out, openedRemnant, nil
	}
	return dst, 0, &AuthError{Index: index}
}

func (c *Cipher) checkSealed(n int, index uint64) error {
	if n <= Overhead {
		return fmt.Errorf("chunk %d of %d bytes: %w", index, n, ErrTruncated)
	}
	if n > c.layout.ChunkSize+Overhead {
		return fmt.Errorf("chunk %d of %d bytes exceeds chunk size %d", index, n, c.layout.ChunkSize)
	}
	return nil
}

// try opens sealed with the given last flag.
func (c *Cipher) try(dst, sealed []byte, index uint64, last bool) ([]byte, error) {
	aead, nonce := c.opener(sealed[:NonceLen])
	aad := c.aad(index, last)
	out, err := aead.Open(dst, nonce, sealed[NonceLen:], aad[:])
	aadPool.Put(aad)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// remnant opens a full-size middle chunk that is a shorter chunk sealed as
// last followed by zeros: the old final chunk after a torn append wrote the
// new tail but not its re-seal. The plaintext is padded with zeros to the
// chunk size, as the append had extended it.
func (c *Cipher) remnant(dst, sealed []byte, index uint64) ([]byte, bool) {
	if len(sealed) != c.layout.ChunkSize+Overhead {
		return dst, false
	}
	end := len(sealed)
	for end > 0 && sealed[end-1] == 0 {
		end--
	}
	for s := end; s < len(sealed) && s < end+remnantTries; s++ {
		if s <= Overhead {
			continue
		}
		if out, err := c.try(dst, sealed[:s], index, true); err == nil {
			ret, pad := grow(out, len(sealed)-s)
			clear(pad)
			return ret, true
		}
	}
	return dst, false
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}
