package keys

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Secret owns key bytes. It never prints them: String, Format and LogValue
// give "secret". Its pages are locked into memory where the OS allows
// (failure is ignored), and Wipe zeroes the bytes.
type Secret struct {
	mu sync.Mutex
	b  []byte
}

// NewSecret takes ownership of b: the caller must not use or keep b.
func NewSecret(b []byte) *Secret {
	lockPages(b)
	return &Secret{b: b}
}

// RandomSecret returns n bytes from crypto/rand.
func RandomSecret(n int) (*Secret, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return nil, fmt.Errorf("read random key bytes: %w", err)
	}
	return NewSecret(b), nil
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
	unlockPages(s.b)
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
