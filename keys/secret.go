package keys

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Secret owns key bytes. It never prints them: String, Format and LogValue
// give "secret". Its bytes are locked into memory where the OS allows (failure
// is ignored), and Wipe zeroes them. Keys of KeyLen bytes (zone keys, DEKs)
// live in the key arena (mlock_unix.go), off the garbage-collected heap.
type Secret struct {
	mu   sync.Mutex
	b    []byte
	slot bool // b is a slot of the key arena
}

// NewSecret takes ownership of b: the caller must not use or keep b. A key of
// KeyLen bytes is moved into the key arena and b is zeroed.
func NewSecret(b []byte) *Secret {
	if slot := arenaSlot(len(b)); slot != nil {
		copy(slot, b)
		clear(b)
		return &Secret{b: slot, slot: true}
	}
	lockPages(b)
	return &Secret{b: b}
}

// RandomSecret returns n bytes from crypto/rand.
func RandomSecret(n int) (*Secret, error) {
	s := &Secret{b: arenaSlot(n)}
	if s.slot = s.b != nil; !s.slot {
		s.b = make([]byte, n)
		lockPages(s.b)
	}
	if _, err := io.ReadFull(rand.Reader, s.b); err != nil {
		s.Wipe()
		return nil, fmt.Errorf("read random key bytes: %w", err)
	}
	return s, nil
}

// Bytes returns the key bytes; they stay owned by s and are zeroed by Wipe.
// After Wipe, Bytes returns nil.
func (s *Secret) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b
}

// Len returns the key length in bytes (0 after Wipe).
func (s *Secret) Len() int { return len(s.Bytes()) }

// Wipe zeroes the key bytes and unlocks their pages. It is safe to call twice.
func (s *Secret) Wipe() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b == nil {
		return
	}
	clear(s.b)
	if s.slot {
		freeSlot(s.b)
	} else {
		unlockPages(s.b)
	}
	s.b = nil
}

// String returns "secret", never the bytes.
func (s *Secret) String() string { return "secret" }

// GoString returns "keys.Secret{…}", never the bytes.
func (s *Secret) GoString() string { return "keys.Secret{…}" }

// Format prints "secret" for every verb, so %x or %d cannot leak the bytes.
func (s *Secret) Format(f fmt.State, _ rune) { io.WriteString(f, "secret") }

// LogValue makes slog print "secret".
func (s *Secret) LogValue() slog.Value { return slog.StringValue("secret") }

// MarshalText refuses to serialise key bytes.
func (s *Secret) MarshalText() ([]byte, error) { return []byte("secret"), nil }
