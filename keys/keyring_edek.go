package keys

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// GenerateEDEK makes a random DEK for one file and wraps it under the
// current version of zone key name, binding it to binding (the per-file
// bytes the caller will pass to DecryptEDEK). The caller owns and wipes dek.
func (k *Keyring) GenerateEDEK(ctx context.Context, name string, binding []byte) (dek *Secret, e EDEK, err error) {
	ref, err := k.currentRef(name)
	if err != nil {
		return nil, EDEK{}, err
	}
	a, err := k.aead(ctx, ref)
	if err != nil {
		return nil, EDEK{}, err
	}
	if dek, err = RandomSecret(KeyLen); err != nil {
		return nil, EDEK{}, err
	}
	return dek, sealEDEK(a, k.volumeID, ref, binding, dek.Bytes(), randomNonce()), nil
}

func randomNonce() []byte {
	n := make([]byte, NonceLen)
	rand.Read(n) // never fails since Go 1.24
	return n
}

// DecryptEDEK unwraps e for the file described by binding. It fails with
// ErrAuth if e was tampered with, moved from another file (other binding) or
// relabelled to another version, with ErrVersionNotFound if its version was
// pruned and with ErrKeyNotFound if its key was deleted.
func (k *Keyring) DecryptEDEK(ctx context.Context, e EDEK, binding []byte) (*Secret, error) {
	a, err := k.aead(ctx, e.Key)
	if err != nil {
		return nil, err
	}
	return openEDEK(a, k.volumeID, e, binding)
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
// in order. Items already at the current version are checked and returned
// unchanged. Each distinct key version is looked up once per batch and the
// store is not read per item. On failure it returns a *RewrapError naming
// the first bad item and no results, so the caller can set it aside and retry.
func (k *Keyring) ReencryptEDEKs(ctx context.Context, items []Rewrap) ([]EDEK, error) {
	b := batch{k: k, ctx: ctx, aeads: make(map[Ref]cipher.AEAD), current: make(map[string]Ref)}
	out := make([]EDEK, len(items))
	for i, it := range items {
		e, err := b.rewrap(it)
		if err != nil {
			return nil, &RewrapError{Index: i, Err: err}
		}
		out[i] = e
	}
	return out, nil
}

// batch memoises key lookups for one ReencryptEDEKs call.
type batch struct {
	k       *Keyring
	ctx     context.Context
	aeads   map[Ref]cipher.AEAD
	current map[string]Ref
}

func (b *batch) rewrap(it Rewrap) (EDEK, error) {
	old, err := b.aead(it.EDEK.Key)
	if err != nil {
		return EDEK{}, err
	}
	dek, err := openEDEK(old, b.k.volumeID, it.EDEK, it.Binding)
	if err != nil {
		return EDEK{}, err
	}
	defer dek.Wipe()
	cur, ok := b.current[it.EDEK.Key.Name]
	if !ok {
		if cur, err = b.k.currentRef(it.EDEK.Key.Name); err != nil {
			return EDEK{}, err
		}
		b.current[cur.Name] = cur
	}
	if cur == it.EDEK.Key {
		return it.EDEK, nil
	}
	a, err := b.aead(cur)
	if err != nil {
		return EDEK{}, err
	}
	return sealEDEK(a, b.k.volumeID, cur, it.Binding, dek.Bytes(), randomNonce()), nil
}

func (b *batch) aead(ref Ref) (cipher.AEAD, error) {
	if a, ok := b.aeads[ref]; ok {
		return a, nil
	}
	a, err := b.k.aead(b.ctx, ref)
	if err == nil {
		b.aeads[ref] = a
	}
	return a, err
}
