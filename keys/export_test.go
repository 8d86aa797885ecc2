package keys

import (
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Test-only access to the codecs and the EDEK construction with a fixed nonce.
type (
	KeyRecord     = keyRecord
	StoredVersion = storedVersion
)

var (
	DecodeKeyRecord = decodeKeyRecord
	EncodeKeyRecord = (*keyRecord).encode
	EDEKAAD         = edekAAD
)

func SealEDEK(zoneKey []byte, volumeID string, ref Ref, binding, dek, nonce []byte) EDEK {
	a, err := chacha20poly1305.NewX(zoneKey)
	if err != nil {
		panic(err)
	}
	return sealEDEK(a, volumeID, ref, binding, dek, nonce)
}

func OpenEDEK(zoneKey []byte, volumeID string, e EDEK, binding []byte) (*Secret, error) {
	a, err := chacha20poly1305.NewX(zoneKey)
	if err != nil {
		panic(err)
	}
	return openEDEK(a, volumeID, e, binding)
}

func SetNow(k *Keyring, now func() time.Time) { k.now = now }
