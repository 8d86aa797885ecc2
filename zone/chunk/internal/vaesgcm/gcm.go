// Package vaesgcm is AES-256-GCM (96-bit nonces, 128-bit tags) for CPUs
// with VAES and VPCLMULQDQ. It exists for the chunk package's hot path:
// every byte read from a zone file is opened here.
//
// There are two sets of kernels. Where the CPU has AVX-512 (F, BW, VL)
// and BMI2, Seal and Open each make one call into a kernel on 512-bit
// registers that does the whole message: the additional data, the
// keystream and GHASH in groups of 32 blocks (512 bytes, one reduction
// per group against the powers H^33..H^1, Karatsuba products), the last
// partial group with masked loads and stores, the lengths block and the
// tag; Open's kernel also compares the tags in constant time. Open hashes
// each group while computing its keystream; Seal hashes each group of its
// output while computing the keystream of the next. The other set, on
// 256-bit registers, works in 16-block steps and several calls: Seal
// makes two passes (keystream, then GHASH), Open one pass over whole
// 256-byte groups.
//
// Open writes plaintext before it knows the tag is right; on a wrong tag it
// zeroes what it wrote. It may decrypt in place: with the plaintext where
// the ciphertext is, or anywhere before it in the same buffer, as every
// kernel reads each block before it writes over it and works forwards.
// Tests compare every operation of both sets of kernels with
// crypto/cipher's GCM.
package vaesgcm

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes of the key, nonce and tag.
const (
	KeySize   = 32
	NonceSize = 12
	TagSize   = 16
)

// maxPlain is GCM's limit: the 32-bit block counter starts at 2.
const maxPlain = (1<<32 - 2) * 16

var errOpen = errors.New("vaesgcm: message authentication failed")

// AEAD is AES-256-GCM under one key. It implements cipher.AEAD and is safe
// for concurrent use.
type AEAD struct {
	rk    [15][32]byte // round keys, each in both 128-bit lanes
	table ghashKey
}

// ghashKey is the hash key's powers in the kernels' GHASH form. The
// 512-bit kernels address kara at a fixed offset from pow.
type ghashKey struct {
	pow  [33][16]byte // H^33 .. H^1
	kara [33][16]byte // each power's two 64-bit halves XORed, twice
}

// use512 selects the 512-bit kernels where they run; tests clear it to
// exercise the 256-bit ones on the same CPU.
var use512 = has512

// table16 is the end of the table, H^16..H^1, for the 256-bit kernels.
func (a *AEAD) table16() *[16][16]byte { return (*[16][16]byte)(a.table.pow[17:]) }

// Available reports whether this CPU runs the kernels.
func Available() bool { return available }

// New returns AES-256-GCM under key. It panics when [Available] is false or
// key is not [KeySize] bytes: both are caller bugs.
func New(key []byte) *AEAD {
	if !available {
		panic("vaesgcm: CPU lacks VAES, VPCLMULQDQ or AVX2")
	}
	if len(key) != KeySize {
		panic(fmt.Sprintf("vaesgcm: key of %d bytes", len(key)))
	}
	a := new(AEAD)
	expandKey((*[KeySize]byte)(key), &a.rk)
	var h [16]byte
	ctrXOR(&a.rk, &h, &h[0], &h[0], 16) // H = E(K, 0¹²⁸): counter block 0 over zeros
	initTable(&h, &a.table.pow)
	for i, p := range &a.table.pow {
		for j := range 8 {
			a.table.kara[i][j] = p[j] ^ p[8+j]
			a.table.kara[i][8+j] = p[j] ^ p[8+j]
		}
	}
	clear(h[:])
	return a
}

// Wipe zeroes the key schedule and the hash key powers. a must not be used
// afterwards.
func (a *AEAD) Wipe() {
	clear(a.rk[:])
	a.table = ghashKey{}
}

// NonceSize returns 12.
func (a *AEAD) NonceSize() int { return NonceSize }

// Overhead returns 16.
func (a *AEAD) Overhead() int { return TagSize }

// Seal appends the encryption of plaintext and its tag to dst. plaintext
// and dst's spare capacity may overlap only exactly.
func (a *AEAD) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	checkNonce(nonce)
	if uint64(len(plaintext)) > maxPlain {
		panic("vaesgcm: plaintext too large")
	}
	ret, out := grow(dst, len(plaintext)+TagSize)
	ct := out[:len(plaintext)]
	if use512 {
		var y [16]byte
		ad := additionalData
		if len(ad) > 512 {
			ad = a.prehash(&y, ad)
		}
		sealAVX512(&a.rk, &a.table, &y, &nonce[0], 1, first(ct), first(plaintext), len(plaintext), first(ad), len(ad), len(additionalData))
		copy(out[len(plaintext):], y[:])
		return ret
	}
	a.ctr(nonce, 0, ct, plaintext)
	var y [16]byte
	a.ghash(&y, additionalData)
	a.ghash(&y, ct)
	j0 := counter(nonce, 1)
	tag := a.finish(&y, &j0, len(additionalData), len(ct))
	copy(out[len(plaintext):], tag[:])
	return ret
}

// Open authenticates ciphertext (with its tag) and additionalData and
// appends the plaintext to dst. On a wrong tag it returns an error and
// zeroes what it wrote past len(dst). The plaintext may go exactly where
// the ciphertext is or anywhere before it in the same buffer (see the
// package doc); nonce and additionalData must not lie where it goes.
func (a *AEAD) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	checkNonce(nonce)
	if len(ciphertext) < TagSize || uint64(len(ciphertext)-TagSize) > maxPlain {
		return nil, errOpen
	}
	ct, got := ciphertext[:len(ciphertext)-TagSize], ciphertext[len(ciphertext)-TagSize:]
	ret, out := grow(dst, len(ct))
	var y [16]byte
	if use512 {
		// One kernel call, which also compares the tags.
		ad := additionalData
		if len(ad) > 512 {
			ad = a.prehash(&y, ad)
		}
		if openAVX512(&a.rk, &a.table, &y, &nonce[0], 1, first(out), first(ct), len(ct), first(ad), len(ad), len(additionalData), &got[0]) == 0 {
			clear(out)
			return nil, errOpen
		}
		return ret, nil
	}
	a.ghash(&y, additionalData)
	// Whole 256-byte groups in one pass, the rest in two.
	bulk := len(ct) &^ 255
	if bulk > 0 {
		c := counter(nonce, 2)
		openBlocks(&a.rk, a.table16(), &y, &c, &out[0], &ct[0], bulk)
	}
	a.ghash(&y, ct[bulk:])
	a.ctr(nonce, uint32(bulk/16), out[bulk:], ct[bulk:])
	j0 := counter(nonce, 1)
	want := a.finish(&y, &j0, len(additionalData), len(ct))
	if subtle.ConstantTimeCompare(want[:], got) != 1 {
		clear(out)
		return nil, errOpen
	}
	return ret, nil
}

// prehash absorbs additional data of more than 512 bytes, all but its
// last 1..256 bytes, into y with the 256-bit kernel, and returns the rest
// for a 512-bit kernel, which takes at most 512 bytes.
func (a *AEAD) prehash(y *[16]byte, ad []byte) []byte {
	bulk := (len(ad) - 1) &^ 255
	ghashBlocks(a.table16(), y, &ad[0], bulk)
	return ad[bulk:]
}

// first returns a pointer to b's first byte, or nil when b is empty (the
// kernels do not dereference it then).
func first(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

// ctr XORs src with the keystream from block skip of the message (counter
// 2+skip) into dst.
func (a *AEAD) ctr(nonce []byte, skip uint32, dst, src []byte) {
	full := len(src) &^ 15
	if full > 0 {
		c := counter(nonce, 2+skip)
		ctrXOR(&a.rk, &c, &dst[0], &src[0], full)
	}
	if rest := len(src) - full; rest > 0 {
		c := counter(nonce, 2+skip+uint32(full/16))
		var b [16]byte
		copy(b[:], src[full:])
		ctrXOR(&a.rk, &c, &b[0], &b[0], 16)
		copy(dst[full:], b[:rest])
		clear(b[:])
	}
}

// finish absorbs the lengths block into the GHASH state y and returns the
// tag, y XOR E(K, J0).
func (a *AEAD) finish(y, j0 *[16]byte, adLen, ctLen int) [TagSize]byte {
	var lens [16]byte
	binary.BigEndian.PutUint64(lens[:8], uint64(adLen)*8)
	binary.BigEndian.PutUint64(lens[8:], uint64(ctLen)*8)
	ghashBlocks(a.table16(), y, &lens[0], 16)
	var t [TagSize]byte
	ctrXOR(&a.rk, j0, &t[0], &t[0], 16)
	for i := range t {
		t[i] ^= y[15-i] // y is held byte-reversed
	}
	return t
}

// ghash absorbs p, zero-padded to a whole block, into y.
func (a *AEAD) ghash(y *[16]byte, p []byte) {
	full := len(p) &^ 15
	if full > 0 {
		ghashBlocks(a.table16(), y, &p[0], full)
	}
	if len(p) > full {
		var b [16]byte
		copy(b[:], p[full:])
		ghashBlocks(a.table16(), y, &b[0], 16)
	}
}

// counter returns the counter block nonce ‖ c (big-endian).
func counter(nonce []byte, c uint32) [16]byte {
	var b [16]byte
	copy(b[:NonceSize], nonce)
	binary.BigEndian.PutUint32(b[NonceSize:], c)
	return b
}

func checkNonce(nonce []byte) {
	if len(nonce) != NonceSize {
		panic(fmt.Sprintf("vaesgcm: nonce of %d bytes", len(nonce)))
	}
}

// grow extends dst by n bytes, returning the whole slice and the new part.
func grow(dst []byte, n int) (ret, out []byte) {
	total := len(dst) + n
	if cap(dst) < total {
		ret = make([]byte, total)
		copy(ret, dst)
	} else {
		ret = dst[:total]
	}
	return ret, ret[len(dst):]
}
