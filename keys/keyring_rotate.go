package keys

import (
	"context"
	"fmt"
	"strings"
)

// RotateMainKey re-wraps every version of every zone key under newMain in
// one store transaction, in which it then calls put (if not nil) so the
// caller can replace the main-key envelope atomically with the re-wrap.
// Each version comes from the cache or is unwrapped under the current main
// key. On error nothing changed and the keyring keeps its old main key; on
// success it uses newMain. The caller disposes of the old main key.
func (k *Keyring) RotateMainKey(ctx context.Context, newMain MainKey, put func(Tx) error) error {
	rewrap := func(ctx context.Context, wrapped []byte, kc KeyContext) ([]byte, error) {
		key, err := k.plainVersion(ctx, kc.Key, wrapped)
		if err != nil {
			return nil, err
		}
		defer key.Wipe()
		w, err := newMain.WrapKey(ctx, key.Bytes(), kc)
		if err != nil {
			return nil, fmt.Errorf("under the new main key: %w", err)
		}
		return w, nil
	}
	return k.RewrapMainKey(ctx, rewrap, newMain, put)
}

// RewrapFunc re-wraps one wrapped zone-key version for kc without exposing
// it (a KMS ReEncrypt), as [Keyring.RewrapMainKey] needs.
type RewrapFunc func(ctx context.Context, wrapped []byte, kc KeyContext) ([]byte, error)

// RewrapMainKey replaces every wrapped version of every zone key with
// rewrap's result in one store transaction, in which it then calls put (if
// not nil). newMain, which must unwrap what rewrap returns, becomes the
// keyring's main key on success. Unlike RotateMainKey it never unwraps a
// version itself: `ezfs mainkey rewrap` and a KMS-to-KMS rotation use it
// so the zone keys never leave KMS. On error nothing changed.
func (k *Keyring) RewrapMainKey(ctx context.Context, rewrap RewrapFunc, newMain MainKey, put func(Tx) error) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	err := k.store.Update(func(tx Tx) error {
		names, err := tx.Keys(recordPrefix)
		if err != nil {
			return fmt.Errorf("rewrap zone keys: %w", err)
		}
		for _, n := range names {
			if err := k.rewrapVersions(ctx, tx, strings.TrimPrefix(n, recordPrefix), rewrap); err != nil {
				return err
			}
		}
		if put == nil {
			return nil
		}
		return put(tx)
	})
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.main = newMain
	k.mu.Unlock()
	return nil
}

func (k *Keyring) rewrapVersions(ctx context.Context, tx Tx, name string, rewrap RewrapFunc) error {
	rec, err := getRecord(tx, name)
	if err != nil {
		return err
	}
	for i, v := range rec.Versions {
		ref := Ref{name, v.Version}
		w, err := rewrap(ctx, v.Wrapped, KeyContext{VolumeID: k.volumeID, Key: ref})
		if err != nil {
			return fmt.Errorf("rewrap zone key %s: %w", ref, err)
		}
		rec.Versions[i].Wrapped = w
	}
	return putRecord(tx, rec)
}

// plainVersion returns a private copy of version ref: from the cache, or unwrapped under the current main key.
func (k *Keyring) plainVersion(ctx context.Context, ref Ref, wrapped []byte) (*Secret, error) {
	k.mu.RLock()
	s := k.cache[ref]
	var b []byte
	if s != nil {
		b = append(make([]byte, 0, KeyLen), s.Bytes()...)
	}
	k.mu.RUnlock()
	if b != nil {
		return NewSecret(b), nil
	}
	return k.unwrap(ctx, k.mainKey(), wrapped, ref)
}
