// Package chunk seals and opens the content of one file as a sequence of
// fixed-size chunks, each an independent AEAD message.
//
// # Layout
//
// A file of plaintext size n is cut into chunks of [Layout.ChunkSize] bytes;
// the final chunk holds the remaining 1..ChunkSize bytes. Each chunk is
// stored as nonce(24) ‖ ciphertext ‖ tag(16), so a chunk grows by
// [Overhead] bytes and there is no file header (the per-file xattr carries
// the metadata). [Layout.BackingSize] and [Layout.PlainSize] convert sizes.
//
// # Authentication
//
// The additional data of chunk i is file id (16) ‖ i (uint64 big-endian) ‖
// last (1 byte, 1 for the file's final chunk). Cutting a file at a chunk
// boundary therefore fails authentication of the new final chunk. A chunk
// that is all zero bytes is a hole and opens to zeros (FORMAT.md, "Holes").
//
// # Suites
//
// [AES256GCM] is XAES-256-GCM (c2sp.org/XAES-256-GCM): a per-nonce subkey
// derived from the DEK and the first 12 nonce bytes, then AES-256-GCM with
// the last 12. [XChaCha20Poly1305] uses its native 24-byte nonce. Both take
// a fresh random 24-byte nonce for every chunk written.
//
// This package never imports FUSE: bytes in, bytes out.
package chunk
