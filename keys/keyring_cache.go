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
