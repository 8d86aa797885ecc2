package local

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/ezfs/ezfs/keys"
)

// EnvelopeKey is the store record that holds the main-key envelope.
const EnvelopeKey = "mainkey"

// Kind says which secret opens an envelope.
type Kind uint8

// Envelope kinds (FORMAT.md "Main-key envelope").
const (
	Passphrase Kind = 1 // argon2id over the passphrase
	KeyFile    Kind = 2 // HKDF-SHA256 over the key file's bytes
)

// MinKeyFileLen is the shortest key file accepted.
const MinKeyFileLen = 32

// String returns "passphrase" or "keyfile", the names config.json uses.
func (k Kind) String() string {
	switch k {
	case Passphrase:
		return "passphrase"
	case KeyFile:
		return "keyfile"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// KDFParams are argon2id parameters; they are recorded in the envelope.
type KDFParams struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
}

// DefaultKDF is used for new passphrase envelopes.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 256 << 10, Threads: 2}

// testKDF replaces DefaultKDF when EZFS_TEST_FAST_KDF=1 at envelope creation
// (tests only: DECISIONS.md "Tests and CI"). Opening needs no setting.
var testKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// Limits on recorded parameters, so a planted envelope cannot hang Unlock.
const (
	maxKDFTime      = 64
	maxKDFMemoryKiB = 4 << 20 // 4 GiB
)

// Envelope layout, all fixed size, big endian (99 bytes).
const (
	envelopeFormat = 1
	saltLen        = 16
	headerLen      = 1 + 1 + saltLen + 4 + 4 + 1
	envelopeLen    = headerLen + keys.NonceLen + keys.KeyLen + keys.TagLen
	envelopeLabel  = "ezfs-envelope-v1"
	keyFileInfo    = "ezfs-keyfile-kek-v1"
)

// Errors of the envelope.
var (
	ErrKeyFileTooShort = fmt.Errorf("key file must hold at least %d bytes", MinKeyFileLen)
	ErrEmptyPassphrase = errors.New("passphrase must not be empty")
)

// envelope is the decoded "mainkey" record: the volume's main key sealed
// under a KEK derived from the passphrase or key file.
type envelope struct {
	Kind   Kind
	Salt   [saltLen]byte
	KDF    KDFParams // zero for KeyFile
	Nonce  [keys.NonceLen]byte
	Sealed [keys.KeyLen + keys.TagLen]byte
}

func (e *envelope) header() []byte {
	b := append([]byte{envelopeFormat, byte(e.Kind)}, e.Salt[:]...)
	b = binary.BigEndian.AppendUint32(b, e.KDF.Time)
	b = binary.BigEndian.AppendUint32(b, e.KDF.MemoryKiB)
	return append(b, e.KDF.Threads)
}

// encode returns header ‖ nonce ‖ sealed main key.
func (e *envelope) encode() []byte {
	b := append(e.header(), e.Nonce[:]...)
	return append(b, e.Sealed[:]...)
}

func envErr(field string, format string, a ...any) error {
	return &keys.ParseError{Record: "main-key envelope", Field: field, Err: fmt.Errorf(format, a...)}
}

// decodeEnvelope parses and validates an envelope; it fails closed.
func decodeEnvelope(b []byte) (*envelope, error) {
	if len(b) > 0 && b[0] != envelopeFormat {
		return nil, envErr("format", "unknown format %d", b[0])
	}
	if len(b) != envelopeLen {
		return nil, envErr("length", "%d bytes, want %d", len(b), envelopeLen)
	}
	e := &envelope{Kind: Kind(b[1])}
	copy(e.Salt[:], b[2:])
	e.KDF.Time = binary.BigEndian.Uint32(b[18:])
	e.KDF.MemoryKiB = binary.BigEndian.Uint32(b[22:])
	e.KDF.Threads = b[26]
	copy(e.Nonce[:], b[headerLen:])
	copy(e.Sealed[:], b[headerLen+keys.NonceLen:])
	return e, e.check()
}

func (e *envelope) check() error {
	switch e.Kind {
	case Passphrase:
		return e.KDF.check()
	case KeyFile:
		if e.KDF != (KDFParams{}) {
			return envErr("argon2", "must be zero for a key-file envelope")
		}
		return nil
	}
	return envErr("kind", "unknown kind %d", uint8(e.Kind))
}

func (p KDFParams) check() error {
	switch {
	case p.Time < 1 || p.Time > maxKDFTime:
		return envErr("argon2.time", "%d not in 1..%d", p.Time, maxKDFTime)
	case p.Threads < 1:
		return envErr("argon2.threads", "must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB:
		return envErr("argon2.memory", "%d KiB not in %d..%d", p.MemoryKiB, 8*uint32(p.Threads), maxKDFMemoryKiB)
	}
	return nil
}

// kek derives the key-encryption key from secret; the caller wipes it.
func (e *envelope) kek(secret []byte) ([]byte, error) {
	if e.Kind == KeyFile {
		if len(secret) < MinKeyFileLen {
			return nil, ErrKeyFileTooShort
		}
		return hkdf.Key(sha256.New, secret, e.Salt[:], keyFileInfo, keys.KeyLen)
	}
	if len(secret) == 0 {
		return nil, ErrEmptyPassphrase
	}
	p := e.KDF
	return argon2.IDKey(secret, e.Salt[:], p.Time, p.MemoryKiB, p.Threads, keys.KeyLen), nil
}

// aad is "ezfs-envelope-v1" ‖ header, so the recorded parameters are authenticated.
func (e *envelope) aad() []byte { return append([]byte(envelopeLabel), e.header()...) }

// seal fills Nonce and Sealed: mainKey under the KEK of secret.
func (e *envelope) seal(mainKey, secret []byte, nonce [keys.NonceLen]byte) error {
	kek, err := e.kek(secret)
	if err != nil {
		return err
	}
	defer clear(kek)
	a, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return err
	}
	e.Nonce = nonce
	a.Seal(e.Sealed[:0], e.Nonce[:], mainKey, e.aad())
	return nil
}

// open returns the main key, or ErrWrongSecret when the AEAD tag does not match.
func (e *envelope) open(secret []byte) (*keys.Secret, error) {
	kek, err := e.kek(secret)
	if errors.Is(err, ErrEmptyPassphrase) || errors.Is(err, ErrKeyFileTooShort) {
		return nil, fmt.Errorf("unlock main key: %v: %w", err, keys.ErrWrongSecret)
	}
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	a, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	mk, err := a.Open(make([]byte, 0, keys.KeyLen), e.Nonce[:], e.Sealed[:], e.aad())
	if err != nil {
		return nil, fmt.Errorf("unlock main key with %s: %w", e.Kind, keys.ErrWrongSecret)
	}
	return keys.NewSecret(mk), nil
}

// newEnvelope picks a fresh salt and the KDF parameters for kind.
func newEnvelope(kind Kind) (*envelope, error) {
	e := &envelope{Kind: kind}
	rand.Read(e.Salt[:])
	switch kind {
	case Passphrase:
		e.KDF = DefaultKDF
		if os.Getenv("EZFS_TEST_FAST_KDF") == "1" {
			e.KDF = testKDF
		}
	case KeyFile:
	default:
		return nil, fmt.Errorf("new envelope: unknown kind %d", uint8(kind))
	}
	return e, nil
}

// EnvelopeKind returns the kind recorded in env, so a caller can ask for the
// right secret before Unlock.
func EnvelopeKind(env []byte) (Kind, error) {
	e, err := decodeEnvelope(env)
	if err != nil {
		return 0, err
	}
	return e.Kind, nil
}
