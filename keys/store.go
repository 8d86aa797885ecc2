package keys

import (
	"context"
	"time"
)

// Store is a transactional key-value store for key records (keys/local is
// the badger implementation). Update runs f in one read-write transaction
// that commits only if f returns nil; View runs f read-only.
type Store interface {
	View(f func(Tx) error) error
	Update(f func(Tx) error) error
}

// Tx is one transaction of a [Store]. Slices passed to Set and returned by
// Get are not retained or shared by the store.
type Tx interface {
	// Get returns the value of k, or an error wrapping ErrNotFound.
	Get(k string) ([]byte, error)
	// Set stores v under k; it fails in a read-only transaction.
	Set(k string, v []byte) error
	// Delete removes k; deleting a missing key is not an error.
	Delete(k string) error
	// Keys lists the keys that start with prefix, in byte order.
	Keys(prefix string) ([]string, error)
}

// MainKey wraps and unwraps zone-key versions. Implementations must bind
// the wrapped bytes to kc (an AEAD's additional data, a KMS encryption
// context) and return an error wrapping ErrAuth when unwrapping fails
// authentication, including under a different KeyContext.
type MainKey interface {
	WrapKey(ctx context.Context, key []byte, kc KeyContext) ([]byte, error)
	UnwrapKey(ctx context.Context, wrapped []byte, kc KeyContext) ([]byte, error)
}

// Metadata describes a zone key without its material.
type Metadata struct {
	Name           string        `json:"name"`
	CurrentVersion uint32        `json:"current_version"`
	Versions       []VersionInfo `json:"versions"`
}

// VersionInfo describes one stored version of a zone key.
type VersionInfo struct {
	Version uint32    `json:"version"`
	Created time.Time `json:"created"`
}
