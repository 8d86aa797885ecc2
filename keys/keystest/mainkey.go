package keystest

import (
	"context"
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/ezfs/ezfs/keys"
)

// MainKey is a fake keys.MainKey for tests: XChaCha20-Poly1305 under a
// random in-memory key with the KeyContext as additional data.
type MainKey struct{ key [keys.KeyLen]byte }

var _ keys.MainKey = (*MainKey)(nil)

// NewMainKey returns a fake main key with a fresh random key.
func NewMainKey() *MainKey {
	m := &MainKey{}
	rand.Read(m.key[:])
	return m
}

// WrapKey seals key: nonce(24) ‖ ciphertext ‖ tag(16).
func (m *MainKey) WrapKey(_ context.Context, key []byte, kc keys.KeyContext) ([]byte, error) {
	a, _ := chacha20poly1305.NewX(m.key[:])
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(key)+a.Overhead())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, key, kc.AAD()), nil
}

// UnwrapKey opens what WrapKey sealed under the same kc, else fails with keys.ErrAuth.
func (m *MainKey) UnwrapKey(_ context.Context, wrapped []byte, kc keys.KeyContext) ([]byte, error) {
	a, _ := chacha20poly1305.NewX(m.key[:])
	if len(wrapped) < a.NonceSize()+a.Overhead() {
		return nil, fmt.Errorf("fake main key: short blob: %w", keys.ErrAuth)
	}
	key, err := a.Open(nil, wrapped[:a.NonceSize()], wrapped[a.NonceSize():], kc.AAD())
	if err != nil {
		return nil, fmt.Errorf("fake main key: %w", keys.ErrAuth)
	}
	return key, nil
}
