package keys

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Keyring manages the zone keys of one volume: it creates, rolls, prunes and
// deletes them in a [Store], and wraps per-file DEKs under them. Unwrapped
// zone-key versions are cached until Close, or for at most SetCacheTTL. A
// Keyring is safe for concurrent use; it assumes it is the only writer of its
// store's "key/" records (the store's lock keeps other processes out).
type Keyring struct {
	store    Store
	volumeID string
	now      func() time.Time

	// wmu serialises store changes and cache fills, so a cache never holds
	// state older than the store (a version pruned or a roll committed
	// while a fill was reading).
	wmu sync.Mutex

	mu      sync.RWMutex // guards the fields below
	main    MainKey
	cache   map[Ref]*Secret
	current map[string]uint32
	ttl     time.Duration // 0: cached versions live until Close (keyring_cache.go)
	maxUses uint64        // 0: no bound on the uses of a cached version (keyring_cache.go)
	uses    map[Ref]*atomic.Uint64
	closed  bool
}

// NewKeyring returns a keyring over s whose zone keys are wrapped by m and
// bound to volumeID. It panics if volumeID is empty or longer than 255 bytes
// (volume ids come from a validated config).
func NewKeyring(s Store, m MainKey, volumeID string) *Keyring {
	if err := checkVolumeID(volumeID); err != nil {
		panic("keys: NewKeyring: " + err.Error())
	}
	return &Keyring{
		store: s, main: m, volumeID: volumeID, now: time.Now,
		cache: make(map[Ref]*Secret), uses: make(map[Ref]*atomic.Uint64), current: make(map[string]uint32),
	}
}

// Close wipes the cached zone keys; later calls fail with ErrClosed.
// It does not close the store or the main key.
func (k *Keyring) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range k.cache {
		s.Wipe()
	}
	k.cache, k.closed = nil, true
}

// withZoneKey runs fn with the bytes of zone-key version ref, unwrapping the
// version on first use. fn runs under the cache's read lock and must not keep zk.
func (k *Keyring) withZoneKey(ctx context.Context, ref Ref, fn func(zk []byte) error) error {
	if ok, err := k.withCached(ref, fn); ok || err != nil {
		return err
	}
	k.wmu.Lock()
	defer k.wmu.Unlock()
	if ok, err := k.withCached(ref, fn); ok || err != nil {
		return err
	}
	s, err := k.load(ctx, ref)
	if err != nil {
		return err
	}
	err = fn(s.Bytes())
	k.remember(ref, s)
	return err
}

// withCached runs fn with cached version ref; ok is false when it is not cached
// (or has served its uses).
func (k *Keyring) withCached(ref Ref, fn func(zk []byte) error) (ok bool, err error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.closed {
		return false, ErrClosed
	}
	s, ok := k.cache[ref]
	if !ok || k.usedUp(ref) {
		return false, nil
	}
	return true, fn(s.Bytes())
}

// load reads and unwraps zone-key version ref; the caller holds wmu.
func (k *Keyring) load(ctx context.Context, ref Ref) (*Secret, error) {
	var wrapped []byte
	err := k.store.View(func(tx Tx) error {
		rec, err := getRecord(tx, ref.Name)
		if err != nil {
			return err
		}
		v, err := rec.find(ref.Version)
		if err == nil {
			wrapped = v.Wrapped
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return k.unwrap(ctx, k.mainKey(), wrapped, ref)
}

func (k *Keyring) unwrap(ctx context.Context, m MainKey, wrapped []byte, ref Ref) (*Secret, error) {
	b, err := m.UnwrapKey(ctx, wrapped, KeyContext{VolumeID: k.volumeID, Key: ref})
	if err != nil {
		return nil, fmt.Errorf("unwrap zone key %s: %w", ref, err)
	}
	if len(b) != KeyLen {
		clear(b)
		return nil, fmt.Errorf("unwrap zone key %s: got %d bytes, want %d: %w", ref, len(b), KeyLen, ErrAuth)
	}
	return NewSecret(b), nil
}

func (k *Keyring) mainKey() MainKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.main
}

// remember caches s as ref, wiping it instead if the keyring was closed.
func (k *Keyring) remember(ref Ref, s *Secret) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		s.Wipe()
		return
	}
	if old := k.cache[ref]; old != nil {
		old.Wipe()
	}
	k.cache[ref] = s
	k.uses[ref] = new(atomic.Uint64)
	k.expireLater(ref, s)
}

// forget drops cached versions of name for which drop is true.
func (k *Keyring) forget(name string, drop func(v uint32) bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for ref, s := range k.cache {
		if ref.Name == name && drop(ref.Version) {
			s.Wipe()
			delete(k.cache, ref)
			delete(k.uses, ref)
		}
	}
}

// currentRef returns the current version of name, reading the store once per name.
func (k *Keyring) currentRef(name string) (Ref, error) {
	if v, ok := k.cachedCurrent(name); ok {
		return Ref{name, v}, nil
	}
	k.wmu.Lock()
	defer k.wmu.Unlock()
	var rec *keyRecord
	err := k.store.View(func(tx Tx) (err error) {
		rec, err = getRecord(tx, name)
		return err
	})
	if err != nil {
		return Ref{}, err
	}
	k.setCurrent(name, rec.Current)
	return Ref{name, rec.Current}, nil
}

func (k *Keyring) cachedCurrent(name string) (uint32, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	v, ok := k.current[name]
	return v, ok
}

func (k *Keyring) setCurrent(name string, v uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v == 0 {
		delete(k.current, name)
		return
	}
	k.current[name] = v
}
