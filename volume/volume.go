package volume

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/keys/local"
	"github.com/ezfs/ezfs/zone/chunk"
)

// Errors of Init and Open.
var (
	ErrNotVolume     = errors.New("not an ezfs volume")
	ErrExists        = errors.New("already an ezfs volume")
	ErrWrongKeystore = errors.New("key store belongs to another volume")
	ErrSecretKind    = errors.New("wrong kind of secret for this volume")
)

// volumeIDKey is the key-store record holding the volume id, so a key store
// cannot be paired with another volume's config by mistake.
const volumeIDKey = "volume-id"

// Secret is what unlocks a passphrase or key-file volume: exactly one field is set.
type Secret struct {
	Passphrase []byte
	KeyFile    []byte // the key file's contents, at least 32 bytes
}

// provider returns the config provider name and bytes of s.
func (s Secret) provider() (string, []byte, error) {
	switch {
	case len(s.Passphrase) > 0 && len(s.KeyFile) == 0:
		return ProviderPassphrase, s.Passphrase, nil
	case len(s.KeyFile) > 0 && len(s.Passphrase) == 0:
		return ProviderKeyFile, s.KeyFile, nil
	}
	return "", nil, errors.New("give exactly one of a passphrase and a key file")
}

func (s Secret) wipe() {
	clear(s.Passphrase)
	clear(s.KeyFile)
}

func kindOf(provider string) local.Kind {
	if provider == ProviderKeyFile {
		return local.KeyFile
	}
	return local.Passphrase
}

// InitOptions configures a new volume. Zero Cipher and ChunkSize mean
// chunk.DefaultSuite() and chunk.DefaultChunkSize; an empty Keystore means
// BACKING/.ezfs/keystore.
type InitOptions struct {
	Cipher    chunk.Suite
	ChunkSize int
	Keystore  string
	Secret    Secret // not wiped by Init
	// KMSKey, instead of Secret, makes an AWS KMS volume: "awskms:ARN" or
	// "awskms:alias/NAME". Init checks access to the key (awskms Check).
	KMSKey string
	// KMS configures the AWS KMS client (tests set endpoint and credentials).
	KMS awskms.Options
}

// OpenOptions configures Open. Keystore overrides the config's key store
// directory (a moved store). Secret is called at most once, only when the
// main key needs it; Open wipes the bytes it returns.
type OpenOptions struct {
	Keystore string
	Secret   func() (Secret, error) // never called for a KMS volume
	KMS      awskms.Options         // the AWS KMS client of a KMS volume
}

// Volume is an open volume: its config, key store and keyring. Close it.
type Volume struct {
	Backing string
	Config  Config
	Store   *local.Store
	Keyring *keys.Keyring
	main    keys.MainKey // *local.MainKey or *awskms.MainKey
	closed  bool
}

// Close wipes the cached zone keys and the main key, and closes the key
// store. Later calls do nothing.
func (v *Volume) Close() error {
	if v.closed {
		return nil
	}
	v.closed = true
	v.Keyring.Close()
	wipeMain(v.main)
	return v.Store.Close()
}

func configPath(backing string) string { return filepath.Join(backing, Dir, ConfigFile) }

// KeystorePath returns the key store directory of the volume at backing.
func (c *Config) KeystorePath(backing string) string {
	if c.Keystore != "" {
		return c.Keystore
	}
	return filepath.Join(backing, Dir, KeystoreDir)
}

// ReadConfig reads and validates BACKING/.ezfs/config.json; a missing file
// is ErrNotVolume.
func ReadConfig(backing string) (*Config, error) {
	b, err := os.ReadFile(configPath(backing))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is %w (no %s)", backing, ErrNotVolume, filepath.Join(Dir, ConfigFile))
	}
	if err != nil {
		return nil, fmt.Errorf("read volume config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", configPath(backing), err)
	}
	return c, nil
}

func newVolumeID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sameEnvelope re-reads the envelope in the writable store: it must be the
// one that was unlocked (nothing changed it between the two opens).
func sameEnvelope(s *local.Store, volumeID string, env []byte) error {
	now, err := readEnvelope(s, volumeID)
	if err == nil && !bytes.Equal(now, env) {
		err = errors.New("main-key envelope changed while unlocking; try again")
	}
	return err
}

// readEnvelope returns the envelope of the store, checking the volume id.
func readEnvelope(s keys.Store, volumeID string) (env []byte, err error) {
	err = s.View(func(tx keys.Tx) error {
		id, err := tx.Get(volumeIDKey)
		if err != nil {
			return fmt.Errorf("key store has no volume id (wrong --keystore?): %w", err)
		}
		if string(id) != volumeID {
			return fmt.Errorf("%w: store is for %s, config says %s", ErrWrongKeystore, id, volumeID)
		}
		if env, err = tx.Get(local.EnvelopeKey); err != nil {
			return fmt.Errorf("key store has no main key: %w", err)
		}
		return nil
	})
	return env, err
}
