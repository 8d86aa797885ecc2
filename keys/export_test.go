package keys

import "time"

// Test-only access to the codecs, the key wrap and the EDEK construction with a fixed nonce.
type (
	KeyRecord     = keyRecord
	StoredVersion = storedVersion
)

var (
	DecodeKeyRecord = decodeKeyRecord
	EncodeKeyRecord = (*keyRecord).encode
	EDEKContext     = edekContext
	OpenEDEK        = openEDEK
	KWWrap          = kwWrap
	KWUnwrap        = kwUnwrap
	KEK             = kek
)

func SealEDEK(zoneKey []byte, w Wrap, volumeID string, ref Ref, binding, dek, nonce []byte) EDEK {
	e, err := sealEDEK(zoneKey, w, volumeID, ref, binding, dek, nonce)
	if err != nil {
		panic(err)
	}
	return e
}

func SetNow(k *Keyring, now func() time.Time) { k.now = now }
