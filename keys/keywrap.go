package keys

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// kwIV is RFC 3394's default initial value, the integrity check of a key wrap.
var kwIV = [8]byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}

// errKeyWrap is returned by kwUnwrap for any ciphertext that does not check out.
var errKeyWrap = errors.New("key wrap integrity check failed")

// kwWrap wraps key (a multiple of 8 bytes, at least 16) under AES key kek as in
// RFC 3394 section 2.2.1, returning 8 bytes more than key.
func kwWrap(kek, key []byte) ([]byte, error) {
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(key) / 8
	out := make([]byte, 8+len(key))
	copy(out, kwIV[:])
	copy(out[8:], key)
	var blk [16]byte
	for j := range 6 {
		for i := 1; i <= n; i++ {
			copy(blk[:8], out[:8])
			copy(blk[8:], out[8*i:8*i+8])
			b.Encrypt(blk[:], blk[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(blk[:8])^t)
			copy(out[8*i:], blk[8:])
		}
	}
	clear(blk[:])
	return out, nil
}

// kwUnwrap reverses kwWrap (RFC 3394 section 2.2.2). It checks the integrity
// value in constant time and returns errKeyWrap, and no bytes, on a mismatch.
func kwUnwrap(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return nil, errKeyWrap
	}
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(wrapped)/8 - 1
	var a [8]byte
	copy(a[:], wrapped[:8])
	key := make([]byte, 8*n)
	copy(key, wrapped[8:])
	var blk [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(blk[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(blk[8:], key[8*(i-1):8*i])
			b.Decrypt(blk[:], blk[:])
			copy(a[:], blk[:8])
			copy(key[8*(i-1):], blk[8:])
		}
	}
	clear(blk[:])
	if subtle.ConstantTimeCompare(a[:], kwIV[:]) != 1 {
		clear(key)
		return nil, errKeyWrap
	}
	return key, nil
}
