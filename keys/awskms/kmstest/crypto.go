package kmstest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"slices"
)

// blobMagic starts every ciphertext blob the double makes. A blob is
//
//	"KMST" ‖ u8 len(key id) ‖ key id ‖ u32 BE material version ‖ nonce(12) ‖ AES-256-GCM(plaintext) ‖ tag(16)
//
// and the GCM additional data is every byte before the nonce followed by the
// encoding of the encryption context (see contextAAD).
const blobMagic = "KMST"

const gcmNonceLen = 12

var errBadBlob = errors.New("malformed ciphertext blob")

// blob is a parsed ciphertext blob; header is the authenticated prefix.
type blob struct {
	keyID   string
	version uint32
	header  []byte
	nonce   []byte
	sealed  []byte
}

// seal encrypts plain under version ver of k's material, bound to ec.
func seal(k *key, ver uint32, plain []byte, ec map[string]string) []byte {
	b := append([]byte(blobMagic), byte(len(k.id)))
	b = append(b, k.id...)
	b = binary.BigEndian.AppendUint32(b, ver)
	header := len(b)
	b = append(b, make([]byte, gcmNonceLen)...)
	_, _ = rand.Read(b[header:])
	aad := append(b[:header:header], contextAAD(ec)...)
	return newGCM(k.material[ver-1]).Seal(b, b[header:], plain, aad)
}

// parseBlob splits a blob into its fields without decrypting it.
func parseBlob(b []byte) (blob, error) {
	rest, ok := cutPrefix(b, blobMagic)
	if !ok || len(rest) < 1 {
		return blob{}, errBadBlob
	}
	n := int(rest[0])
	if len(rest) < 1+n+4+gcmNonceLen+16 {
		return blob{}, errBadBlob
	}
	id := string(rest[1 : 1+n])
	ver := binary.BigEndian.Uint32(rest[1+n:])
	h := len(blobMagic) + 1 + n + 4
	return blob{keyID: id, version: ver, header: b[:h], nonce: b[h : h+gcmNonceLen], sealed: b[h+gcmNonceLen:]}, nil
}

// open decrypts a parsed blob with k's material; any mismatch is errBadBlob.
func open(k *key, bl blob, ec map[string]string) ([]byte, error) {
	if bl.version == 0 || bl.version > k.current() {
		return nil, errBadBlob
	}
	aad := append(slices.Clip(bl.header), contextAAD(ec)...)
	plain, err := newGCM(k.material[bl.version-1]).Open(nil, bl.nonce, bl.sealed, aad)
	if err != nil {
		return nil, errBadBlob
	}
	return plain, nil
}

// contextAAD encodes an encryption context canonically: pairs sorted by key,
// each as u32 BE len ‖ key ‖ u32 BE len ‖ value.
func contextAAD(ec map[string]string) []byte {
	names := make([]string, 0, len(ec))
	for n := range ec {
		names = append(names, n)
	}
	slices.Sort(names)
	var b []byte
	for _, n := range names {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(ec[n])))
		b = append(b, ec[n]...)
	}
	return b
}

func newGCM(material []byte) cipher.AEAD {
	block, err := aes.NewCipher(material)
	if err != nil {
		panic("kmstest: aes: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("kmstest: gcm: " + err.Error())
	}
	return aead
}

func cutPrefix(b []byte, p string) ([]byte, bool) {
	if len(b) < len(p) || string(b[:len(p)]) != p {
		return nil, false
	}
	return b[len(p):], true
}
