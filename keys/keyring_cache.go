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

// SetCacheMaxUses bounds how much an unwrapped zone-key version is used:
// after n EDEK operations (generate, decrypt or re-encrypt of one EDEK)
// under it, the cached copy is dropped and the next use unwraps it again
// through the main key, so that the main key's holder (KMS, and its audit
// log) sees the volume's use and a revocation takes hold within n
// operations. Zero, the default, sets no bound. It applies at once.
func (k *Keyring) SetCacheMaxUses(n uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.maxUses = n
}

// usedUp counts one use of cached version ref and reports whether the
// bound is passed; the caller holds mu (read or write).
func (k *Keyring) usedUp(ref Ref) bool {
	c := k.uses[ref]
	return k.maxUses > 0 && c != nil && c.Add(1) > k.maxUses
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
		delete(k.uses, ref)
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
		if err := k.withZoneKey(ctx, ref, func([]byte) error { return nil }); err != nil {
			return err
		}
	}
	return nil
}
