package keys

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on.
var (
	// ErrNotFound is returned by [Tx.Get] for a missing record.
	ErrNotFound = errors.New("record not found")
	// ErrKeyNotFound means no zone key has the given name.
	ErrKeyNotFound = errors.New("key not found")
	// ErrKeyExists means a zone key with the given name already exists.
	ErrKeyExists = errors.New("key already exists")
	// ErrVersionNotFound means the key exists but not that version (never made, or pruned).
	ErrVersionNotFound = errors.New("key version not found")
	// ErrWrongSecret means a passphrase or key file did not open the main-key envelope.
	ErrWrongSecret = errors.New("wrong passphrase or key file")
	// ErrAuth means wrapped key material failed authentication: it was tampered
	// with, moved to another file, or relabelled to another key version.
	ErrAuth = errors.New("key authentication failed")
	// ErrKeyInUse means a key cannot be deleted because a zone still uses it.
	ErrKeyInUse = errors.New("key in use")
	// ErrClosed is returned by a [Keyring] used after Close.
	ErrClosed = errors.New("keyring closed")
)

// ParseError reports malformed on-disk bytes: which record, which field, and why.
// Every decoder in keys, keys/local and volume returns one.
type ParseError struct {
	Record string // "key record", "main-key envelope", "config.json", ...
	Field  string // the offending field, as named in FORMAT.md
	Err    error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("malformed %s: field %s: %v", e.Record, e.Field, e.Err)
}

// Unwrap returns the underlying reason.
func (e *ParseError) Unwrap() error { return e.Err }
