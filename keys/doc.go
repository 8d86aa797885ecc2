// Package keys holds ezfs's key hierarchy: named, versioned zone keys kept in a
// [Store] wrapped under a [MainKey], and the per-file data keys (DEKs) wrapped
// under a zone-key version as [EDEK]s.
//
// # Hierarchy
//
// A volume has one main key (the passphrase/key-file provider in keys/local, or
// a KMS key). The main key wraps zone-key versions ("logs@1", "logs@2", ...),
// each 256 bits of local randomness. A zone-key version wraps per-file DEKs in
// one of two ways ([Wrap]): XChaCha20-Poly1305 with a random nonce ([WrapAEAD],
// 72 bytes), or the AES key wrap of RFC 3394 under a key derived for the
// context ([WrapKW], 40 bytes, for compact xattrs). Either binds the volume,
// the key name and version, and caller-supplied per-file bytes, so an EDEK
// moved to another binding or relabelled to another version fails with [ErrAuth].
//
// # Key material
//
// Key bytes live in [Secret], which prints only "secret", is locked into
// memory where the OS allows, and is zeroed by Wipe. A [Keyring] caches the
// unwrapped zone-key versions it has used until Close.
//
// The byte layouts are described in FORMAT.md ("Key store").
package keys
