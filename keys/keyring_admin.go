package keys

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
)

// CreateKey makes zone key name with version 1. It fails with ErrKeyExists
// if the name is taken.
func (k *Keyring) CreateKey(ctx context.Context, name string) (Metadata, error) {
	if err := CheckName(name); err != nil {
		return Metadata{}, err
	}
	return k.addVersion(ctx, name, func(tx Tx) (*keyRecord, error) {
		_, err := tx.Get(recordKey(name))
		if err == nil {
			return nil, fmt.Errorf("create key %q: %w", name, ErrKeyExists)
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("create key %q: %w", name, err)
		}
		return &keyRecord{Name: name}, nil
	})
}

// RollKey adds a new current version to zone key name (ErrKeyNotFound if
// there is none). The roll is one store transaction: after an error the
// key is unchanged. Existing EDEKs keep working; new ones use the new version.
func (k *Keyring) RollKey(ctx context.Context, name string) (Metadata, error) {
	return k.addVersion(ctx, name, func(tx Tx) (*keyRecord, error) {
		rec, err := getRecord(tx, name)
		if err != nil {
			return nil, err
		}
		if rec.Current == math.MaxUint32 || len(rec.Versions) == maxVersions {
			return nil, fmt.Errorf("roll key %q: no versions left; prune old versions first", name)
		}
		return rec, nil
	})
}

// addVersion generates a version after the one in the record that begin
// returns, wraps it under the main key and stores it in one transaction;
// only after the commit does the keyring cache it.
func (k *Keyring) addVersion(ctx context.Context, name string, begin func(Tx) (*keyRecord, error)) (Metadata, error) {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	key, err := RandomSecret(KeyLen)
	if err != nil {
		return Metadata{}, err
	}
	var rec *keyRecord
	err = k.store.Update(func(tx Tx) error {
		if rec, err = begin(tx); err != nil {
			return err
		}
		return k.appendVersion(ctx, tx, rec, key)
	})
	if err != nil {
		key.Wipe()
		return Metadata{}, err
	}
	k.remember(Ref{name, rec.Current}, key)
	k.setCurrent(name, rec.Current)
	return rec.metadata(), nil
}

func (k *Keyring) appendVersion(ctx context.Context, tx Tx, rec *keyRecord, key *Secret) error {
	ref := Ref{rec.Name, rec.Current + 1}
	wrapped, err := k.mainKey().WrapKey(ctx, key.Bytes(), KeyContext{VolumeID: k.volumeID, Key: ref})
	if err != nil {
		return fmt.Errorf("wrap zone key %s: %w", ref, err)
	}
	rec.Versions = append(rec.Versions, storedVersion{Version: ref.Version, Created: k.now().UTC(), Wrapped: wrapped})
	rec.Current = ref.Version
	return putRecord(tx, rec)
}

// Metadata describes zone key name, or fails with ErrKeyNotFound.
func (k *Keyring) Metadata(ctx context.Context, name string) (Metadata, error) {
	var rec *keyRecord
	err := k.store.View(func(tx Tx) (err error) {
		rec, err = getRecord(tx, name)
		return err
	})
	if err != nil {
		return Metadata{}, err
	}
	return rec.metadata(), nil
}

// ListKeys describes every zone key, sorted by name.
func (k *Keyring) ListKeys(ctx context.Context) ([]Metadata, error) {
	var out []Metadata
	err := k.store.View(func(tx Tx) error {
		names, err := tx.Keys(recordPrefix)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		for _, n := range names {
			rec, err := getRecord(tx, strings.TrimPrefix(n, recordPrefix))
			if err != nil {
				return err
			}
			out = append(out, rec.metadata())
		}
		return nil
	})
	return out, err
}

// DeleteKey removes zone key name and all its versions (ErrKeyNotFound if
// there is none); files whose EDEKs use it become unreadable. Callers refuse
// keys a zone still uses (ErrKeyInUse) before calling it. Removal from disk
// is best effort: see FORMAT.md "Key deletion".
func (k *Keyring) DeleteKey(ctx context.Context, name string) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	err := k.store.Update(func(tx Tx) error {
		if _, err := getRecord(tx, name); err != nil {
			return err
		}
		return tx.Delete(recordKey(name))
	})
	if err != nil {
		return err
	}
	k.forget(name, func(uint32) bool { return true })
	k.setCurrent(name, 0)
	return nil
}

// PruneKey removes the versions of name below version below. It refuses to
// remove the current version. EDEKs under a pruned version fail with
// ErrVersionNotFound, so re-encrypt them first.
func (k *Keyring) PruneKey(ctx context.Context, name string, below uint32) (Metadata, error) {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	var rec *keyRecord
	err := k.store.Update(func(tx Tx) (err error) {
		if rec, err = getRecord(tx, name); err != nil {
			return err
		}
		if below > rec.Current {
			return fmt.Errorf("prune key %q below %d: would remove current version %d", name, below, rec.Current)
		}
		kept := rec.Versions[:0]
		for _, v := range rec.Versions {
			if v.Version >= below {
				kept = append(kept, v)
			}
		}
		rec.Versions = kept
		return putRecord(tx, rec)
	})
	if err != nil {
		return Metadata{}, err
	}
	k.forget(name, func(v uint32) bool { return v < below })
	return rec.metadata(), nil
}
