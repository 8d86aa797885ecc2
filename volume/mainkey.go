package volume

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/awskms"
	"github.com/ezfs/ezfs/keys/local"
)

// ErrNotKMS refuses a KMS-only operation (rewrap, check) on a volume whose
// main key is a passphrase or key file.
var ErrNotKMS = errors.New("the volume's main key is not in AWS KMS")

// NewMainKey names the main key a volume is created with or rotated to:
// exactly one of Secret (a passphrase or key file) and KMS (a spec
// "awskms:ARN" or "awskms:alias/NAME").
type NewMainKey struct {
	Secret Secret
	KMS    string
}

// config returns the config entry for n, checking that exactly one field is set.
func (n NewMainKey) config() (MainKeyConfig, error) {
	hasSecret := len(n.Secret.Passphrase)+len(n.Secret.KeyFile) > 0
	switch {
	case n.KMS != "" && hasSecret:
		return MainKeyConfig{}, errors.New("give either an AWS KMS key or a passphrase or key file, not both")
	case n.KMS != "":
		spec, err := awskms.ParseSpec(n.KMS)
		if err != nil {
			return MainKeyConfig{}, err
		}
		return MainKeyConfig{Provider: ProviderAWSKMS, Key: spec.KeyID}, nil
	}
	provider, _, err := n.Secret.provider()
	return MainKeyConfig{Provider: provider}, err
}

// build makes the main key n names and the envelope that the key store
// keeps for it under local.EnvelopeKey: for a passphrase or key file, a new
// random main key sealed under it; for KMS, just the spec (FORMAT.md "AWS
// KMS main key": the KMS key is the root, nothing secret is stored).
func (n NewMainKey) build(ctx context.Context, o awskms.Options) (keys.MainKey, []byte, MainKeyConfig, error) {
	mc, err := n.config()
	if err != nil {
		return nil, nil, mc, err
	}
	if mc.Provider == ProviderAWSKMS {
		m, err := newKMS(ctx, mc.Key, o)
		if err != nil {
			return nil, nil, mc, err
		}
		return m, []byte(mc.Spec()), mc, nil
	}
	_, secret, _ := n.Secret.provider()
	env, mk, err := local.NewEnvelope(secret, kindOf(mc.Provider))
	if err != nil {
		return nil, nil, mc, err
	}
	return mk, env, mc, nil
}

func newKMS(ctx context.Context, key string, o awskms.Options) (*awskms.MainKey, error) {
	spec, err := awskms.ParseSpec(awskms.SpecPrefix + key)
	if err != nil {
		return nil, err
	}
	if spec.Region != "" {
		o.Region = "" // the ARN's region wins
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = envMaxAttempts()
	}
	return awskms.New(ctx, spec, o)
}

// envMaxAttempts reads AWS_MAX_ATTEMPTS, which the SDK ignores once awskms
// installs its own retryer; 0 (unset or invalid) keeps awskms's default.
func envMaxAttempts() int {
	n, err := strconv.Atoi(os.Getenv("AWS_MAX_ATTEMPTS"))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// envelopeProvider reads which provider an envelope record belongs to: a
// KMS spec is ASCII "awskms:…"; a local envelope starts with its format byte.
func envelopeProvider(env []byte) (MainKeyConfig, error) {
	if key, ok := bytes.CutPrefix(env, []byte(awskms.SpecPrefix)); ok {
		mc := MainKeyConfig{Provider: ProviderAWSKMS, Key: string(key)}
		if err := mc.validate(); err != nil {
			return mc, &keys.ParseError{Record: "main-key envelope", Field: "spec", Err: err}
		}
		return mc, nil
	}
	kind, err := local.EnvelopeKind(env)
	if err != nil {
		return MainKeyConfig{}, err
	}
	if kind == local.KeyFile {
		return MainKeyConfig{Provider: ProviderKeyFile}, nil
	}
	return MainKeyConfig{Provider: ProviderPassphrase}, nil
}

// wipeMain wipes a system-managed main key; a KMS key holds nothing to wipe.
func wipeMain(m keys.MainKey) {
	if w, ok := m.(interface{ Wipe() }); ok {
		w.Wipe()
	}
}

// MainKey returns the volume's main-key provider and, for KMS, its key.
func (v *Volume) MainKey() MainKeyConfig { return v.Config.MainKey }

// KMS returns the volume's AWS KMS main key, or nil if it has none.
func (v *Volume) KMS() *awskms.MainKey {
	m, _ := v.main.(*awskms.MainKey)
	return m
}

// RotateMainKey re-wraps every zone-key version under the main key to names
// and replaces the main-key envelope in the same key-store transaction, so
// afterwards the volume opens with the new secret (or KMS key) only. It
// touches no file: files' EDEKs are wrapped under zone-key versions. From one
// KMS key to another it uses KMS ReEncrypt, so zone keys never leave KMS;
// otherwise it unwraps each version (from the cache or the old main key) and
// wraps it with the new one. config.json is rewritten after the commit; if
// that fails, the key store stays authoritative and the next Open repairs it
// (the error says so). On any other error nothing changed.
func (v *Volume) RotateMainKey(ctx context.Context, to NewMainKey, o awskms.Options) error {
	newMain, env, mc, err := to.build(ctx, o)
	if err != nil {
		return fmt.Errorf("rotate main key: %w", err)
	}
	put := func(tx keys.Tx) error { return tx.Set(local.EnvelopeKey, env) }
	oldKMS, newKMS := v.KMS(), asKMS(newMain)
	if oldKMS != nil && newKMS != nil {
		rewrap := func(ctx context.Context, w []byte, kc keys.KeyContext) ([]byte, error) {
			return oldKMS.RewrapTo(ctx, w, kc, newKMS)
		}
		err = v.Keyring.RewrapMainKey(ctx, rewrap, newMain, put)
	} else {
		err = v.Keyring.RotateMainKey(ctx, newMain, put)
	}
	if err != nil {
		wipeMain(newMain)
		return fmt.Errorf("rotate main key to %s: %w", mc.Spec(), err)
	}
	wipeMain(v.main)
	v.main, v.Config.MainKey = newMain, mc
	return v.saveConfig()
}

func asKMS(m keys.MainKey) *awskms.MainKey {
	k, _ := m.(*awskms.MainKey)
	return k
}

// RewrapMainKey moves every wrapped zone-key version of a KMS volume to the
// KMS key's current material with KMS ReEncrypt, in one key-store
// transaction, and returns how many versions it re-wrapped. It fails with
// ErrNotKMS on a passphrase or key-file volume.
func (v *Volume) RewrapMainKey(ctx context.Context) (int, error) {
	m := v.KMS()
	if m == nil {
		return 0, fmt.Errorf("rewrap: %w (it uses a %s)", ErrNotKMS, v.Config.MainKey.Provider)
	}
	n := 0
	rewrap := func(ctx context.Context, w []byte, kc keys.KeyContext) ([]byte, error) {
		n++
		return m.Rewrap(ctx, w, kc)
	}
	if err := v.Keyring.RewrapMainKey(ctx, rewrap, m, nil); err != nil {
		return 0, err
	}
	return n, nil
}

// saveConfig rewrites config.json after the key store changed its main key.
func (v *Volume) saveConfig() error {
	if v.Backing == "" {
		return nil
	}
	if err := writeFileAtomic(configPath(v.Backing), v.Config.Encode()); err != nil {
		return fmt.Errorf("main key changed in the key store, but %w; the key store is authoritative and the next open repairs config.json", err)
	}
	return nil
}

// CheckSecret verifies that sec is the current secret of a passphrase or
// key-file volume (keys.ErrWrongSecret, ErrSecretKind otherwise), as a
// mounted volume's daemon does before rotating its main key. It does not
// wipe sec. A KMS volume has no secret: it returns nil.
func (v *Volume) CheckSecret(sec Secret) error {
	if v.KMS() != nil {
		return nil
	}
	provider, secret, err := sec.provider()
	if err != nil {
		return err
	}
	if provider != v.Config.MainKey.Provider {
		return fmt.Errorf("%w: volume uses a %s, got a %s", ErrSecretKind, v.Config.MainKey.Provider, provider)
	}
	env, err := readEnvelope(v.Store, v.Config.VolumeID)
	if err != nil {
		return err
	}
	m, err := local.Unlock(env, secret)
	if err != nil {
		return err
	}
	m.Wipe()
	return nil
}
