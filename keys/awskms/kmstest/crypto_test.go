package kmstest

import (
	"bytes"
	"testing"
)

// FuzzParseBlob: parsing never panics, and what parses re-assembles to the input.
func FuzzParseBlob(f *testing.F) {
	k := &key{id: "1234abcd-12ab-34cd-56ef-1234567890ab"}
	k.addMaterial()
	f.Add(seal(k, 1, []byte("zone key"), map[string]string{"a": "b"}))
	f.Add([]byte("KMST"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := parseBlob(b)
		if err != nil {
			return
		}
		joined := append(append(bytes.Clone(bl.header), bl.nonce...), bl.sealed...)
		if !bytes.Equal(joined, b) || len(bl.header) != len(blobMagic)+1+len(bl.keyID)+4 {
			t.Fatalf("parseBlob(%x) = %+v", b, bl)
		}
		if _, err := open(k, bl, nil); err == nil && bl.keyID != k.id {
			t.Fatalf("blob of key %q opened under %q", bl.keyID, k.id)
		}
	})
}

func TestContextAADCanonical(t *testing.T) {
	a := contextAAD(map[string]string{"x": "1", "y": "2"})
	b := contextAAD(map[string]string{"y": "2", "x": "1"})
	c := contextAAD(map[string]string{"x1": "", "y": "2"})
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Errorf("context encoding not canonical or ambiguous: %x %x %x", a, b, c)
	}
}
