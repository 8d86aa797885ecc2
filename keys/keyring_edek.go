package keys

import (
	"context"
	"fmt"
)

// GenerateEDEK makes a random DEK for one file and wraps it as w under the
// current version of zone key name, binding it to binding (the per-file
// bytes the caller will pass to DecryptEDEK). The caller owns and wipes dek.
func (k *Keyring) GenerateEDEK(ctx context.Context, name string, w Wrap, binding []byte) (dek *Secret, e EDEK, err error) {
	ref, err := k.currentRef(name)
	if err != nil {
		return nil, EDEK{}, err
	}
	if dek, err = RandomSecret(KeyLen); err != nil {
		return nil, EDEK{}, err
	}
	if e, err = k.seal(ctx, ref, w, binding, dek); err != nil {
		dek.Wipe()
		return nil, EDEK{}, err
	}
	return dek, e, nil
}

// seal wraps dek as w under zone-key version ref.
func (k *Keyring) seal(ctx context.Context, ref Ref, w Wrap, binding []byte, dek *Secret) (e EDEK, err error) {
	err = k.withZoneKey(ctx, ref, func(zk []byte) (err error) {
		e, err = sealEDEK(zk, w, k.volumeID, ref, binding, dek.Bytes(), nil)
		return err
	})
	return e, err
}

// DecryptEDEK unwraps e for the file described by binding. It fails with
// ErrAuth if e was tampered with, moved from another file (other binding) or
// relabelled to another version, with ErrVersionNotFound if its version was
// pruned and with ErrKeyNotFound if its key was deleted.
func (k *Keyring) DecryptEDEK(ctx context.Context, e EDEK, binding []byte) (dek *Secret, err error) {
	err = k.withZoneKey(ctx, e.Key, func(zk []byte) (err error) {
		dek, err = openEDEK(zk, k.volumeID, e, binding)
		return err
	})
	return dek, err
}

// Rewrap is one EDEK to re-encrypt, with the binding it was made for.
type Rewrap struct {
	EDEK    EDEK
	Binding []byte
}

// RewrapError reports which item of a ReencryptEDEKs batch failed.
type RewrapError struct {
	Index int
	Err   error
}

func (e *RewrapError) Error() string { return fmt.Sprintf("re-encrypt EDEK #%d: %v", e.Index, e.Err) }

// Unwrap returns the item's error (ErrAuth, ErrVersionNotFound, ...).
func (e *RewrapError) Unwrap() error { return e.Err }

// ReencryptEDEKs re-wraps each item under the current version of its key,
// in the item's own Wrap, in order. Items already at the current version
// are checked and returned unchanged. The current version of each key is
// read once per batch, and key versions come from the cache. On failure it
// returns a *RewrapError naming the first bad item and no results, so the
// caller can set it aside and retry.
func (k *Keyring) ReencryptEDEKs(ctx context.Context, items []Rewrap) ([]EDEK, error) {
	current := make(map[string]Ref)
	out := make([]EDEK, len(items))
	for i, it := range items {
		e, err := k.rewrap(ctx, it, current)
		if err != nil {
			return nil, &RewrapError{Index: i, Err: err}
		}
		out[i] = e
	}
	return out, nil
}

// rewrap re-wraps one item; current memoises the batch's current versions.
func (k *Keyring) rewrap(ctx context.Context, it Rewrap, current map[string]Ref) (EDEK, error) {
	dek, err := k.DecryptEDEK(ctx, it.EDEK, it.Binding)
	if err != nil {
		return EDEK{}, err
	}
	defer dek.Wipe()
	cur, ok := current[it.EDEK.Key.Name]
	if !ok {
		if cur, err = k.currentRef(it.EDEK.Key.Name); err != nil {
			return EDEK{}, err
		}
		current[cur.Name] = cur
	}
	if cur == it.EDEK.Key {
		return it.EDEK, nil
	}
	return k.seal(ctx, cur, it.EDEK.Wrap, it.Binding, dek)
}
