package chunk_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/ezfs/ezfs/zone/chunk"
)

// TestXAESVectors checks the construction against c2sp.org/XAES-256-GCM.
func TestXAESVectors(t *testing.T) {
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
