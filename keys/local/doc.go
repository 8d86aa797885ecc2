// Package local is ezfs's on-disk key store (badger, synchronous writes) and
// its system-managed main key: a random 32-byte key sealed in an envelope
// under a passphrase (argon2id) or a key file (HKDF-SHA256).
package local
