package keys

import (
	"bytes"
	"runtime"
	"testing"
)

// Keys of KeyLen bytes live in arena slots: NewSecret moves them there and zeroes
// the caller's bytes, live slots never overlap (across several arena chunks), a
// wiped slot is zeroed before another key gets it, and other lengths stay where
// they were.
func TestKeyArena(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the key arena is built on unix")
	}
	in := bytes.Repeat([]byte{0xab}, KeyLen)
	s := NewSecret(in)
	if !s.slot || !bytes.Equal(s.Bytes(), bytes.Repeat([]byte{0xab}, KeyLen)) || !bytes.Equal(in, make([]byte, KeyLen)) {
		t.Fatalf("NewSecret: slot=%v bytes=%x caller's bytes=%x", s.slot, s.Bytes(), in)
	}
	if cap(s.Bytes()) != KeyLen {
		t.Fatalf("slot capacity %d: an append could run into the next key", cap(s.Bytes()))
	}
	slot := s.Bytes()
	s.Wipe()
	if !bytes.Equal(slot, make([]byte, KeyLen)) || s.Bytes() != nil {
		t.Fatalf("wiped slot holds %x", slot)
	}

	n := 3 * arenaChunk / KeyLen
	live := make([]*Secret, n)
	for i := range live {
		var err error
		if live[i], err = RandomSecret(KeyLen); err != nil || !live[i].slot {
			t.Fatalf("RandomSecret #%d: slot=%v, %v", i, live[i] != nil && live[i].slot, err)
		}
		b := live[i].Bytes()
		b[0], b[1], b[2] = byte(i), byte(i>>8), byte(i>>16)
	}
	for i, s := range live {
		if b := s.Bytes(); b[0] != byte(i) || b[1] != byte(i>>8) || b[2] != byte(i>>16) {
			t.Fatalf("secret #%d was overwritten by another", i)
		}
		s.Wipe()
	}

	short := []byte("sixteen byte key")
	if s := NewSecret(short); s.slot || &s.Bytes()[0] != &short[0] {
		t.Fatal("a 16-byte secret moved into the arena")
	}
}
