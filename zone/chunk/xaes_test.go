package chunk_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/ezfs/ezfs/zone/chunk"
)

// TestXAESVectors checks the construction against c2sp.org/XAES-256-GCM,
// with the default AES-GCM and with the standard library's.
func TestXAESVectors(t *testing.T) {
	t.Run("default", testXAESVectors)
	t.Run("stdlib", func(t *testing.T) {
		defer chunk.UseStdlibGCM()()
		testXAESVectors(t)
	})
}

func testXAESVectors(t *testing.T) {
	for _, tc := range []struct {
		name, key, aad, want string
	}{
		{"no-aad", "01", "", "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271"},
		{"aad", "03", "c2sp.org/XAES-256-GCM", "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, _ := hex.DecodeString(tc.key)
			key := bytes.Repeat(k, 32)
			got := chunk.XAESSeal(key, []byte("ABCDEFGHIJKLMNOPQRSTUVWX"), []byte("XAES-256-GCM"), []byte(tc.aad))
			if hex.EncodeToString(got) != tc.want {
				t.Fatalf("got %x, want %s", got, tc.want)
			}
		})
	}
}

// TestGCMInterop opens with the default AES-GCM what the standard
// library's sealed, and the other way round, over a run of chunks with a
// short final one. Subkeys are derived at first use, so each side runs
// with its implementation selected.
func TestGCMInterop(t *testing.T) {
	dek := bytes.Repeat([]byte{0x42}, chunk.KeyLen)
	plain := bytes.Repeat([]byte("interop "), 3000)
	with := func(std bool, fn func(c *chunk.Cipher)) {
		if std {
			defer chunk.UseStdlibGCM()()
		}
		c, err := chunk.New(chunk.AES256GCM, dek, [16]byte{1}, chunk.Layout{ChunkSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		fn(c)
	}
	for _, std := range []bool{true, false} {
		var sealed, got []byte
		var err error
		with(std, func(c *chunk.Cipher) { sealed = c.SealRun(nil, plain, 0, true) })
		with(!std, func(c *chunk.Cipher) { got, err = c.OpenRun(nil, sealed, 0, true) })
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("sealed with stdlib=%t, opened with the other: %v", std, err)
		}
	}
}
