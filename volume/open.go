package volume

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/local"
)

// Open opens the volume at backing: config, then the key store read-only to
// fetch the main-key envelope, then the secret, then the store for writing.
// A wrong secret therefore writes nothing (except after a crash, when the
// store must be recovered by a writable open first). Errors: ErrNotVolume,
// local.ErrLocked (the volume is open elsewhere, checked before asking for
// the secret), keys.ErrWrongSecret, ErrSecretKind, ErrWrongKeystore.
func Open(ctx context.Context, backing string, o OpenOptions) (*Volume, error) {
	c, err := ReadConfig(backing)
	if err != nil {
		return nil, err
	}
	dir := c.KeystorePath(backing)
	if o.Keystore != "" {
		dir = o.Keystore
	}
	saved := c.MainKey
	v, err := open(ctx, c, dir, o)
	if err != nil {
		return nil, fmt.Errorf("open volume %s: %w", backing, err)
	}
	v.Backing = backing
	if v.Config.MainKey != saved {
		v.saveConfig() // best effort: the key store is authoritative (mainkey.go)
	}
	return v, nil
}

func open(ctx context.Context, c *Config, dir string, o OpenOptions) (*Volume, error) {
	env, s, err := peekEnvelope(dir, c.VolumeID)
	if err != nil {
		return nil, err
	}
	mc, err := envelopeProvider(env)
	if err != nil {
		if s != nil {
			s.Close()
		}
		return nil, err
	}
	c.MainKey = mc
	mk, err := unlock(ctx, c, env, o)
	if err == nil && s == nil {
		s, err = openStore(dir, c.VolumeID, env)
	}
	if err != nil {
		if s != nil {
			s.Close()
		}
		if mk != nil {
			wipeMain(mk)
		}
		return nil, err
	}
	return &Volume{Config: *c, Store: s, main: mk, Keyring: keys.NewKeyring(s, mk, c.VolumeID)}, nil
}

// peekEnvelope reads the envelope through a read-only open of the store.
// A store left open by a crash cannot be opened read-only (badger must
// truncate its log), so then it opens it for writing and returns it too.
func peekEnvelope(dir, volumeID string) ([]byte, *local.Store, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("key store: %w", err)
	}
	ro, err := local.OpenWith(dir, local.Options{ReadOnly: true})
	if err == nil {
		env, err := readEnvelope(ro, volumeID)
		return env, nil, errors.Join(err, ro.Close())
	}
	if errors.Is(err, local.ErrLocked) {
		return nil, nil, err
	}
	rw, err := local.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	env, err := readEnvelope(rw, volumeID)
	if err != nil {
		rw.Close()
		return nil, nil, err
	}
	return env, rw, nil
}

// unlock builds the KMS main key (no KMS call, no secret), or asks for the
// secret and opens the envelope with it.
func unlock(ctx context.Context, c *Config, env []byte, o OpenOptions) (keys.MainKey, error) {
	if c.MainKey.Provider == ProviderAWSKMS {
		m, err := newKMS(ctx, c.MainKey.Key, o.KMS)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	ask := o.Secret
	if ask == nil {
		return nil, fmt.Errorf("volume needs a %s: %w", c.MainKey.Provider, keys.ErrWrongSecret)
	}
	sec, err := ask()
	if err != nil {
		return nil, err
	}
	defer sec.wipe()
	provider, secret, err := sec.provider()
	if err != nil {
		return nil, err
	}
	if provider != c.MainKey.Provider {
		return nil, fmt.Errorf("%w: volume uses a %s, got a %s", ErrSecretKind, c.MainKey.Provider, provider)
	}
	m, err := local.Unlock(env, secret)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// openStore opens the store for writing and checks that its envelope is the one unlocked.
func openStore(dir, volumeID string, env []byte) (*local.Store, error) {
	s, err := local.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := sameEnvelope(s, volumeID, env); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
