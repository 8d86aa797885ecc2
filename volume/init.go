package volume

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/local"
	"github.com/ezfs/ezfs/zone/chunk"
)

// Init makes the existing directory backing (empty or not) an ezfs volume:
// a fresh volume id and main key, the key store, and config.json written
// last and atomically, so a volume exists exactly when its config does. It
// fails with ErrExists if backing already is a volume or the key store
// already holds a main key.
func Init(ctx context.Context, backing string, o InitOptions) (*Config, error) {
	c, err := newConfig(backing, o)
	if err != nil {
		return nil, fmt.Errorf("init volume: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(backing, Dir), 0o700); err != nil {
		return nil, fmt.Errorf("init volume: %w", err)
	}
	if err := syncDir(backing); err != nil {
		return nil, err
	}
	if err := initKeystore(ctx, c.KeystorePath(backing), c.VolumeID, o); err != nil {
		return nil, fmt.Errorf("init volume: %w", err)
	}
	if err := writeFileAtomic(configPath(backing), c.Encode()); err != nil {
		return nil, fmt.Errorf("init volume: %w", err)
	}
	return c, nil
}

// newConfig checks backing and fills in the defaults.
func newConfig(backing string, o InitOptions) (*Config, error) {
	fi, err := os.Stat(backing)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", backing)
	}
	if _, err := os.Lstat(configPath(backing)); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is %w", backing, ErrExists)
	}
	mc, err := NewMainKey{Secret: o.Secret, KMS: o.KMSKey}.config()
	if err != nil {
		return nil, err
	}
	c := &Config{Format: Format, VolumeID: newVolumeID(), Cipher: o.Cipher, ChunkSize: o.ChunkSize,
		MainKey: mc}
	if c.Cipher == 0 {
		c.Cipher = chunk.DefaultSuite()
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = chunk.DefaultChunkSize
	}
	if o.Keystore != "" {
		if c.Keystore, err = filepath.Abs(o.Keystore); err != nil {
			return nil, err
		}
	}
	return c, c.Validate()
}

// initKeystore creates the main key and stores its envelope and the volume
// id. A KMS key is checked first (DescribeKey and a round trip), so a volume
// is never made under a key it cannot use.
func initKeystore(ctx context.Context, dir, volumeID string, o InitOptions) error {
	mk, env, _, err := NewMainKey{Secret: o.Secret, KMS: o.KMSKey}.build(ctx, o.KMS)
	if err != nil {
		return err
	}
	defer wipeMain(mk)
	if m := asKMS(mk); m != nil {
		if _, err := m.Check(ctx); err != nil {
			return err
		}
	}
	s, err := local.Open(dir)
	if err != nil {
		return err
	}
	err = s.Update(func(tx keys.Tx) error {
		if _, err := tx.Get(local.EnvelopeKey); !errors.Is(err, keys.ErrNotFound) {
			return fmt.Errorf("key store %s already holds a main key: %w", dir, ErrExists)
		}
		if err := tx.Set(volumeIDKey, []byte(volumeID)); err != nil {
			return err
		}
		return tx.Set(local.EnvelopeKey, env)
	})
	return errors.Join(err, s.Close())
}
