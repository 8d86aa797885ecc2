package local

import (
	"context"
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/ezfs/ezfs/keys"
)

// MainKey is the system-managed main key: XChaCha20-Poly1305 under the
// volume's random 32-byte main key, with [keys.KeyContext.AAD] as additional
// data. A wrapped zone key is nonce(24) ‖ ciphertext(32) ‖ tag(16).
type MainKey struct {
	key *keys.Secret
}

var _ keys.MainKey = (*MainKey)(nil)

// NewEnvelope makes a volume's random main key and its envelope under
// secret (a passphrase, or the bytes of a key file of at least 32 bytes).
// The caller stores env under [EnvelopeKey] and keeps its own secret bytes.
func NewEnvelope(secret []byte, kind Kind) (env []byte, mk *MainKey, err error) {
	k, err := keys.RandomSecret(keys.KeyLen)
	if err != nil {
		return nil, nil, err
	}
	mk = &MainKey{key: k}
	if env, err = mk.Envelope(secret, kind); err != nil {
		mk.Wipe()
		return nil, nil, err
	}
	return env, mk, nil
}

// Envelope seals this main key under a new KEK from secret, with a fresh
// salt: changing a passphrase without re-wrapping the zone keys.
func (m *MainKey) Envelope(secret []byte, kind Kind) ([]byte, error) {
	e, err := newEnvelope(kind)
	if err != nil {
		return nil, err
	}
	var nonce [keys.NonceLen]byte
	rand.Read(nonce[:])
	if err := e.seal(m.key.Bytes(), secret, nonce); err != nil {
		return nil, fmt.Errorf("seal main key: %w", err)
	}
	return e.encode(), nil
}

// Unlock opens env with secret. It fails with keys.ErrWrongSecret when the
// secret does not match (the AEAD tag decides, in constant time) and with a
// *keys.ParseError when env is malformed.
func Unlock(env, secret []byte) (*MainKey, error) {
	e, err := decodeEnvelope(env)
	if err != nil {
		return nil, err
	}
	k, err := e.open(secret)
	if err != nil {
		return nil, err
	}
	return &MainKey{key: k}, nil
}

// Wipe zeroes the main key; the MainKey is unusable afterwards.
func (m *MainKey) Wipe() { m.key.Wipe() }

// WrapKey seals a zone-key version under the main key, bound to kc.
func (m *MainKey) WrapKey(_ context.Context, key []byte, kc keys.KeyContext) ([]byte, error) {
	a, err := chacha20poly1305.NewX(m.key.Bytes())
	if err != nil {
		return nil, fmt.Errorf("main key: %w", err)
	}
	out := make([]byte, keys.NonceLen, keys.NonceLen+len(key)+keys.TagLen)
	rand.Read(out)
	return a.Seal(out, out, key, kc.AAD()), nil
}

// UnwrapKey opens what WrapKey sealed for the same kc; anything else fails with keys.ErrAuth.
func (m *MainKey) UnwrapKey(_ context.Context, wrapped []byte, kc keys.KeyContext) ([]byte, error) {
	a, err := chacha20poly1305.NewX(m.key.Bytes())
	if err != nil {
		return nil, fmt.Errorf("main key: %w", err)
	}
	if len(wrapped) < keys.NonceLen+keys.TagLen {
		return nil, fmt.Errorf("unwrap %s: %d bytes: %w", kc.Key, len(wrapped), keys.ErrAuth)
	}
	key, err := a.Open(nil, wrapped[:keys.NonceLen], wrapped[keys.NonceLen:], kc.AAD())
	if err != nil {
		return nil, fmt.Errorf("unwrap %s under main key: %w", kc.Key, keys.ErrAuth)
	}
	return key, nil
}
