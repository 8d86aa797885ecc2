package chunk

import "fmt"

// Sizes of the parts of a sealed chunk.
const (
	NonceLen = 24                // random nonce at the start of each chunk
	TagLen   = 16                // AEAD tag at the end of each chunk
	Overhead = NonceLen + TagLen // bytes a sealed chunk adds to its plaintext
)

// Chunk size bounds and the default (chosen in BENCHMARKS.md).
const (
	MinChunkSize     = 4 << 10
	MaxChunkSize     = 1 << 20
	DefaultChunkSize = 4096
)

// CheckChunkSize returns an error wrapping [ErrChunkSize] unless n is a
// power of two between 4 KiB and 1 MiB.
func CheckChunkSize(n int) error {
	if n < MinChunkSize || n > MaxChunkSize || n&(n-1) != 0 {
		return fmt.Errorf("chunk size %d: %w", n, ErrChunkSize)
	}
	return nil
}

// Layout does the offset arithmetic of one file. ChunkSize is the plaintext
// size of every chunk but the final one; it must pass [CheckChunkSize].
type Layout struct {
	ChunkSize int
}

// SealedSize returns the backing size of one full chunk (ChunkSize+Overhead).
func (l Layout) SealedSize() int64 { return int64(l.ChunkSize) + Overhead }

// Chunks returns how many chunks hold plain bytes of plaintext.
func (l Layout) Chunks(plain int64) int64 {
	return (plain + int64(l.ChunkSize) - 1) / int64(l.ChunkSize)
}

// BackingSize returns the backing file size of a plaintext of plain bytes:
// every chunk adds Overhead, and 0 bytes of plaintext take 0 bytes.
func (l Layout) BackingSize(plain int64) int64 {
	return plain + l.Chunks(plain)*Overhead
}

// PlainSize returns the plaintext size of a backing file of backing bytes.
// A final chunk of 1..Overhead backing bytes cannot exist (it would hold no
// plaintext); that size gives an error wrapping [ErrTruncated].
func (l Layout) PlainSize(backing int64) (int64, error) {
	if backing < 0 {
		return 0, fmt.Errorf("backing size %d: %w", backing, ErrTruncated)
	}
	full, rem := backing/l.SealedSize(), backing%l.SealedSize()
	if rem > 0 && rem <= Overhead {
		return 0, fmt.Errorf("backing size %d leaves %d bytes for chunk %d: %w", backing, rem, full, ErrTruncated)
	}
	plain := full * int64(l.ChunkSize)
	if rem > 0 {
		plain += rem - Overhead
	}
	return plain, nil
}
