package keys

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SetCacheTTL bounds how long an unwrapped zone-key version stays cached:
// ttl after it was unwrapped (or created) it is wiped and dropped, and the
// next use unwraps it again through the main key (one KMS Decrypt for the
// awskms provider). Zero, the default, keeps versions until Close. It
// applies to versions cached from now on.
func (k *Keyring) SetCacheTTL(ttl time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ttl = max(ttl, 0)
}

// expireLater arms the timer that drops s from the cache after the TTL;
// the caller holds mu.
func (k *Keyring) expireLater(ref Ref, s *Secret) {
	if k.ttl <= 0 {
		return
	}
	time.AfterFunc(k.ttl, func() { k.expire(ref, s) })
}

// expire wipes s if it is still the cached version ref.
func (k *Keyring) expire(ref Ref, s *Secret) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cache[ref] == s {
		s.Wipe()
		delete(k.cache, ref)
	}
}

// Cached reports how many zone-key versions are cached unwrapped.
func (k *Keyring) Cached() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.cache)
}

// Preload unwraps every stored version of every zone key that is not cached
// yet: one MainKey.UnwrapKey per version. A mount calls it so that a main
// key that cannot be reached (KMS down, access revoked) fails the mount at
// once, and so that the mount keeps serving every file if the main key
// becomes unreachable later (issue 5 "AWS KMS main key"). It stops at the
// first error.
func (k *Keyring) Preload(ctx context.Context) error {
	var refs []Ref
	err := k.store.View(func(tx Tx) error {
		names, err := tx.Keys(recordPrefix)
		for _, n := range names {
			rec, err := getRecord(tx, strings.TrimPrefix(n, recordPrefix))
			if err != nil {
				return err
			}
			for _, v := range rec.Versions {
				refs = append(refs, Ref{rec.Name, v.Version})
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("preload zone keys: %w", err)
	}
	for _, ref := range refs {
		if _, err := k.aead(ctx, ref); err != nil {
			return err
		}
	}
	return nil
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
