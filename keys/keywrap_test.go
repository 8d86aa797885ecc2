package keys_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/ezfs/ezfs/keys"
)

// The RFC 3394 section 4 vectors for the KEK and key sizes ezfs can meet.
func TestKeyWrapRFC3394(t *testing.T) {
	for _, c := range []struct{ name, kek, key, wrapped string }{
		{"4.1 128-bit key, 128-bit KEK", "000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff",
			"1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"},
		{"4.3 128-bit key, 256-bit KEK", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "00112233445566778899aabbccddeeff",
			"64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7"},
		{"4.6 256-bit key, 256-bit KEK", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
			"00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f",
			"28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21"},
	} {
		t.Run(c.name, func(t *testing.T) {
			kek, key, want := unhex(t, c.kek), unhex(t, c.key), unhex(t, c.wrapped)
			got, err := keys.KWWrap(kek, key)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("wrap = %x, %v; want %x", got, err, want)
			}
			back, err := keys.KWUnwrap(kek, want)
			if err != nil || !bytes.Equal(back, key) {
				t.Fatalf("unwrap = %x, %v; want %x", back, err, key)
			}
		})
	}
}

// Every single-bit change of a wrapped key, a shorter or longer input and the
// wrong KEK fail the integrity check.
func TestKeyWrapRejects(t *testing.T) {
	kek := bytes.Repeat([]byte{7}, 32)
	w, err := keys.KWWrap(kek, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(w) * 8 {
		bad := bytes.Clone(w)
		bad[i/8] ^= 1 << (i % 8)
		if k, err := keys.KWUnwrap(kek, bad); err == nil {
			t.Fatalf("bit %d flipped: unwrapped %x", i, k)
		}
	}
	for _, bad := range [][]byte{w[:len(w)-8], w[:16], append(bytes.Clone(w), make([]byte, 8)...), w[:len(w)-1]} {
		if _, err := keys.KWUnwrap(kek, bad); err == nil {
			t.Fatalf("%d-byte input unwrapped", len(bad))
		}
	}
	if _, err := keys.KWUnwrap(bytes.Repeat([]byte{8}, 32), w); err == nil {
		t.Fatal("unwrapped under another KEK")
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
