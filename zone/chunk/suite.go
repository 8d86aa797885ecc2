package chunk

import (
	"fmt"

	"github.com/klauspost/cpuid/v2"
)

// Suite names the AEAD that seals chunks. Its number is stored in the
// per-file xattr (FORMAT.md), so the values never change.
type Suite uint8

// The suites. AES256GCM means the XAES-256-GCM construction (24-byte nonce).
const (
	AES256GCM         Suite = 1
	XChaCha20Poly1305 Suite = 2
)

// ParseSuite returns the suite named s ("aes-256-gcm" or
// "xchacha20-poly1305"), or an error wrapping [ErrSuite].
func ParseSuite(s string) (Suite, error) {
	switch s {
	case "aes-256-gcm":
		return AES256GCM, nil
	case "xchacha20-poly1305":
		return XChaCha20Poly1305, nil
	}
	return 0, fmt.Errorf("parse suite %q: %w", s, ErrSuite)
}

// String returns the name ParseSuite accepts, or "suite(N)" when unknown.
func (s Suite) String() string {
	switch s {
	case AES256GCM:
		return "aes-256-gcm"
	case XChaCha20Poly1305:
		return "xchacha20-poly1305"
	}
	return fmt.Sprintf("suite(%d)", uint8(s))
}

// Valid reports whether s is a known suite.
func (s Suite) Valid() bool { return s == AES256GCM || s == XChaCha20Poly1305 }

// DefaultSuite returns AES256GCM when the CPU has AES-NI and PCLMULQDQ (so
// GCM runs in constant time at hardware speed), else XChaCha20Poly1305.
func DefaultSuite() Suite {
	if cpuid.CPU.Supports(cpuid.AESNI, cpuid.CLMUL) {
		return AES256GCM
	}
	return XChaCha20Poly1305
}
