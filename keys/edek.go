package keys

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes of key material and of a wrapped DEK.
const (
	KeyLen     = 32                          // zone-key versions and DEKs are 256-bit
	NonceLen   = chacha20poly1305.NonceSizeX // 24
	TagLen     = chacha20poly1305.Overhead   // 16
	WrappedLen = NonceLen + KeyLen + TagLen  // EDEK.Wrapped length: 72
	edekLabel  = "ezfs-edek-v1"              // first bytes of the EDEK AAD
)

// EDEK is a file's data key wrapped under one zone-key version:
// Wrapped = nonce(24) ‖ XChaCha20-Poly1305(DEK)(32) ‖ tag(16).
type EDEK struct {
	Key     Ref
	Wrapped []byte
}

// edekAAD returns "ezfs-edek-v1" ‖ u8 len ‖ volume id ‖ u8 len ‖ key name ‖
// u32 BE version ‖ binding (FORMAT.md "EDEK").
func edekAAD(volumeID string, ref Ref, binding []byte) []byte {
	b := make([]byte, 0, len(edekLabel)+2+len(volumeID)+len(ref.Name)+4+len(binding))
	b = append(b, edekLabel...)
	b = appendShort(b, volumeID)
	b = appendShort(b, ref.Name)
	b = binary.BigEndian.AppendUint32(b, ref.Version)
	return append(b, binding...)
}

// sealEDEK wraps dek under the zone-key AEAD with the given nonce.
func sealEDEK(zk cipher.AEAD, volumeID string, ref Ref, binding, dek, nonce []byte) EDEK {
	w := make([]byte, NonceLen, WrappedLen)
	copy(w, nonce)
	return EDEK{Key: ref, Wrapped: zk.Seal(w, nonce, dek, edekAAD(volumeID, ref, binding))}
}

// openEDEK unwraps e; any failure is ErrAuth.
func openEDEK(zk cipher.AEAD, volumeID string, e EDEK, binding []byte) (*Secret, error) {
	if len(e.Wrapped) != WrappedLen {
		return nil, fmt.Errorf("unwrap EDEK with %s: wrapped length %d, want %d: %w", e.Key, len(e.Wrapped), WrappedLen, ErrAuth)
	}
	nonce, ct := e.Wrapped[:NonceLen], e.Wrapped[NonceLen:]
	dek, err := zk.Open(make([]byte, 0, KeyLen), nonce, ct, edekAAD(volumeID, e.Key, binding))
	if err != nil {
		return nil, fmt.Errorf("unwrap EDEK with %s: %w", e.Key, ErrAuth)
	}
	return NewSecret(dek), nil
}
