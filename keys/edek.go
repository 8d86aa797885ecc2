package keys

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes of key material and of a wrapped DEK.
const (
	KeyLen     = 32                          // zone-key versions and DEKs are 256-bit
	NonceLen   = chacha20poly1305.NonceSizeX // 24
	TagLen     = chacha20poly1305.Overhead   // 16
	WrappedLen = NonceLen + KeyLen + TagLen  // EDEK.Wrapped length under WrapAEAD: 72
	KWLen      = 8 + KeyLen                  // EDEK.Wrapped length under WrapKW: 40
)

// Wrap is how an EDEK holds its DEK (FORMAT.md "EDEK"). Both bind the volume id,
// key name, version and the caller's binding bytes.
type Wrap uint8

const (
	// WrapAEAD (file format 1): nonce (24, random) ‖ XChaCha20-Poly1305 of the DEK
	// under the zone-key version, with the context as AAD ‖ tag (16); 72 bytes.
	WrapAEAD Wrap = iota
	// WrapKW (file format 2): AES key wrap (RFC 3394) of the DEK under a KEK derived
	// with HKDF-SHA256 from the zone-key version and the context; 40 bytes, no nonce.
	WrapKW
)

// Len returns the length of an EDEK's Wrapped bytes under w.
func (w Wrap) Len() int {
	if w == WrapKW {
		return KWLen
	}
	return WrappedLen
}

// label returns the first bytes of w's context (AAD or HKDF info).
func (w Wrap) label() string {
	if w == WrapKW {
		return "ezfs-edek-v2"
	}
	return "ezfs-edek-v1"
}

// EDEK is a file's data key wrapped under one zone-key version, as Wrap says.
type EDEK struct {
	Key     Ref
	Wrap    Wrap
	Wrapped []byte
}

// edekContext returns label ‖ u8 len ‖ volume id ‖ u8 len ‖ key name ‖ u32 BE
// version ‖ binding (FORMAT.md "EDEK"): the AAD of WrapAEAD, the HKDF info of WrapKW.
func edekContext(w Wrap, volumeID string, ref Ref, binding []byte) []byte {
	label := w.label()
	b := make([]byte, 0, len(label)+2+len(volumeID)+len(ref.Name)+4+len(binding))
	b = append(b, label...)
	b = appendShort(b, volumeID)
	b = appendShort(b, ref.Name)
	b = binary.BigEndian.AppendUint32(b, ref.Version)
	return append(b, binding...)
}

// sealEDEK wraps dek under zone key zk as w. nonce is WrapAEAD's; nil draws a
// random one (tests pass a fixed one for the vectors).
func sealEDEK(zk []byte, w Wrap, volumeID string, ref Ref, binding, dek, nonce []byte) (EDEK, error) {
	c := edekContext(w, volumeID, ref, binding)
	var wrapped []byte
	var err error
	if w == WrapKW {
		wrapped, err = sealKW(zk, c, dek)
	} else {
		wrapped, err = sealAEAD(zk, c, dek, nonce)
	}
	if err != nil {
		return EDEK{}, fmt.Errorf("wrap DEK with %s: %w", ref, err)
	}
	return EDEK{Key: ref, Wrap: w, Wrapped: wrapped}, nil
}

// openEDEK unwraps e under zone key zk; any failure is ErrAuth.
func openEDEK(zk []byte, volumeID string, e EDEK, binding []byte) (*Secret, error) {
	if len(e.Wrapped) != e.Wrap.Len() {
		return nil, fmt.Errorf("unwrap EDEK with %s: wrapped length %d, want %d: %w", e.Key, len(e.Wrapped), e.Wrap.Len(), ErrAuth)
	}
	open := openAEAD
	if e.Wrap == WrapKW {
		open = openKW
	}
	dek, err := open(zk, edekContext(e.Wrap, volumeID, e.Key, binding), e.Wrapped)
	if err != nil {
		return nil, fmt.Errorf("unwrap EDEK with %s: %w", e.Key, ErrAuth)
	}
	return NewSecret(dek), nil
}

func sealAEAD(zk, aad, dek, nonce []byte) ([]byte, error) {
	a, err := chacha20poly1305.NewX(zk)
	if err != nil {
		return nil, err
	}
	if nonce == nil {
		nonce = make([]byte, NonceLen)
		rand.Read(nonce) // never fails since Go 1.24
	}
	return a.Seal(append(make([]byte, 0, WrappedLen), nonce...), nonce, dek, aad), nil
}

func openAEAD(zk, aad, wrapped []byte) ([]byte, error) {
	a, err := chacha20poly1305.NewX(zk)
	if err != nil {
		return nil, err
	}
	return a.Open(make([]byte, 0, KeyLen), wrapped[:NonceLen], wrapped[NonceLen:], aad)
}

// kek derives the WrapKW key-encryption key of context info from zone key zk.
func kek(zk, info []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, zk, nil, string(info), KeyLen)
}

func sealKW(zk, info, dek []byte) ([]byte, error) {
	k, err := kek(zk, info)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	return kwWrap(k, dek)
}

func openKW(zk, info, wrapped []byte) ([]byte, error) {
	k, err := kek(zk, info)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	return kwUnwrap(k, wrapped)
}
