package chunk

import (
	"errors"
	"fmt"
)

var (
	// ErrAuth is matched (errors.Is) by every [AuthError].
	ErrAuth = errors.New("chunk authentication failed")
	// ErrTruncated reports a backing size or sealed chunk that cannot exist:
	// the file was cut inside a chunk's nonce or tag.
	ErrTruncated = errors.New("backing file cut inside a chunk")
	// ErrChunkSize reports a chunk size that is not a power of two in 4 KiB..1 MiB.
	ErrChunkSize = errors.New("invalid chunk size")
	// ErrSuite reports an unknown suite name or number.
	ErrSuite = errors.New("unknown cipher suite")
	// ErrKey reports a DEK of the wrong length.
	ErrKey = errors.New("invalid key length")
)

// AuthError reports the chunk whose tag did not verify. It matches [ErrAuth].
type AuthError struct {
	Index uint64 // index of the failing chunk
}

// Error describes the failing chunk.
func (e *AuthError) Error() string {
	return fmt.Sprintf("chunk %d: %v", e.Index, ErrAuth)
}

// Is reports whether target is [ErrAuth].
func (e *AuthError) Is(target error) bool { return target == ErrAuth }
