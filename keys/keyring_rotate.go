package keys

import (
	"context"
	"fmt"
	"strings"
)

// RotateMainKey re-wraps every version of every zone key under newMain in
// one store transaction, in which it then calls put (if not nil) so the
// caller can replace the main-key envelope atomically with the re-wrap.
// On error nothing changed and the keyring keeps its old main key; on
// success it uses newMain. The caller disposes of the old main key.
func (k *Keyring) RotateMainKey(ctx context.Context, newMain MainKey, put func(Tx) error) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	err := k.store.Update(func(tx Tx) error {
		names, err := tx.Keys(recordPrefix)
		if err != nil {
			return fmt.Errorf("rotate main key: %w", err)
		}
		for _, n := range names {
			if err := k.rewrapRecord(ctx, tx, strings.TrimPrefix(n, recordPrefix), newMain); err != nil {
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

func (k *Keyring) rewrapRecord(ctx context.Context, tx Tx, name string, newMain MainKey) error {
	rec, err := getRecord(tx, name)
	if err != nil {
		return err
	}
	for i, v := range rec.Versions {
		ref := Ref{name, v.Version}
		key, err := k.plainVersion(ctx, ref, v.Wrapped)
		if err != nil {
			return err
		}
		w, err := newMain.WrapKey(ctx, key.Bytes(), KeyContext{VolumeID: k.volumeID, Key: ref})
		key.Wipe()
		if err != nil {
			return fmt.Errorf("wrap zone key %s under new main key: %w", ref, err)
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
