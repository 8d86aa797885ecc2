package zone

import (
	"bytes"
	"testing"
)

// The decoders must be canonical: whatever decodes re-encodes to the same bytes, so no two
// byte strings mean the same thing (STYLE.md "Tests").

func FuzzParseMarker(f *testing.F) {
	for _, s := range vectorSeeds(f, "marker") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMarker(b)
		if err != nil {
			return
		}
		if got := m.Encode(); !bytes.Equal(got, b) {
			t.Fatalf("decode→encode changed bytes:\n got %x\nwant %x", got, b)
		}
	})
}

func FuzzParseFileMeta(f *testing.F) {
	for _, s := range vectorSeeds(f, "file") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseFileMeta(b)
		if err != nil {
			return
		}
		if got := m.Encode(); !bytes.Equal(got, b) {
			t.Fatalf("decode→encode changed bytes:\n got %x\nwant %x", got, b)
		}
		if !bytes.HasPrefix(b, m.Binding()) {
			t.Fatalf("binding %x does not begin %x", m.Binding(), b)
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range vectorSeeds(f, "record") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRecord(seqID(1), b)
		if err != nil {
			return
		}
		got, err := encodeRecord(r)
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("decode→encode changed bytes:\n got %x\nwant %x", got, b)
		}
	})
}
